#include "failover/standby_commands.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>

#include "failover/coordinator.h"
#include "failover/peer_views.h"
#include "failover/progress_stream.h"
#include "journal/engine.h"
#include "journal/fault_point.h"
#include "journal/log.h"
#include "journal/numbers.h"

namespace tandem {
namespace {

bool ParseSeconds(const std::string& s, int* out) {
  auto v = ParseDecimal<int>(s);
  if (v) *out = *v;
  return v.has_value();
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
    } else if (a == "--force") {
      o.force = true;
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

StandbyFailover::StandbyFailover(DownstreamNode* node, std::function<std::string()> address,
                                 std::function<void()> on_promoted)
    : node_(node), address_(std::move(address)), on_promoted_(std::move(on_promoted)) {}

StandbyFailover::~StandbyFailover() { StopWatching(); }

void StandbyFailover::StopWatching() {
  cancelled_ = true;  // a failover still running rolls back at its next step
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (watch_.joinable()) watch_.join();
}

std::optional<FailoverReport> StandbyFailover::Run(FailoverOptions options,
                                                   Failover::Observer observer) {
  std::unique_lock lock(run_mu_, std::try_to_lock);
  if (!lock.owns_lock()) return std::nullopt;
  options.address = address_();
  options.cancelled = [this] { return cancelled_.load(); };
  FailoverReport report = Failover(node_, options, std::move(observer)).Run();
  if (report.ok && options.execute) on_promoted_();
  return report;
}

void StandbyFailover::Register(Dispatcher* d) {
  // failback: the planned failover back to a rejoined old master; it needs
  // the current master to take part.
  for (std::string name : {"failover", "failback"}) {
    d->Register(
        name,
        {AccessLevel::kSuper, /*blocking=*/true, true,
         [this, name](const RequestContext&, const auto& args, Reply reply) {
           auto options = ParseFailoverArgs(args);
           if (options.ok() && name == "failback") {
             if (options->ignore_master || !options->master_id.empty() || options->force) {
               options = Status::InvalidArgument("failback takes neither -i, -s nor --force");
             } else {
               options->require_master = true;
             }
           }
           if (!options.ok()) {
             return reply(Response::Error(
                 options.status().Annotate("usage: failover [-y] [-m | [-i] [-s MASTERID]] "
                                           "[--force] [-w SECS] [-v SECS] [MESSAGE]")));
           }
           options->address = address_();
           options->cancelled = [this] { return cancelled_.load(); };
           std::unique_lock running(run_mu_, std::try_to_lock);
           if (!running.owns_lock()) {
             return reply(Response::Error(
                 Status::FailedPrecondition("another failover is already running on this server")));
           }
           if (options->execute) {
             // Steps reach the client as they start.
             auto progress = std::make_shared<FailoverProgress>(on_promoted_);
             reply(Response{Status::Ok(), {{{"progress", "1"}}}, nullptr, progress});
             FailoverReport report = Failover(node_, *options, [&](const FailoverLine& line) {
                                       progress->Line(line);
                                     }).Run();
             return progress->Finish(
                 report.ok ? Status::Ok() : Status::FailedPrecondition(report.lines.back().text),
                 report.ok);
           }
           std::optional<FailoverReport> report = Failover(node_, *options).Run();
           std::vector<Row> rows;
           for (const auto& line : report->lines) rows.push_back({{line.kind, line.text}});
           Response resp = Response::Rows(std::move(rows));
           if (!report->ok) {
             resp.status = Status::FailedPrecondition(report->lines.back().text);
           }
           reply(std::move(resp));
         }});
  }
}

void StandbyFailover::StartAutoWatch() {
  watch_ = std::thread([this] { WatchMaster(); });
}

void StandbyFailover::WatchMaster() {
  auto heard = std::chrono::steady_clock::now();
  std::unique_lock lock(mu_);
  while (!cv_.wait_for(lock, std::chrono::milliseconds(100), [this] { return stopping_; })) {
    const Tables& tables = node_->tables();
    const std::string& id = node_->server_id();
    CopierStatus up = node_->upstream_status();
    // A master this server hears but cannot copy from (its own disk is
    // full) is not silent; and such a server must not become master.
    if (up.connected || up.local_error) heard = std::chrono::steady_clock::now();
    if (SettingValue(tables, id, "failover.auto") != "1") continue;
    const auto window = std::chrono::seconds(SettingNumber(tables, id, "failover.auto.seconds"));
    auto silent = std::chrono::steady_clock::now() - heard;
    if (silent < window) continue;
    lock.unlock();
    std::string alive =
        MasterHeardByOthers(tables, id, address_(), node_->highest_epoch().value, window,
                            RplTimeout(tables, id), node_->upstream().client.source);
    lock.lock();
    if (!alive.empty()) {
      if (alive != last_refusal_) LogWarning() << "failover.auto: not failing over: " << alive;
      last_refusal_ = alive;
      heard = std::chrono::steady_clock::now() - window + std::chrono::seconds(1);  // ask again
      continue;
    }
    last_refusal_.clear();
    LogWarning() << "failover.auto: the master has been silent for "
                 << std::chrono::duration_cast<std::chrono::seconds>(silent).count()
                 << " s; failing over";
    TANDEM_FAULT_POINT("failover.auto.decided");
    FailoverOptions options;
    options.execute = true;
    options.only_without_master = true;
    options.message = "automatic failover: the master was silent";
    lock.unlock();
    auto report = Run(options);
    lock.lock();
    if (report && report->ok) return;          // promoted
    heard = std::chrono::steady_clock::now();  // try again after another quiet spell
  }
}

}  // namespace tandem
