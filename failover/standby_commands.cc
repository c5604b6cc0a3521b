#include "failover/standby_commands.h"

#include <atomic>
#include <memory>

#include "failover/coordinator.h"

namespace tandem {
namespace {

bool ParseSeconds(const std::string& s, int* out) {
  try {
    size_t used = 0;
    *out = std::stoi(s, &used);
    return used == s.size();
  } catch (...) {
    return false;
  }
}

Result<FailoverOptions> ParseFailoverArgs(const std::vector<std::string>& args) {
  FailoverOptions o;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](const char* what) -> Result<std::string> {
      if (i + 1 >= args.size()) return Status::InvalidArgument(a + " needs " + what);
      return args[++i];
    };
    if (a == "-y") {
      o.execute = true;
    } else if (a == "-m") {
      o.require_master = true;
    } else if (a == "-i") {
      o.ignore_master = true;
    } else if (a == "-s") {
      TANDEM_ASSIGN_OR_RETURN(o.master_id, value("a ServerID"));
    } else if (a == "-w" || a == "-v") {
      TANDEM_ASSIGN_OR_RETURN(std::string v, value("a number of seconds"));
      if (!ParseSeconds(v, a == "-w" ? &o.quiesce_secs : &o.verify_secs)) {
        return Status::InvalidArgument(a + " needs a number of seconds, not '" + v + "'");
      }
    } else if (!a.empty() && a[0] == '-') {
      return Status::InvalidArgument("unknown failover option '" + a + "'");
    } else {
      o.message += (o.message.empty() ? "" : " ") + a;
    }
  }
  if (o.require_master && (o.ignore_master || !o.master_id.empty())) {
    return Status::InvalidArgument("-m cannot be combined with -i or -s");
  }
  return o;
}

}  // namespace

void RegisterFailoverCommand(DownstreamNode* node, Dispatcher* d,
                             std::function<void()> on_promoted) {
  auto busy = std::make_shared<std::atomic<bool>>(false);
  // failback: the planned failover back to a rejoined old master; it needs
  // the current master to take part.
  for (std::string name : {"failover", "failback"}) {
    d->Register(
        name,
        {AccessLevel::kSuper, /*blocking=*/true, true,
         [node, busy, on_promoted, name](const RequestContext&, const auto& args, Reply reply) {
           auto options = ParseFailoverArgs(args);
           if (options.ok() && name == "failback") {
             if (options->ignore_master || !options->master_id.empty()) {
               options = Status::InvalidArgument("failback takes neither -i nor -s");
             } else {
               options->require_master = true;
             }
           }
           if (!options.ok()) {
             return reply(Response::Error(options.status().Annotate(
                 "usage: failover [-y] [-m | [-i] [-s MASTERID]] [-w SECS] [-v SECS] [MESSAGE]")));
           }
           if (busy->exchange(true)) {
             return reply(Response::Error(
                 Status::FailedPrecondition("another failover is already running on this server")));
           }
           FailoverReport report = Failover(node, *options).Run();
           busy->store(false);
           std::vector<Row> rows;
           for (const auto& line : report.lines) rows.push_back({{line.kind, line.text}});
           Response resp = Response::Rows(std::move(rows));
           if (!report.ok) {
             resp.status = Status::FailedPrecondition(report.lines.back().text);
           } else if (options->execute) {
             resp.after_send = on_promoted;
           }
           reply(std::move(resp));
         }});
  }
}

}  // namespace tandem
