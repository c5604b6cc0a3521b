#include "failover/master_side.h"

#include <algorithm>

#include "failover/failover_state.h"
#include "failover/journal_digest.h"
#include "failover/newer_master_probe.h"
#include "journal/fault_point.h"
#include "journal/file.h"
#include "journal/log.h"
#include "journal/numbers.h"
#include "journal/server_identity.h"
#include "replica/failover_history.h"
#include "replica/journal_copier.h"
#include "replica/journal_streamer.h"
#include "replica/local_config.h"
#include "replica/server_spec.h"
#include "transport/auth.h"
#include "transport/hello.h"

namespace tandem {
namespace {

using std::chrono::milliseconds;

Response Error(Status st) { return Response::Error(std::move(st)); }

// A connection to another server as this root's service user (config.local),
// trusting its key on first use, as downstream servers do.
Result<UpstreamConnection> ConnectTo(const Engine& engine, const std::string& address) {
  TANDEM_ASSIGN_OR_RETURN(Address target, Address::Parse(address));
  return ConnectUpstream(UpstreamFor(engine.layout(), target));
}

// A ServerID or an address written into server.id: one line, no spaces.
Status CheckToken(std::string_view what, std::string_view value) {
  bool bad = value.size() > 256 || std::any_of(value.begin(), value.end(), [](unsigned char c) {
               return c <= 0x20 || c == 0x7f;
             });
  if (bad) return Status::InvalidArgument("bad " + std::string(what));
  return Status::Ok();
}

}  // namespace

FailoverParticipant::FailoverParticipant(Engine* engine, ReplicationHub* hub,
                                         std::function<std::string()> address)
    : engine_(engine),
      hub_(hub),
      address_(std::move(address)),
      source_(ReadLocalConfig(engine->layout())["net.source"]) {}

void FailoverParticipant::Start() {
  // The first probe is the server's own, before it serves (node/incarnation).
  next_probe_ =
      std::chrono::steady_clock::now() + RplTimeout(engine_->tables(), engine_->server_id());
  housekeeping_ = std::thread([this] { Housekeeping(); });
}

FailoverParticipant::~FailoverParticipant() {
  {
    std::lock_guard lock(mu_);
    closing_ = true;
  }
  cv_.notify_all();
  if (housekeeping_.joinable()) housekeeping_.join();
}

bool FailoverParticipant::TidyStateFailover() {
  const RootLayout& layout = engine_->layout();
  auto rec = ReadFailoverRecord(layout);
  if (!rec.ok() || !*rec) return true;
  if ((*rec)->phase != FailoverPhase::kComplete || !(*rec)->tell_address.empty()) return false;
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

void FailoverParticipant::TellOldMaster() {
  auto rec = ReadFailoverRecord(engine_->layout());
  if (!rec.ok() || !*rec || (*rec)->phase != FailoverPhase::kComplete ||
      (*rec)->tell_address.empty()) {
    return;
  }
  FailoverRecord r = **rec;
  auto forget = [&](const std::string& why) {
    LogWarning() << "failover: the old master at " << r.tell_address << " " << why;
    r.tell_address.clear();
    if (Status st = WriteFailoverRecord(engine_->layout(), r); !st.ok()) {
      LogWarning() << "cannot update statefailover: " << st.message();
    }
  };
  // Whatever answers there now may no longer be an old master: it fenced
  // itself, or it was rejoined as a standby.
  auto there = Address::Parse(r.tell_address);
  if (!there.ok()) return forget("is not an address");
  auto hello = SayHello(*there, RplTimeout(engine_->tables(), engine_->server_id()), source_);
  if (!hello.ok()) return;  // tried again shortly
  if (!hello->is_master() || hello->epoch >= engine_->epoch().value) {
    return forget("knows: it answers as " + hello->role + " of epoch " +
                  std::to_string(hello->epoch));
  }
  auto conn = ConnectTo(*engine_, r.tell_address);
  if (!conn.ok()) return;  // tried again shortly
  std::vector<std::string> newer = {
      "failover-master", "newer",    std::to_string(engine_->epoch().value),
      r.standby_id,      address_(), "took-over"};
  auto told = conn->client->Call({conn->user, conn->ticket, newer}, milliseconds(5000));
  if (told.ok() && told->status.code() == Code::kInvalidArgument) {
    newer.pop_back();  // a master older than "took-over"
    told = conn->client->Call({conn->user, conn->ticket, newer}, milliseconds(5000));
  }
  if (!told.ok()) return;
  if (!told->status.ok() && told->status.code() != Code::kFenced) {
    if (told->status.message() != last_tell_refusal_) {
      LogWarning() << "failover: the old master at " << r.tell_address
                   << " refused to fence itself: " << told->status.message();
    }
    last_tell_refusal_ = told->status.message();
    return;
  }
  forget("was told it is stale and refuses writes");
}

void FailoverParticipant::ProbeForNewerMaster() {
  if (engine_->fence()) return;
  auto timeout = RplTimeout(engine_->tables(), engine_->server_id());
  std::optional<ServerIdentity> identity = FindNewerMaster(*engine_, address_(), timeout, source_);
  if (!identity) return;
  LogError() << identity->fence << ": refusing all commits and fencing server.id";
  if (Status st = engine_->Fence(*identity); !st.ok()) {
    LogError() << "cannot fence: " << st.message();
    return;
  }
  hub_->CloseStreams("this master is stale");
  hub_->FailWaiting(hub_->Serving());
}

void FailoverParticipant::Housekeeping() {
  std::unique_lock lock(mu_);
  bool tidy = false;
  while (!closing_) {
    lock.unlock();
    if (!tidy) {
      TellOldMaster();
      tidy = TidyStateFailover();
    }
    auto now = std::chrono::steady_clock::now();
    if (now >= next_probe_) {
      ProbeForNewerMaster();
      now = std::chrono::steady_clock::now();
      next_probe_ = now + RplTimeout(engine_->tables(), engine_->server_id());
    }
    lock.lock();
    if (paused_by_.empty() || quiescing_) {
      auto until = next_probe_;
      if (!tidy || quiescing_) until = std::min(until, now + std::chrono::seconds(1));
      if (!closing_) cv_.wait_until(lock, until);
      continue;
    }
    if (cv_.wait_until(lock, std::min(lease_end_, next_probe_)) == std::cv_status::timeout &&
        !paused_by_.empty() && std::chrono::steady_clock::now() >= lease_end_) {
      LogWarning() << "failover by '" << paused_by_
                   << "' neither finished nor rolled back in time: accepting commits again";
      paused_by_.clear();
      engine_->Resume();
    }
  }
}

Status FailoverParticipant::CheckCaller(const RequestContext& ctx,
                                        const std::string& standby) const {
  auto spec = LoadServerSpec(engine_->tables(), standby);
  if (!spec || !spec->is_standby() || spec->replicating_from != engine_->server_id()) {
    return Status::PermissionDenied(
        "'" + standby + "' is not a standby replicating from '" + engine_->server_id() +
        "' (its spec needs Services: standby and ReplicatingFrom: " + engine_->server_id() + ")");
  }
  bool secured = HasUsers(engine_->tables());
  if (secured && ctx.identity.level != AccessLevel::kSuper && spec->user != ctx.identity.user) {
    return Status::PermissionDenied("user '" + ctx.identity.user + "' may not act for standby '" +
                                    standby + "': its spec names " +
                                    (spec->user.empty() ? "no User" : "User " + spec->user));
  }
  return Status::Ok();
}

void FailoverParticipant::Register(Dispatcher* d) {
  d->ReserveTable(std::string(kFailoverTable), "failover");
  d->Register("failover-master",
              {AccessLevel::kService, /*blocking=*/true, true,
               [this](const RequestContext& ctx, const auto& args, Reply reply) {
                 std::string sub = args.empty() ? "" : args[0];
                 std::vector<std::string> rest(args.begin() + (args.empty() ? 0 : 1), args.end());
                 if (sub == "pause") return reply(Pause(ctx, rest));
                 if (sub == "resume") return reply(Resume(ctx, rest));
                 if (sub == "stop") return reply(Stop(ctx, rest));
                 if (sub == "ignore") return reply(Ignore(ctx, rest));
                 if (sub == "status") return reply(Report(ctx, rest));
                 if (sub == "newer") return reply(Newer(ctx, rest));
                 reply(Error(Status::InvalidArgument(
                     "usage: failover-master pause|resume|stop|ignore|status|newer ... (sent by "
                     "standbys)")));
               }});
}

std::string FailoverParticipant::FailoverId() const {
  // The epoch the failover begins: the id the standby's lines carry too.
  return tandem::FailoverId(Epoch{engine_->epoch().value + 1});
}

Response FailoverParticipant::Pause(const RequestContext& ctx,
                                    const std::vector<std::string>& args) {
  if (args.size() != 4) {
    return Error(
        Status::InvalidArgument("usage: failover-master pause STANDBY WAIT_MS LEASE_MS MESSAGE"));
  }
  auto wait_ms = ParseDecimal<int64_t>(args[1], "WAIT_MS");
  auto lease_ms = ParseDecimal<int64_t>(args[2], "LEASE_MS");
  if (!wait_ms.ok()) return Error(wait_ms.status());
  if (!lease_ms.ok()) return Error(lease_ms.status());
  milliseconds wait(*wait_ms), lease(*lease_ms);
  if (wait.count() < 0 || wait > kMaxLease || lease < milliseconds(1000) || lease > kMaxLease) {
    return Error(Status::InvalidArgument("WAIT_MS is 0.." + std::to_string(kMaxLease.count()) +
                                         " and LEASE_MS (counted once quiesced) 1000.." +
                                         std::to_string(kMaxLease.count())));
  }
  const std::string& standby = args[0];
  if (Status st = CheckCaller(ctx, standby); !st.ok()) return Error(st);
  if (auto fence = engine_->fence())
    return Error(Status::Fenced("already fenced: " + fence->fence));
  {
    std::lock_guard lock(mu_);
    if (!paused_by_.empty() && paused_by_ != standby) {
      return Error(
          Status::FailedPrecondition("a failover to '" + paused_by_ + "' is already in progress"));
    }
    paused_by_ = standby;
    quiescing_ = true;  // the lease starts once quiesced
  }
  LogWarning() << FailoverId() << " to '" << standby << "': refusing new commits (" << args[3]
               << ")";
  // Commits already handed to the journal writer cannot be stalled; they
  // finish within a group commit, so they get a little longer than -w.
  auto final_pos = engine_->Pause(args[3], wait + std::chrono::seconds(2));
  auto undo = [&](const Status& why) {
    // The standby rolls back on this error; resume at once rather than at
    // the end of a lease.
    std::lock_guard lock(mu_);
    quiescing_ = false;
    if (paused_by_ == standby) {
      paused_by_.clear();
      engine_->Resume();
    }
    return Error(why);
  };
  if (!final_pos.ok()) return undo(final_pos.status().Annotate("the master could not quiesce"));
  auto path = MasterJournalPath(*engine_, final_pos->journal);
  if (!path.ok()) return undo(path.status());
  auto digest = JournalPrefixDigest(*path, final_pos->offset);
  if (!digest.ok()) return undo(digest.status());
  TANDEM_FAULT_POINT("failover-master.paused");  // paused; the standby does not know where
  {
    std::lock_guard lock(mu_);
    quiescing_ = false;
    if (paused_by_ != standby) {  // resumed meanwhile
      engine_->Resume();
      return Error(Status::FailedPrecondition("the pause was undone while it was being taken"));
    }
    paused_at_ = *final_pos;
    lease_end_ = std::chrono::steady_clock::now() + lease;
  }
  cv_.notify_all();
  LogInfo() << FailoverId() << " to '" << standby << "': quiesced at " << final_pos->ToString();
  return Response::Rows({{{"serverID", engine_->server_id()},
                          {"epoch", std::to_string(engine_->epoch().value)},
                          {"position", final_pos->Token()},
                          {"digest", *digest}}});
}

Response FailoverParticipant::Resume(const RequestContext& ctx,
                                     const std::vector<std::string>& args) {
  if (args.size() != 1) return Error(Status::InvalidArgument("usage: failover-master resume ID"));
  if (Status st = CheckCaller(ctx, args[0]); !st.ok()) return Error(st);
  if (auto fence = engine_->fence())
    return Error(Status::Fenced("already fenced: " + fence->fence));
  std::lock_guard lock(mu_);
  if (paused_by_ != args[0]) return Response::Rows({{{"resumed", "not paused"}}});
  paused_by_.clear();
  engine_->Resume();
  LogWarning() << FailoverId() << " to '" << args[0] << "' rolled back: accepting commits again";
  return Response::Rows({{{"resumed", "yes"}}});
}

Response FailoverParticipant::Stop(const RequestContext& ctx,
                                   const std::vector<std::string>& args) {
  Position at;
  if ((args.size() != 2 && args.size() != 3) || !Position::ParseToken(args[1], &at)) {
    return Error(Status::InvalidArgument("usage: failover-master stop STANDBY N/S [ADDRESS]"));
  }
  const std::string& standby = args[0];
  if (Status st = CheckCaller(ctx, standby); !st.ok()) return Error(st);
  if (args.size() == 3) {
    if (Status st = CheckToken("ADDRESS", args[2]); !st.ok()) return Error(st);
    if (auto parsed = Address::Parse(args[2]); !parsed.ok()) return Error(parsed.status());
  }
  if (auto fence = engine_->fence()) {
    // Asked again (the first answer was lost): the same answer.
    if (fence->fenced_for == standby && fence->point == at) {
      return Response::Rows({{{"stopped", engine_->server_id()}}});
    }
    return Error(Status::Fenced("already fenced: " + fence->fence));
  }
  std::lock_guard lock(mu_);
  // After the lease the standby may already have rolled back: a stop that
  // arrives that late (delayed, or we were stalled) must not take effect.
  if (!paused_by_.empty() && !quiescing_ && std::chrono::steady_clock::now() >= lease_end_) {
    paused_by_.clear();
    engine_->Resume();
  }
  if (paused_by_ != standby || at != paused_at_ || engine_->durable() != at) {
    return Error(Status::FailedPrecondition(
        "not stopping: this master is no longer paused for '" + standby + "' at " + at.Token() +
        " (its lease may have run out); the standby must roll back"));
  }
  ServerIdentity identity;
  identity.id = engine_->server_id();
  identity.fence = "failed over to '" + standby + "' at " + at.Token() + " (epoch " +
                   std::to_string(engine_->epoch().value) + ")";
  identity.fenced_for = standby;
  identity.fenced_epoch = engine_->epoch().value + 1;
  identity.new_master = args.size() == 3 ? args[2] : "";
  identity.point = at;
  if (Status st = engine_->Fence(identity); !st.ok()) return Error(st);
  paused_by_.clear();
  hub_->CloseStreams("this master failed over to '" + standby + "'");
  hub_->FailWaiting(hub_->Serving());
  LogWarning() << FailoverId() << " to '" << standby << "': server.id fenced; refusing all commits";
  return Response::Rows({{{"stopped", engine_->server_id()}}});
}

Response FailoverParticipant::Ignore(const RequestContext& ctx,
                                     const std::vector<std::string>& args) {
  if (args.size() != 2) {
    return Error(Status::InvalidArgument("usage: failover-master ignore STANDBY ADDRESS"));
  }
  const std::string& standby = args[0];
  if (Status st = CheckCaller(ctx, standby); !st.ok()) return Error(st);
  if (Status st = CheckToken("ADDRESS", args[1]); !st.ok()) return Error(st);
  if (auto parsed = Address::Parse(args[1]); !parsed.ok()) return Error(parsed.status());
  if (auto fence = engine_->fence()) {
    if (fence->fenced_for == standby) return Response::Rows({{{"fenced", engine_->server_id()}}});
    return Error(Status::Fenced("already fenced: " + fence->fence));
  }
  ServerIdentity identity;
  identity.id = engine_->server_id();
  identity.fence = "'" + standby + "' took over without this master's data (failover -i) after " +
                   engine_->durable().Token() + " (epoch " +
                   std::to_string(engine_->epoch().value) + ")";
  identity.fenced_for = standby;
  identity.fenced_epoch = engine_->epoch().value + 1;
  identity.new_master = args[1];
  LogWarning() << identity.fence << ": refusing all commits and fencing server.id";
  if (Status st = engine_->Fence(identity); !st.ok()) return Error(st);
  {
    std::lock_guard lock(mu_);
    if (!paused_by_.empty()) {
      paused_by_.clear();
      engine_->Resume();  // a fenced engine refuses anyway
    }
  }
  hub_->CloseStreams("this master was failed over from (-i)");
  hub_->FailWaiting(hub_->Serving());
  return Response::Rows({{{"fenced", engine_->server_id()}}});
}

Response FailoverParticipant::Report(const RequestContext& ctx,
                                     const std::vector<std::string>& args) {
  if (args.size() != 1) return Error(Status::InvalidArgument("usage: failover-master status ID"));
  if (Status st = CheckCaller(ctx, args[0]); !st.ok()) return Error(st);
  Row row = {{"serverID", engine_->server_id()}, {"epoch", std::to_string(engine_->epoch().value)}};
  if (auto fence = engine_->fence()) {
    row.insert(row.end(), {{"state", "fenced"},
                           {"fencedFor", fence->fenced_for},
                           {"position", fence->point.Token()}});
    return Response::Rows({row});
  }
  std::lock_guard lock(mu_);
  if (paused_by_.empty()) {
    row.emplace_back("state", "serving");
  } else {
    row.insert(row.end(),
               {{"state", "paused"}, {"pausedBy", paused_by_}, {"position", paused_at_.Token()}});
  }
  return Response::Rows({row});
}

Response FailoverParticipant::Newer(const RequestContext& ctx,
                                    const std::vector<std::string>& args) {
  // "took-over": FROM is the standby that began EPOCH by taking over from
  // this master (the new master itself says so, not a bystander).
  const bool took_over = args.size() == 4 && args[3] == "took-over";
  if (args.size() != 3 && !took_over) {
    return Error(
        Status::InvalidArgument("usage: failover-master newer EPOCH FROM ADDRESS [took-over]"));
  }
  auto epoch = ParseDecimal<uint32_t>(args[0], "EPOCH");
  if (!epoch.ok()) return Error(epoch.status());
  for (auto [what, value] : {std::pair{"FROM", args[1]}, {"ADDRESS", args[2]}}) {
    if (Status st = CheckToken(what, value); !st.ok()) return Error(st);
  }
  // Only a server of ours says so, as the service user its spec names.
  auto from = LoadServerSpec(engine_->tables(), args[1]);
  if (!from || from->type == ServerType::kStandard) {
    return Error(Status::PermissionDenied("'" + args[1] + "' is not a standby or replica of '" +
                                          engine_->server_id() + "'"));
  }
  if (ctx.secured && ctx.identity.level != AccessLevel::kSuper && from->user != ctx.identity.user) {
    return Error(Status::PermissionDenied("user '" + ctx.identity.user + "' may not speak for '" +
                                          args[1] + "'"));
  }
  const uint32_t ours = engine_->epoch().value;
  if (*epoch <= ours) {
    return Error(Status::FailedPrecondition(
        "epoch " + args[0] + " is not newer than this master's " + std::to_string(ours)));
  }
  if (auto fence = engine_->fence())
    return Error(Status::Fenced("already fenced: " + fence->fence));
  // Believe no one's word for it: reach the newer master ourselves.
  auto there = Address::Parse(args[2]);
  auto hello = there.ok() ? SayHello(*there, milliseconds(5000), source_) : there.status();
  if (!hello.ok()) {
    return Error(Status::FailedPrecondition("not fencing: cannot reach the master '" + args[1] +
                                            "' names at " + args[2] + ": " +
                                            hello.status().message()));
  }
  if (!hello->is_master() || hello->server_id != engine_->server_id() || hello->epoch < *epoch) {
    return Error(Status::FailedPrecondition("not fencing: " + args[2] + " is not a master of '" +
                                            engine_->server_id() + "' at epoch " + args[0] +
                                            " or later (it says role '" + hello->role +
                                            "', epoch " + std::to_string(hello->epoch) + ")"));
  }
  const uint32_t their_epoch = hello->epoch;
  ServerIdentity identity;
  identity.id = engine_->server_id();
  identity.fence = "a master of epoch " + std::to_string(their_epoch) + " serves at " + args[2] +
                   " (reported by '" + args[1] + "'); this master of epoch " +
                   std::to_string(ours) + " is stale";
  identity.new_master = args[2];
  // Recorded for a later rejoin only from a standby's spec, and only for the
  // epoch the master at ADDRESS answers with itself.
  if (took_over && from->is_standby() && their_epoch == *epoch) {
    identity.fenced_for = args[1];
    identity.fenced_epoch = *epoch;
  }
  LogError() << identity.fence << ": refusing all commits and fencing server.id";
  if (Status st = engine_->Fence(identity); !st.ok()) return Error(st);
  hub_->CloseStreams("this master is stale");
  hub_->FailWaiting(hub_->Serving());
  return Response::Rows({{{"fenced", engine_->server_id()}}});
}

}  // namespace tandem
