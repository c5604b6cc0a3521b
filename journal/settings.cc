#include "journal/settings.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <mutex>
#include <set>
#include <sstream>
#include <vector>

#include "journal/address.h"
#include "journal/log.h"
#include "journal/numbers.h"
#include "journal/table_set.h"

namespace tandem {
namespace {

using Type = SettingType;
using Scope = SettingScope;
using When = SettingTakesEffect;

constexpr int64_t kDay = 86400;

// Sorted by name: docs/settings.md lists them in this order.
constexpr SettingDef kSettings[] = {
    {"commit.wait", Type::kChoice, "local", 0, 0, "local|mandatory", "", Scope::kReplicated,
     When::kAtOnce,
     "When a commit is acknowledged: `local` once durable on the master, `mandatory` once "
     "every mandatory standby has also flushed it."},
    {"commit.wait.timeout", Type::kNumber, "30", 0, 365 * kDay, "", "s", Scope::kReplicated,
     When::kAtOnce,
     "How long a `mandatory` commit waits for the mandatory standbys before it fails as "
     "`unconfirmed` (durable on the master, outcome unknown); 0 waits for ever."},
    {"failover.auto", Type::kChoice, "0", 0, 0, "0|1", "", Scope::kReplicated, When::kAtOnce,
     "1 on a mandatory standby (as SERVERID#failover.auto): it fails over by itself once its "
     "master has been silent for `failover.auto.seconds` and no other server heard it."},
    {"failover.auto.seconds", Type::kNumber, "10", 1, 3600, "", "s", Scope::kReplicated,
     When::kAtOnce, "How long the master must be silent before `failover.auto` acts."},
    {"journal.fsync", Type::kChoice, "always", 0, 0, "always|off", "", Scope::kReplicated,
     When::kAtOnce,
     "`always`: a commit batch is fdatasync'ed before it is acknowledged; `off`: the OS decides "
     "(a power loss can lose acknowledged writes)."},
    {"journal.prealloc", Type::kNumber, "67108864", 0, int64_t{1} << 34, "", "bytes",
     Scope::kReplicated, When::kAtRestart,
     "The master's live journal grows in steps of this many bytes (fallocate); 0 grows it with "
     "every write."},
    {"journal.retain", Type::kNumber, "7", 0, 1000000, "", "checkpoints", Scope::kReplicated,
     When::kAtOnce,
     "Checkpoints kept on the master (and the rotated journals they need); 0 keeps everything. "
     "A downstream server older than what is kept must reseed."},
    {"journalcopy.fsync", Type::kChoice, "always", 0, 0, "always|off", "", Scope::kLocal,
     When::kAtRestart,
     "`off`: a non-mandatory standby does not sync its journal copy (a mandatory one always "
     "does, since the master's acknowledgements count on it)."},
    {"log.level", Type::kChoice, "info", 0, 0, "debug|info|warning|error", "", Scope::kReplicated,
     When::kAtOnce, "Log lines below this level are not written."},
    {"metrics.address", Type::kAddressList, "", 0, 0, "", "", Scope::kLocal, When::kAtRestart,
     "HOST:PORT where the server answers HTTP: `/metrics` (Prometheus), `/healthz`, `/readyz`. "
     "Empty: no endpoint. `tandemd --metrics HOST:PORT` overrides it."},
    {"net.source", Type::kIpAddress, "", 0, 0, "", "", Scope::kLocal, When::kAtRestart,
     "The local IP address this server's own connections to other servers (journal streams, "
     "hellos, failover) leave from; empty: the kernel chooses. For a host with several "
     "addresses, where peers or firewalls expect one."},
    {"pull.u.threads", Type::kNumber, "4", 1, 64, "", "threads", Scope::kLocal, When::kAtRestart,
     "How many archive files a downstream server fetches at once."},
    {"ready.lag.bytes", Type::kNumber, "67108864", 0, int64_t{1} << 50, "", "bytes",
     Scope::kReplicated, When::kAtOnce,
     "A downstream server more than this far behind its master's durable position is not ready "
     "(`/readyz`, `tandem ping`); 0: any lag is ready."},
    {"rpl.heartbeat.ms", Type::kNumber, "200", 10, 60000, "", "ms", Scope::kReplicated,
     When::kNextStream, "An idle journal stream sends a heartbeat this often, both ways."},
    {"rpl.timeout.ms", Type::kNumber, "2000", 50, 3600000, "", "ms", Scope::kReplicated,
     When::kAtOnce,
     "A peer silent this long counts as gone: streams reconnect, downstream servers look for a "
     "newer master this often, a master asks its standbys for a newer epoch this often."},
    {"server.frame.timeout", Type::kNumber, "30", 1, 3600, "", "s", Scope::kReplicated,
     When::kAtRestart, "A request (or TLS handshake) must arrive whole within this time."},
    {"server.idle.timeout", Type::kNumber, "600", 1, 7 * kDay, "", "s", Scope::kReplicated,
     When::kAtRestart,
     "An idle client connection is closed after this time (10 s before it logs in)."},
    {"server.maxconnections", Type::kNumber, "1000", 1, 1000000, "", "connections",
     Scope::kReplicated, When::kAtRestart,
     "Client connections served at once; half of them at most before logging in."},
    {"service.password", Type::kSecret, "", 0, 0, "", "", Scope::kLocal, When::kAtRestart,
     "The password of `service.user` on the upstream."},
    {"service.user", Type::kText, "", 0, 0, "", "", Scope::kLocal, When::kAtRestart,
     "The service user a downstream server logs in as on a secured upstream (its spec's "
     "`User:`)."},
    {"target", Type::kAddressList, "", 0, 0, "", "", Scope::kLocal, When::kAtOnce,
     "How a downstream server reaches its upstream: `HOST:PORT[,HOST:PORT...]`, the servers that "
     "may be master. SERVERID#target in the replicated config (one address) overrides it."},
    {"ticket.timeout", Type::kNumber, "43200", 1, 3660 * kDay, "", "s", Scope::kReplicated,
     When::kAtOnce, "How long a login ticket lasts."},
    {"trigger.failed-over", Type::kText, "", 0, 0, "", "", Scope::kReplicated, When::kAtOnce,
     "A command the new master runs after a failover, with TANDEM_OLD_MASTER, "
     "TANDEM_NEW_MASTER_WAS, TANDEM_NEW_ADDRESS and TANDEM_EPOCH in its environment."},
};

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
      diagonal = above;
    }
  }
  return row[b.size()];
}

