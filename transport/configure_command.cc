#include "transport/configure_command.h"

#include "journal/log.h"
#include "transport/engine_commands.h"

namespace tandem {
namespace {

constexpr size_t kShowLimit = 100000;

Status Usage() {
  return Status::InvalidArgument(
      "usage: configure set [SERVERID#]NAME=VALUE | unset [SERVERID#]NAME | show [-a]");
}

// Every registered setting as it stands for this server, then what the
// config table holds that no setting reads.
std::vector<Row> ShowAll(const ConfigureScope& scope) {
  std::map<std::string, std::string> local = scope.local ? scope.local() : decltype(local){};
  std::vector<Row> rows;
  for (const SettingDef& def : AllSettings()) {
    std::string value(def.fallback), source = "default";
    auto take = [&](std::optional<std::string> v, std::string from) {
      if (!v || !CheckSettingValue(def, *v).ok()) return false;
      value = std::move(*v), source = std::move(from);
      return true;
    };
    if (def.scope == SettingScope::kLocal) {
      bool overridden =
          def.name == "target" && take(scope.tables->Get(kConfigTable, scope.server_id + "#target"),
                                       scope.server_id + "#target");
      if (!overridden) {
        auto it = local.find(std::string(def.name));
        take(it == local.end() ? std::nullopt : std::optional(it->second), "config.local");
      }
    } else if (!take(scope.tables->Get(kConfigTable, scope.server_id + "#" + std::string(def.name)),
                     scope.server_id + "#" + std::string(def.name))) {
      take(scope.tables->Get(kConfigTable, def.name), "config");
    }
    if (def.type == SettingType::kSecret && !value.empty()) value = "(hidden)";
    rows.push_back({{"name", std::string(def.name)},
                    {"value", value},
                    {"default", std::string(def.fallback)},
                    {"source", source},
                    {"scope", std::string(SettingScopeName(def.scope))},
                    {"takesEffect", std::string(SettingTakesEffectName(def.takes_effect))}});
  }
  for (auto& [key, value] : scope.tables->Scan(kConfigTable, "", kShowLimit)) {
    SettingKey k = SplitSettingKey(key);
    const SettingDef* def = FindSetting(k.name);
    std::string why = !def                                   ? "unknown: ignored"
                      : !CheckSettingValue(*def, value).ok() ? "not allowed: the default is used"
                                                             : "";
    if (!why.empty()) {
      rows.push_back({{"name", key},
                      {"value", value},
                      {"default", def ? std::string(def->fallback) : ""},
                      {"source", "config (" + why + ")"},
                      {"scope", "replicated"},
                      {"takesEffect", ""}});
    }
  }
  return rows;
}

}  // namespace

void RegisterConfigureCommand(Dispatcher* d, ConfigureScope scope) {
  d->Register(
      "configure",
      {AccessLevel::kSuper, false, true,
       [scope = std::move(scope)](const RequestContext& ctx, const auto& args, Reply reply) {
         if (args.size() == 1 && args[0] == "show") {
           std::vector<Row> rows;
           for (auto& [k, v] : scope.tables->Scan(kConfigTable, "", kShowLimit)) {
             rows.push_back({{"name", k}, {"value", v}});
           }
           return reply(Response::Rows(std::move(rows)));
         }
         if (args.size() == 2 && args[0] == "show" && args[1] == "-a") {
           return reply(Response::Rows(ShowAll(scope)));
         }
         if (args.size() != 2 || (args[0] != "set" && args[0] != "unset")) {
           return reply(Response::Error(Usage()));
         }
         if (!scope.engine) return reply(Response::Error(scope.read_only()));
         if (args[0] == "unset") {
           LogInfo() << "configure unset " << args[1] << " by " << ctx.identity.user << " from "
                     << ctx.peer;
           return CommitAndReply(scope.engine, {{Op::Delete(std::string(kConfigTable), args[1])}},
                                 std::move(reply));
         }
         auto eq = args[1].find('=');
         if (eq == std::string::npos || eq == 0) return reply(Response::Error(Usage()));
         std::string key = args[1].substr(0, eq), value = args[1].substr(eq + 1);
         if (Status st = CheckReplicatedSetting(key, value); !st.ok()) {
           return reply(Response::Error(st));
         }
         LogInfo() << "configure set " << key << "=" << value << " by " << ctx.identity.user
                   << " from " << ctx.peer;
         CommitAndReply(scope.engine, {{Op::Put(std::string(kConfigTable), key, value)}},
                        std::move(reply));
       }});
}

}  // namespace tandem
