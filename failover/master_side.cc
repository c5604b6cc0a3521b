#include "failover/master_side.h"

#include <algorithm>
#include <cstdlib>

#include "failover/failover_state.h"
#include "failover/journal_digest.h"
#include "journal/file.h"
#include "journal/log.h"
#include "journal/server_identity.h"
#include "replica/journal_streamer.h"
#include "replica/server_spec.h"

namespace tandem {
namespace {

Response Error(Status st) { return Response::Error(std::move(st)); }

bool ParseMillis(const std::string& s, std::chrono::milliseconds* out) {
  try {
    size_t used = 0;
    long long v = std::stoll(s, &used);
    if (used != s.size() || v < 0) return false;
    *out = std::chrono::milliseconds(v);
    return true;
  } catch (...) {
    return false;
  }
}

}  // namespace

FailoverParticipant::FailoverParticipant(Engine* engine, ReplicationHub* hub,
                                         std::function<void()> stop_server)
    : engine_(engine), hub_(hub), stop_server_(std::move(stop_server)) {
  lease_thread_ = std::thread([this] { WatchLease(); });
}

FailoverParticipant::~FailoverParticipant() {
  {
    std::lock_guard lock(mu_);
    closing_ = true;
  }
  cv_.notify_all();
  lease_thread_.join();
}

bool FailoverParticipant::TidyStateFailover() {
  const RootLayout& layout = engine_->layout();
  auto rec = ReadFailoverRecord(layout);
  if (!rec.ok() || !*rec) return true;
  if ((*rec)->phase != FailoverPhase::kComplete) return false;
  std::vector<DownstreamStatus> connected = hub_->Downstream();
  for (const ServerSpec& spec : LoadServerSpecs(engine_->tables())) {
    if (spec.type == ServerType::kStandard || spec.id == engine_->server_id() ||
        spec.id == (*rec)->standby_id) {
      continue;
    }
    bool back = std::any_of(connected.begin(), connected.end(), [&](const DownstreamStatus& d) {
      return d.id == spec.id && d.connected;
    });
    if (!back) return false;
  }
  if (Status st = RemoveDurably(layout.statefailover()); !st.ok()) {
    LogWarning() << "cannot remove statefailover: " << st.message();
    return false;
  }
  LogInfo() << "failover: every downstream server has reconnected; statefailover removed";
  return true;
}

void FailoverParticipant::WatchLease() {
  std::unique_lock lock(mu_);
  bool tidy = false;
  while (!closing_) {
    if (!tidy) {
      lock.unlock();
      tidy = TidyStateFailover();
      lock.lock();
    }
    if (paused_by_.empty() || fenced_) {
      if (tidy) {
        cv_.wait(lock);
      } else {
        cv_.wait_for(lock, std::chrono::seconds(1));
      }
      continue;
    }
    if (cv_.wait_until(lock, lease_end_) == std::cv_status::timeout && !paused_by_.empty() &&
        !fenced_ && std::chrono::steady_clock::now() >= lease_end_) {
      LogWarning() << "failover by '" << paused_by_
                   << "' neither finished nor rolled back in time: accepting commits again";
      paused_by_.clear();
      engine_->Resume();
    }
  }
}

void FailoverParticipant::Register(Dispatcher* d) {
  d->Register(
      "failover-master",
      {AccessLevel::kService, /*blocking=*/true, true,
       [this](const RequestContext&, const auto& args, Reply reply) {
         std::string sub = args.empty() ? "" : args[0];
         std::vector<std::string> rest(args.begin() + (args.empty() ? 0 : 1), args.end());
         if (sub == "pause") return reply(Pause(rest));
         if (sub == "resume") return reply(Resume(rest));
         if (sub == "stop") return reply(Stop(rest));
         if (sub == "newer") return reply(Newer(rest));
         reply(Error(Status::InvalidArgument(
             "usage: failover-master pause|resume|stop|newer ... (sent by standbys, replicas)")));
       }});
}

Response FailoverParticipant::Pause(const std::vector<std::string>& args) {
  std::chrono::milliseconds wait, lease;
  if (args.size() != 4 || !ParseMillis(args[1], &wait) || !ParseMillis(args[2], &lease)) {
    return Error(
        Status::InvalidArgument("usage: failover-master pause STANDBY WAIT_MS LEASE_MS MESSAGE"));
  }
  const std::string& standby = args[0];
  {
    std::lock_guard lock(mu_);
    if (fenced_) return Error(Status::FailedPrecondition("this master is already failed over"));
    if (!paused_by_.empty() && paused_by_ != standby) {
      return Error(
          Status::FailedPrecondition("a failover to '" + paused_by_ + "' is already in progress"));
    }
    paused_by_ = standby;
    lease_end_ = std::chrono::steady_clock::now() + lease;
  }
  cv_.notify_all();
  LogWarning() << "failover to '" << standby << "': refusing new commits (" << args[3] << ")";
  // Commits already handed to the journal writer cannot be stalled; they
  // finish within a group commit, so they get a little longer than -w.
  auto final_pos = engine_->Pause(args[3], wait + std::chrono::seconds(2));
  if (!final_pos.ok()) {
    // The standby rolls back on this error; resume at once rather than at
    // the end of the lease.
    std::lock_guard lock(mu_);
    paused_by_.clear();
    engine_->Resume();
    return Error(final_pos.status().Annotate("the master could not quiesce"));
  }
  auto path = MasterJournalPath(*engine_, final_pos->journal);
  if (!path.ok()) return Error(path.status());
  auto digest = JournalPrefixDigest(*path, final_pos->offset);
  if (!digest.ok()) return Error(digest.status());
  {
    std::lock_guard lock(mu_);
    paused_at_ = *final_pos;
  }
  LogInfo() << "failover to '" << standby << "': quiesced at " << final_pos->ToString();
  return Response::Rows({{{"serverID", engine_->server_id()},
                          {"epoch", std::to_string(engine_->epoch().value)},
                          {"position", final_pos->Token()},
                          {"digest", *digest}}});
}

Response FailoverParticipant::Resume(const std::vector<std::string>& args) {
  std::lock_guard lock(mu_);
  if (args.size() != 1) return Error(Status::InvalidArgument("usage: failover-master resume ID"));
  if (fenced_) return Error(Status::FailedPrecondition("this master is already failed over"));
  if (paused_by_ != args[0]) return Response::Rows({{{"resumed", "not paused"}}});
  paused_by_.clear();
  engine_->Resume();
  LogWarning() << "failover to '" << args[0] << "' rolled back: accepting commits again";
  return Response::Rows({{{"resumed", "yes"}}});
}

Response FailoverParticipant::Stop(const std::vector<std::string>& args) {
  Position at;
  if (args.size() != 2 || !Position::ParseToken(args[1], &at)) {
    return Error(Status::InvalidArgument("usage: failover-master stop STANDBY N/S"));
  }
  std::lock_guard lock(mu_);
  // After the lease the standby may already have rolled back: a stop that
  // arrives that late (delayed, or we were stalled) must not take effect.
  if (!paused_by_.empty() && std::chrono::steady_clock::now() >= lease_end_) {
    paused_by_.clear();
    engine_->Resume();
  }
  if (paused_by_ != args[0] || at != paused_at_ || engine_->durable() != at) {
    return Error(Status::FailedPrecondition(
        "not stopping: this master is no longer paused for '" + args[0] + "' at " + at.Token() +
        " (its lease may have run out); the standby must roll back"));
  }
  ServerIdentity identity{engine_->server_id(), "failed over to '" + args[0] + "' at " +
                                                    at.Token() + " (epoch " +
                                                    std::to_string(engine_->epoch().value) + ")"};
  if (Status st = WriteServerIdentity(engine_->layout(), identity); !st.ok()) {
    return Error(st.Annotate("cannot fence server.id"));
  }
  fenced_ = true;
  LogWarning() << "failover to '" << args[0] << "': server.id fenced; stopping";
  Response resp = Response::Rows({{{"stopped", engine_->server_id()}}});
  resp.after_send = stop_server_;
  return resp;
}

Response FailoverParticipant::Newer(const std::vector<std::string>& args) {
  uint32_t newer = 0;
  if (args.size() != 2 || (newer = static_cast<uint32_t>(std::atol(args[0].c_str()))) == 0) {
    return Error(Status::InvalidArgument("usage: failover-master newer EPOCH FROM"));
  }
  const uint32_t ours = engine_->epoch().value;
  if (newer <= ours) {
    return Error(Status::FailedPrecondition(
        "epoch " + args[0] + " is not newer than this master's " + std::to_string(ours)));
  }
  std::string why = "a master of epoch " + args[0] + " exists (reported by '" + args[1] +
                    "'); this master of epoch " + std::to_string(ours) + " is stale";
  std::lock_guard lock(mu_);
  if (!fenced_) {
    fenced_ = true;
    LogError() << why << ": refusing all commits and fencing server.id";
    (void)engine_->Pause(why, std::chrono::milliseconds(0));  // refuses from now on
    if (Status st = WriteServerIdentity(engine_->layout(), {engine_->server_id(), why}); !st.ok()) {
      LogError() << "cannot fence server.id: " << st.message();
    }
  }
  return Response::Rows({{{"fenced", engine_->server_id()}}});
}

}  // namespace tandem