Status Unknown(std::string_view name) {
  const SettingDef* nearest = nullptr;
  size_t best = 0;
  for (const SettingDef& def : kSettings) {
    // A name cut short ("rpl.timeout") is as near as a typo.
    bool prefix = name.size() >= 4 && (def.name.starts_with(name) || name.starts_with(def.name));
    size_t d = prefix ? 1 : EditDistance(name, def.name);
    if (!nearest || d < best) nearest = &def, best = d;
  }
  std::string hint = nearest && best <= std::max<size_t>(2, name.size() / 4)
                         ? "; did you mean '" + std::string(nearest->name) + "'?"
                         : "";
  return Status::InvalidArgument("unknown setting '" + Escaped(name) + "'" + hint +
                                 " ('tandem configure show -a' lists every setting)");
}

bool Printable(std::string_view text) {
  return std::none_of(text.begin(), text.end(),
                      [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

std::string_view TypeName(const SettingDef& def) {
  switch (def.type) {
    case Type::kNumber:
      return "number";
    case Type::kChoice:
      return "choice";
    case Type::kText:
      return "text";
    case Type::kAddressList:
      return "addresses";
    case Type::kIpAddress:
      return "IP address";
    case Type::kSecret:
      return "secret";
  }
  return "";
}

// Settings are read often (some every 100 ms): one line per bad value.
void WarnOnce(const std::string& line) {
  static std::mutex mu;
  static std::set<std::string> warned;
  std::lock_guard lock(mu);
  if (warned.size() < 1000 && warned.insert(line).second) LogWarning() << line;
}

}  // namespace

std::string_view SettingTakesEffectName(SettingTakesEffect when) {
  switch (when) {
    case When::kAtOnce:
      return "at once";
    case When::kNextStream:
      return "new streams";
    case When::kAtRestart:
      return "at restart";
  }
  return "";
}

std::string_view SettingScopeName(SettingScope scope) {
  return scope == Scope::kLocal ? "local" : "replicated";
}

std::span<const SettingDef> AllSettings() { return kSettings; }

const SettingDef* FindSetting(std::string_view name) {
  for (const SettingDef& def : kSettings) {
    if (def.name == name) return &def;
  }
  return nullptr;
}

SettingKey SplitSettingKey(std::string_view key) {
  auto hash = key.find('#');
  if (hash == std::string_view::npos) return {"", std::string(key)};
  return {std::string(key.substr(0, hash)), std::string(key.substr(hash + 1))};
}

Status CheckSettingValue(const SettingDef& def, std::string_view value) {
  std::string name(def.name);
  std::string shown = def.type == Type::kSecret ? "(hidden)" : "'" + Escaped(value) + "'";
  switch (def.type) {
    case Type::kNumber: {
      auto v = ParseDecimal<int64_t>(value);
      if (v && *v >= def.min && *v <= def.max) return Status::Ok();
      std::string unit = def.unit == "s"    ? "seconds"
                         : def.unit == "ms" ? "milliseconds"
                                            : std::string(def.unit);
      return Status::InvalidArgument(
          name + " must be a whole number" + (unit.empty() ? "" : " of " + unit) + " in " +
          std::to_string(def.min) + ".." + std::to_string(def.max) + ", not " + shown);
    }
    case Type::kChoice: {
      std::string_view rest = def.choices;
      while (!rest.empty()) {
        auto bar = std::min(rest.find('|'), rest.size());
        if (rest.substr(0, bar) == value) return Status::Ok();
        rest.remove_prefix(std::min(bar + 1, rest.size()));
      }
      return Status::InvalidArgument(name + " must be one of " + std::string(def.choices) +
                                     ", not " + shown);
    }
    case Type::kAddressList: {
      auto list = ParseAddressList(std::string(value));
      if (list.ok()) return Status::Ok();
      return Status::InvalidArgument(name + " must be HOST:PORT[,HOST:PORT...], not " + shown +
                                     ": " + list.status().message());
    }
    case Type::kIpAddress: {
      unsigned char ignored[sizeof(in6_addr)];
      std::string text(value);
      if (text.empty() || ::inet_pton(AF_INET, text.c_str(), ignored) == 1 ||
          ::inet_pton(AF_INET6, text.c_str(), ignored) == 1) {
        return Status::Ok();
      }
      return Status::InvalidArgument(name + " must be an IP address (no port), not " + shown);
    }
    case Type::kText:
    case Type::kSecret:
      if (Printable(value)) return Status::Ok();
      return Status::InvalidArgument(name + " may not hold control characters");
  }
  return Status::Ok();
}

Status CheckReplicatedSetting(std::string_view key, std::string_view value) {
  SettingKey k = SplitSettingKey(key);
  if (key.find('#') != std::string_view::npos && (k.server_id.empty() || !Printable(k.server_id))) {
    return Status::InvalidArgument("'" + Escaped(key) +
                                   "' names no server before '#' (SERVERID#NAME)");
  }
  const SettingDef* def = FindSetting(k.name);
  if (!def) return Unknown(k.name);
  if (def->scope == Scope::kLocal) {
    if (def->name == "target" && !k.server_id.empty()) {
      // The replicated override: one address, the server's upstream.
      auto a = Address::Parse(std::string(value));
      if (a.ok()) return Status::Ok();
      return Status::InvalidArgument(Escaped(key) + " must be HOST:PORT, not '" + Escaped(value) +
                                     "': " + a.status().message());
    }
    return Status::InvalidArgument(
        std::string(def->name) +
        " is local to each server (ROOT/config.local): set it with "
        "'tandemd -r ROOT -cset " +
        std::string(def->name) + "=VALUE' on that server" +
        (def->name == "target" ? ", or override it here as SERVERID#target" : ""));
  }
  return CheckSettingValue(*def, value);
}

Status CheckLocalSetting(std::string_view name, std::string_view value) {
  const SettingDef* def = FindSetting(name);
  if (!def) return Unknown(name);
  if (def->scope != Scope::kLocal) {
    return Status::InvalidArgument(std::string(name) + " is a replicated setting, not a local one");
  }
  if (value.empty()) return Status::Ok();  // removes it
  return CheckSettingValue(*def, value);
}

std::string SettingValue(const Tables& tables, std::string_view server_id, std::string_view name) {
  const SettingDef* def = FindSetting(name);
  std::string fallback = def ? std::string(def->fallback) : "";
  std::string key = std::string(server_id) + "#" + std::string(name);
  auto stored = server_id.empty() ? std::nullopt : tables.Get(kConfigTable, key);
  if (!stored) stored = tables.Get(kConfigTable, name);
  if (!stored) return fallback;
  if (def) {
    if (Status st = CheckSettingValue(*def, *stored); !st.ok()) {
      WarnOnce(st.message() + "; using " + (fallback.empty() ? "none" : fallback));
      return fallback;
    }
  }
  return *stored;
}

int64_t SettingNumber(const Tables& tables, std::string_view server_id, std::string_view name) {
  return ParseDecimal<int64_t>(SettingValue(tables, server_id, name)).value_or(0);
}

void ApplyLogLevel(const Tables& tables, std::string_view server_id) {
  std::string level = SettingValue(tables, server_id, "log.level");
  SetLogLevel(level == "debug"     ? LogLevel::kDebug
              : level == "warning" ? LogLevel::kWarning
              : level == "error"   ? LogLevel::kError
                                   : LogLevel::kInfo);
}

std::string SettingsMarkdown() {
  std::ostringstream out;
  out << "# Settings\n\n"
         "Generated from `journal/settings.cc` (`tandemd --settings`); a test checks that this\n"
         "file matches it.\n\n"
         "Replicated settings live in the master's `config` table and reach every server:\n"
         "`tandem configure set NAME=VALUE` for all of them, `SERVERID#NAME=VALUE` for one\n"
         "server (it wins over NAME). Local settings live in `ROOT/config.local` of one\n"
         "server: `tandemd -r ROOT -cset NAME=VALUE` (an empty value removes it). Both refuse\n"
         "unknown names and values outside what is listed here; `tandem configure show -a`\n"
         "prints every setting with its value, its default and where the value comes from,\n"
         "on every kind of server. A value stored by an older version that is no longer\n"
         "allowed is logged and the default used.\n\n"
         "| setting | type | default | allowed | scope | takes effect | what it does |\n"
         "| --- | --- | --- | --- | --- | --- | --- |\n";
  for (const SettingDef& def : kSettings) {
    std::string allowed;
    if (def.type == Type::kNumber) {
      allowed = std::to_string(def.min) + ".." + std::to_string(def.max) +
                (def.unit.empty() ? "" : " " + std::string(def.unit));
    } else if (def.type == Type::kChoice) {
      allowed = std::string(def.choices);
      std::replace(allowed.begin(), allowed.end(), '|', ' ');
    }
    out << "| `" << def.name << "` | " << TypeName(def) << " | "
        << (def.fallback.empty() ? "" : "`" + std::string(def.fallback) + "`") << " | " << allowed
        << " | " << SettingScopeName(def.scope) << " | " << SettingTakesEffectName(def.takes_effect)
        << " | " << def.description << " |\n";
  }
  return out.str();
}

}  // namespace tandem
