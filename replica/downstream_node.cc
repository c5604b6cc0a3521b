#include "replica/downstream_node.h"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <mutex>
#include <set>
#include <thread>

#include "journal/engine.h"
#include "journal/file.h"
#include "journal/log.h"
#include "journal/numbers.h"
#include "replica/copied_journal.h"
#include "replica/downstream_checkpoint.h"
#include "replica/downstream_recovery.h"
#include "replica/failover_history.h"
#include "replica/local_config.h"
#include "replica/seed.h"
#include "replica/status_rows.h"
#include "replica/stragglers.h"
#include "replica/stream_command.h"
#include "replica/upstream_choice.h"
#include "transport/archive_commands.h"
#include "transport/auth.h"
#include "transport/configure_command.h"
#include "transport/engine_commands.h"

namespace tandem {
namespace {

// Tellings of an older master in flight, by its address and our epoch: the
// copier and every pull -u worker choose an upstream on their own, and one
// telling at a time is enough.
std::mutex telling_mu;
std::set<std::string> telling;  // guarded by telling_mu

bool BeginTelling(const std::string& key) {
  std::lock_guard lock(telling_mu);
  return telling.insert(key).second;
}

void EndTelling(const std::string& key) {
  std::lock_guard lock(telling_mu);
  telling.erase(key);
}

}  // namespace

Result<std::unique_ptr<DownstreamNode>> DownstreamNode::Open(const std::string& root) {
  RootLayout layout(root);
  TANDEM_ASSIGN_OR_RETURN(int fd, LockRoot(layout));
  std::unique_ptr<DownstreamNode> node(new DownstreamNode(layout, fd));
  auto id = ReadFileToString(layout.server_id_file());
  if (!id.ok() || id->empty()) {
    return Status::FailedPrecondition("a standby or replica needs a ServerID: run 'tandemd -r " +
                                      root + " --id NAME'");
  }
  node->server_id_ = id->substr(0, id->find('\n'));
  auto local = ReadLocalConfig(layout);
  for (const auto& [name, value] : local) {
    if (Status st = CheckLocalSetting(name, value); !st.ok()) {
      return Status::InvalidArgument(layout.local_config() + ": " + st.message() +
                                     " (fix it with 'tandemd -r " + root + " -cset')");
    }
  }
  // `target` may list several addresses: the servers that may be master.
  TANDEM_ASSIGN_OR_RETURN(node->targets_, ParseAddressList(local["target"]));
  node->target_ = node->targets_.front();
  TANDEM_RETURN_IF_ERROR(layout.EnsureDirs());
  TANDEM_RETURN_IF_ERROR(CreateDirs(layout.rep_dir()));

  node->upstream_ = UpstreamFor(layout, node->target_);
  UpstreamOptions& up = node->upstream_;
  up.server_id = node->server_id_;
  DownstreamNode* self = node.get();
  up.timeout = [self] { return RplTimeout(self->tables_, self->server_id_); };
  up.resolve_target = [self](const std::function<bool()>& cancelled) {
    return self->ResolveUpstream(cancelled);
  };
  up.own_address = [self] { return self->own_address(); };

  // A downstream server of a secured master is secured from its first
  // start, before it has replicated a single user (and stays so, whatever
  // its tables hold: a reseed empties them for a while).
  if (!up.password.empty()) TANDEM_RETURN_IF_ERROR(MarkSecured(layout));

  // A new, empty root seeds itself from the upstream's newest checkpoint.
  TANDEM_ASSIGN_OR_RETURN(auto ckps, layout.ListCheckpoints());
  if (ckps.empty() && !PathExists(layout.rep_journal(1))) {
    auto seeded = FetchCheckpoint(layout.checkpoint_dir(), up);
    if (!seeded.ok()) {
      LogWarning() << "not seeded from a checkpoint (" << seeded.status().message()
                   << "); replicating from journal 1";
    }
  }
  int workers = 4;
  if (local.count("pull.u.threads")) {
    TANDEM_ASSIGN_OR_RETURN(workers, ParseDecimal<int>(local["pull.u.threads"], "pull.u.threads"));
    workers = std::clamp(workers, 1, 64);
  }
  node->puller_ = std::make_unique<ArchivePuller>(layout, &node->tables_, up, workers);
  TANDEM_RETURN_IF_ERROR(node->Load());
  node->repair_thread_ = std::thread([self] { self->RepairLoop(); });
  return node;
}

UpstreamCandidates DownstreamNode::Candidates() const {
  return ListCandidates(tables_, server_id_, targets_, own_address());
}

Result<Address> DownstreamNode::ResolveUpstream(const std::function<bool()>& cancelled) {
  UpstreamCandidates candidates = Candidates();
  if (candidates.addresses.empty()) return current_target();
  HelloRound round;
  round.timeout = RplTimeout(tables_, server_id_);
  round.source = upstream_.client.source;
  round.cancelled = cancelled;
  UpstreamChoice choice = ChooseUpstream(candidates, server_id_, highest_epoch().value, round);
  if (cancelled && cancelled()) return Status::Unavailable("journalcopy is stopping");
  if (choice.found) {
    // A master older than the newest: tell it so, so it stops writing.
    // Meanwhile: it verifies by reaching the new master itself, which a
    // cut link can make take its whole timeout, and we follow the new
    // master without waiting for that.
    for (const ProbedServer& old : choice.older_masters) {
      LogWarning() << FailoverId(Epoch{choice.newest}) << ": not following "
                   << old.address.ToString() << ": a master of epoch " << old.hello.epoch
                   << ", older than epoch " << choice.newest << "; telling it so";
      // Nothing of this node: the telling may outlive it.
      UpstreamOptions probe = upstream_;
      probe.target = old.address;
      probe.resolve_target = nullptr;
      probe.own_address = nullptr;
      probe.timeout = [t = upstream_.timeout()] { return t; };
      std::vector<std::string> newer = {"failover-master", "newer", std::to_string(choice.newest),
                                        server_id_, choice.address.ToString()};
      std::string key = old.address.ToString() + "@" + std::to_string(choice.newest);
      if (!BeginTelling(key)) continue;
      ProcessStragglers().Run([probe, newer, key] {
        if (auto conn = ConnectUpstream(probe); conn.ok()) {
          // It fences itself whether or not we wait for its answer.
          (void)conn->client->Call({conn->user, conn->ticket, newer}, probe.timeout());
        }
        EndTelling(key);
      });
    }
  }
  // Moving to a master of an epoch this server never held: that failover's
  // id, as the new and the old master log it.
  std::string id = choice.found && choice.newest > highest_epoch().value
                       ? FailoverId(Epoch{choice.newest}) + ": "
                       : "";
  if (!choice.found && !choice.silence.ok()) {
    return choice.silence.Annotate("no candidate qualifies as the upstream, and " +
                                   choice.address.ToString() + " did not answer");
  }
  std::lock_guard lock(ptr_mu_);
  target_role_ = choice.role;
  if (choice.address.ToString() != target_.ToString()) {
    LogWarning() << id << "following " << choice.address.ToString()
                 << (choice.found ? "" : " (no candidate answered as the newest master)");
    target_ = choice.address;
  }
  return target_;
}

void DownstreamNode::WatchForNewerMaster() {
  std::shared_ptr<JournalCopier> c = copier();
  CopierStatus up = c->status();
  if (!up.connected) return;  // choosing again on every connection anyway
  uint32_t epoch = std::max(highest_epoch().value, up.epoch.value);
  HelloRound round;
  round.timeout = RplTimeout(tables_, server_id_);
  round.source = upstream_.client.source;
  auto newer =
      NewerMasterAmong(Candidates(), server_id_, current_target().ToString(), epoch, round);
  if (!newer) return;
  LogWarning() << FailoverId(Epoch{newer->hello.epoch}) << ": a master of epoch "
               << newer->hello.epoch << " serves at " << newer->address.ToString()
               << ", newer than epoch " << epoch << " of " << current_target().ToString()
               << ": following it";
  c->Reconnect();
}

Status DownstreamNode::Load() {
  TANDEM_ASSIGN_OR_RETURN(DownstreamState state, RecoverDownstream(layout_));
  LogInfo() << "downstream " << server_id_ << ": journalcopy at " << state.flushed.ToString()
            << ", applied at " << state.applied.ToString();
  tables_.Reset(std::move(state.tables));
  recovered_epoch_ = state.epoch;
  ArchivePuller* puller = puller_.get();
  auto applier = std::make_shared<PullApplier>(
      layout_, &tables_, state.applied, [this, puller](const Transaction& txn, Position end) {
        for (const Op& op : txn.ops) {
          if (op.kind != Op::Kind::kPut || op.table != kRevTable) continue;
          if (auto entry = ArchiveEntryOfRevision(op.value)) puller->Enqueue(*entry);
        }
        if (apply_observer_) apply_observer_(txn, end);
      });
  PullApplier* a = applier.get();
  auto copier = std::make_shared<JournalCopier>(
      layout_, upstream_, state.flushed,
      [this, a](const CopierStatus& st) {
        a->SetLimit(st.written, st.release);
        WakeListeners();  // cascaded replicas may get more now
        ReportCatchUp(st);
      },
      [this, a] {
        ArchivePuller::Backlog backlog = puller_->backlog();
        return JournalCopier::LocalProgress{highest_epoch(), a->applied(), backlog.files,
                                            backlog.bytes};
      });
  uint64_t generation = ++generation_;
  copier->SetRefusedHandler([this, generation](const Status& refusal, const Row& advice) {
    Repair(generation, refusal, advice);
  });
  std::lock_guard lock(ptr_mu_);
  applier_ = std::move(applier);
  copier_ = std::move(copier);
  return Status::Ok();
}

void DownstreamNode::ReportCatchUp(const CopierStatus& st) {
  auto now = CatchUpLog::Clock::now();
  std::lock_guard lock(catch_up_mu_);
  auto behind = BytesBetween(st.upstream_durable, st.written, NoJournalSizes());
  uint32_t journals = JournalsBetween(st.upstream_durable, st.written);
  if (auto line = catch_up_.Observe(now, behind, journals, st.written)) LogInfo() << *line;
}

Status DownstreamNode::Reseed() {
  std::lock_guard lock(reseed_mu_);
  // Fetch and verify first, into a staging directory: a reseed that cannot
  // reach the upstream leaves this server exactly as it was.
  const std::string staging = layout_.root() + "/reseed.tmp";
  TANDEM_RETURN_IF_ERROR(RemoveTree(staging));
  UpstreamOptions up = upstream_;
  if (up.resolve_target) {
    auto resolved = up.resolve_target(nullptr);
    if (!resolved.ok()) return resolved.status().Annotate("reseed (nothing here was changed)");
    up.target = *resolved;
    up.resolve_target = nullptr;  // chosen: the fetch must not choose again
  }
  auto fetched = FetchCheckpoint(staging, up);
  if (!fetched.ok()) {
    (void)RemoveTree(staging);
    return fetched.status().Annotate("reseed (nothing here was changed)");
  }
  LogWarning() << "reseed: replacing local replication state with " << fetched->path;
  Stop();
  Status st = ClearDownstreamState(layout_);
  const std::string dest = layout_.checkpoint(fetched->journal);
  if (st.ok()) st = RenameDurably(fetched->path + ".md5", dest + ".md5");
  if (st.ok()) st = RenameDurably(fetched->path, dest);
  (void)RemoveTree(staging);
  if (st.ok()) st = Load();
  Start();
  return st;
}

void DownstreamNode::Repair(uint64_t generation, const Status& refusal, const Row& advice) {
  std::lock_guard lock(repair_mu_);
  repair_ = RepairRequest{generation, refusal, advice};
  repair_cv_.notify_all();
}

void DownstreamNode::RepairLoop() {
  std::unique_lock lock(repair_mu_);
  for (;;) {
    // Between repairs, every rpl.timeout.ms: is there a newer master?
    if (!repair_cv_.wait_for(lock, RplTimeout(tables_, server_id_),
                             [&] { return repair_stopping_ || repair_; })) {
      lock.unlock();
      ApplyLogLevel(tables_, server_id_);  // log.level as replicated
      WatchForNewerMaster();
      lock.lock();
      continue;
    }
    if (repair_stopping_) return;
    RepairRequest request = *repair_;
    repair_.reset();
    lock.unlock();
    // Asked by a copier that a reseed or a cut has replaced since: stale.
    if (request.generation != generation_.load()) {
      lock.lock();
      continue;
    }
    const Status& refusal = request.refusal;
    const Row& advice = request.advice;
    Position point;
    if (refusal.code() == Code::kDiverged &&
        Position::ParseToken(std::string(FieldOf(advice, "cutBack")), &point)) {
      CutBack(point, refusal);
    } else if (refusal.code() == Code::kNeedsReseed && FieldOf(advice, "reseed") == "auto") {
      LogWarning() << "the master says: " << refusal.message();
      if (Status st = Reseed(); !st.ok()) LogError() << "reseed failed: " << st.message();
    }
    lock.lock();
  }
}

void DownstreamNode::CutBack(Position point, const Status& why) {
  std::lock_guard lock(reseed_mu_);
  LogWarning() << "the master says: " << why.message();
  Stop();
  if (applier()->applied() > point) {  // checked with nothing applying any more
    LogError() << "not cutting the copy back to " << point.Token() << ": this server applied up to "
               << applier()->applied().Token();
    if (Status st = Load(); !st.ok()) LogError() << "reloading: " << st.message();
    Start();
    return;
  }
  const std::string aside = layout_.root() + "/journal.diverged";
  auto moved = CutCopyBack(layout_, point, aside);
  if (!moved.ok()) {
    LogError() << "cutting the copy back to " << point.Token()
               << " failed: " << moved.status().message();
  } else {
    LogWarning() << "journalcopy cut back to " << point.Token() << "; " << *moved
                 << " bytes copied past it were never applied and are kept in " << aside;
  }
  if (Status st = Load(); !st.ok()) LogError() << "reloading after the cut: " << st.message();
  Start();
}

DownstreamNode::~DownstreamNode() {
  {
    std::lock_guard lock(repair_mu_);
    repair_stopping_ = true;
  }
  repair_cv_.notify_all();
  if (repair_thread_.joinable()) repair_thread_.join();
  Stop();
  if (puller_) puller_->Stop();
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

void DownstreamNode::Start() {
  applier()->Start();
  copier()->Start();
}

void DownstreamNode::Stop() {
  if (auto c = copier()) c->Stop();
  if (auto a = applier()) a->Stop();
}

void DownstreamNode::StartArchive() { puller_->Start(); }

Status DownstreamNode::StopJournalcopy() {
  copier()->Stop();
  TANDEM_ASSIGN_OR_RETURN(std::vector<uint32_t> copied, layout_.ListCopied());
  for (uint32_t n : copied) {
    if (n < applier()->applied().journal) continue;
    TANDEM_ASSIGN_OR_RETURN(File f, File::Open(layout_.rep_journal(n), O_WRONLY));
    TANDEM_RETURN_IF_ERROR(f.DataSync());
  }
  return Status::Ok();
}

Result<Position> DownstreamNode::ConsistencyPoint() const {
  return ReadCopy(layout_, applier()->applied(), copier()->status().written);
}

Result<std::optional<ServerSpec>> DownstreamNode::SpecAtConsistencyPoint() const {
  std::optional<ServerSpec> spec = LoadServerSpec(tables_, server_id_);
  Position point = copier()->status().written;
  Status st =
      ReadCopy(layout_, applier()->applied(), point, [&](const Record& rec, Position) -> Status {
        if (rec.type != RecordType::kTransaction) return Status::Ok();
        TANDEM_ASSIGN_OR_RETURN(Transaction txn, DecodeTransaction(rec.payload));
        for (const Op& op : txn.ops) {
          if (op.table != kServerTable || op.key != server_id_) continue;
          spec.reset();
          if (op.kind == Op::Kind::kPut) {
            if (auto s = ServerSpec::Parse(op.value); s.ok()) spec = *s;
          }
        }
        return Status::Ok();
      }).status();
  if (!st.ok()) return st;
  return spec;
}

Status DownstreamNode::ApplyTo(Position to) {
  std::shared_ptr<PullApplier> a = applier();
  a->SetLimit(to, to);
  // The applier stops short only at damage, which it reports; a large
  // backlog applies at hundreds of MB/s, so a minute is ample.
  bool reached = a->WaitApplied(to, std::chrono::seconds(60));
  a->Stop();  // nothing may write `state` once failover renames it
  if (reached) return Status::Ok();
  std::string why = a->last_error();
  return Status::IOError("applied only to " + a->applied().Token() + " of " + to.Token() +
                         (why.empty() ? "" : ": " + why));
}

Status DownstreamNode::Restart() {
  std::lock_guard lock(reseed_mu_);
  Stop();
  TANDEM_RETURN_IF_ERROR(Load());
  Start();
  return Status::Ok();
}

// Cascading passes on what is written here, not only what is synced: every
// byte up to the master's release is durable on the master and on every
// mandatory standby, so a replica holding it can never be ahead of them.
Position DownstreamNode::durable() const { return copier()->status().written; }

Position DownstreamNode::release() const {
  CopierStatus st = copier()->status();
  return std::min(st.written, st.release);
}

Epoch DownstreamNode::epoch() const { return copier()->status().epoch; }

Result<std::string> DownstreamNode::JournalPath(uint32_t n) const {
  std::string path = layout_.rep_journal(n);
  if (!PathExists(path)) return Status::NotFound(path + " does not exist here");
  return path;
}

void DownstreamNode::Attach(const std::string& id, std::shared_ptr<StreamListener> listener) {
  LogInfo() << "cascading to '" << id << "'";
  std::lock_guard lock(listeners_mu_);
  listeners_.push_back(listener);
}

void DownstreamNode::Detach(const std::string& id, const StreamListener* listener) {
  LogInfo() << "'" << id << "' stopped replicating from here";
  std::lock_guard lock(listeners_mu_);
  std::erase_if(listeners_, [&](const std::weak_ptr<StreamListener>& w) {
    auto p = w.lock();
    return !p || p.get() == listener;
  });
}

void DownstreamNode::OnAck(const std::string&, const JournalAck&) {}

void DownstreamNode::WakeListeners() {
  std::vector<std::shared_ptr<StreamListener>> live;
  {
    std::lock_guard lock(listeners_mu_);
    for (auto& w : listeners_) {
      if (auto p = w.lock()) live.push_back(std::move(p));
    }
  }
  for (auto& l : live) l->OnPositions();
}

void DownstreamNode::RegisterCommands(Dispatcher* d, std::function<std::string()> address,
                                      std::function<void()> stop) {
  address_ = address;
  RegisterReadCommands(&tables_, server_id_, d);
  RegisterArchiveReadCommands(&tables_, layout_.root(), d);
  // verify -t: what is BAD! or MISSING! here is fetched again by pull -u.
  d->Register("verify", {AccessLevel::kRead, true, true,
                         [this](const RequestContext&, const auto& args, Reply reply) {
                           bool quiet = false, transfer = false;
                           std::string prefix = "//";
                           for (const auto& a : args) {
                             if (a == "-q") {
                               quiet = true;
                             } else if (a == "-t") {
                               transfer = true;
                             } else if (prefix == "//") {
                               prefix = a;
                             } else {
                               return reply(Response::Error(Status::InvalidArgument(
                                   "usage: verify [-q] [-t] [PREFIX] (one PREFIX)")));
                             }
                           }
                           ArchiveStore archive(layout_.root() + "/archive");
                           reply(Response::Rows(VerifyArchive(tables_, archive, prefix, quiet,
                                                              [&](const ArchiveEntry& e) {
                                                                if (transfer) puller_->Refetch(e);
                                                              })));
                         },
                         3, "verify [-q] [-t] [PREFIX]"});
  RegisterJournalStreamCommand(this, d);
  auto read_only = [this] {
    CopierStatus up = copier()->status();
    return Status::FailedPrecondition("this server (" + server_id_ + ") is a " +
                                      (up.role.empty() ? "downstream server" : up.role) +
                                      " replicating from " + current_target().ToString() +
                                      "; send writes to the master there");
  };
  auto refuse = [read_only](const RequestContext&, const std::vector<std::string>&, Reply reply) {
    reply(Response::Error(read_only()));
  };
  for (const char* cmd : {"put", "del", "txn", "user-add", "submit"}) {
    d->Register(cmd, {AccessLevel::kRead, false, true, refuse});
  }
  RegisterConfigureCommand(
      d, {&tables_, server_id_, [this] { return ReadLocalConfig(layout_); }, nullptr, read_only});
  d->Register("hello", {AccessLevel::kNone, false, /*needs_ticket=*/false,
                        [this, address](const RequestContext&, const auto&, Reply reply) {
                          CopierStatus up = copier()->status();
                          Row row = {{"serverID", server_id_},
                                     {"role", up.role.empty() ? "downstream" : up.role},
                                     {"epoch", std::to_string(highest_epoch().value)},
                                     {"address", address()},
                                     {"upstream", current_target().ToString()}};
                          // What failover.auto on another standby asks.
                          // Whether what it hears is a master or another
                          // downstream server (a cascade).
                          if (std::string role = target_role(); !role.empty()) {
                            row.emplace_back("upstreamRole", std::move(role));
                          }
                          if (up.last_heard_ms > 0) {
                            row.emplace_back("heardMsAgo", std::to_string(std::max<int64_t>(
                                                               0, NowMillis() - up.last_heard_ms)));
                          }
                          reply(Response::Rows({std::move(row)}));
                        },
                        0, "hello"});
  d->Register("info", {AccessLevel::kRead, false, true,
                       [this, address](const RequestContext& ctx, const auto&, Reply reply) {
                         CopierStatus up = copier()->status();
                         Position applied = applier()->applied();
                         reply(Response::Rows(
                             {{{"serverID", server_id_},
                               {"role", up.role.empty() ? "downstream" : up.role},
                               {"address", address()},
                               {"root", layout_.root()},
                               {"epoch", std::to_string(up.epoch.value)},
                               {"journal", std::to_string(applied.journal)},
                               {"sequence", std::to_string(applied.offset)},
                               {"target", current_target().ToString()},
                               {"connected", up.connected ? "1" : "0"},
                               {"user", ctx.identity.user},
                               {"access", std::string(AccessLevelName(ctx.identity.level))},
                               {"version", TANDEM_VERSION}}}));
                       },
                       0, "info"});
  d->Register(
      "pull",
      {AccessLevel::kRead, false, true,
       [this](const RequestContext&, const auto& args, Reply reply) {
         if (!args.empty() && args[0] == "-l") {  // pending pull -u transfers
           std::vector<Row> rows;
           for (const auto& e : puller_->Pending()) {
             rows.push_back(
                 {{"digest", e.md5}, {"fileSize", std::to_string(e.size)}, {"state", "pending"}});
           }
           return reply(Response::Rows(std::move(rows)));
         }
         if (args.empty() || args[0] != "-lj") {
           return reply(Response::Error(Status::InvalidArgument("usage: pull -lj | pull -l")));
         }
         Row row = PullStatusRow(server_id_, copier()->status(), applier()->applied());
         ArchivePuller::Backlog backlog = puller_->backlog();
         row.emplace_back("pullUFiles", std::to_string(backlog.files));
         row.emplace_back("pullUBytes", std::to_string(backlog.bytes));
         reply(Response::Rows({std::move(row)}));
       },
       1, "pull -lj | pull -l"});
  d->Register(
      "journaldbchecksums",
      {AccessLevel::kRead, false, true,
       [this](const RequestContext&, const auto& args, Reply reply) {
         if (args.empty() || args[0] != "-s") {
           return reply(Response::Error(Status::FailedPrecondition(
               "journaldbchecksums runs on the master; here use 'journaldbchecksums -s' for the "
               "verdicts of the last checksum marker applied")));
         }
         reply(Response::Rows(ChecksumRows(applier()->last_checksums())));
       }});
  d->Register(
      "admin",
      {AccessLevel::kSuper, /*blocking=*/true, true,
       [this, stop](const RequestContext&, const auto& args, Reply reply) {
         if (!args.empty() && args[0] == "reseed") {
           if (args.size() != 2 || args[1] != "-y") {
             return reply(Response::Error(Status::InvalidArgument(
                 "admin reseed replaces everything this server holds with the newest "
                 "checkpoint of " +
                 current_target().ToString() +
                 " and the journals after it; nothing is changed without -y: admin reseed -y")));
           }
           auto start = std::chrono::steady_clock::now();
           Status st = Reseed();
           if (!st.ok()) return reply(Response::Error(st));
           auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::steady_clock::now() - start)
                         .count();
           return reply(Response::Rows({{{"reseeded", "from " + current_target().ToString()},
                                         {"ms", std::to_string(ms)}}}));
         }
         if (args.size() == 1 && args[0] == "checkpoint") {
           auto info = CheckpointDownstream(layout_, applier()->applied());
           if (!info.ok()) return reply(Response::Error(info.status()));
           return reply(Response::Rows({{{"checkpoint", info->path},
                                         {"journal", std::to_string(info->journal)},
                                         {"rows", std::to_string(info->rows)},
                                         {"bytes", std::to_string(info->bytes)}}}));
         }
         if (args.size() != 1 || args[0] != "stop") {
           return reply(Response::Error(Status::FailedPrecondition(
               "on a standby or replica: admin stop | reseed | checkpoint (of its own copies); "
               "rotation is the master's")));
         }
         Response resp = Response::Rows({{{"stopping", "yes"}}});
         resp.after_send = stop;
         reply(std::move(resp));
       }});
}

}  // namespace tandem
