#include "journal/engine.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <future>

#include "journal/checkpoint.h"
#include "journal/file.h"
#include "journal/log.h"
#include "journal/low_priority.h"
#include "journal/markers.h"
#include "journal/numbers.h"
#include "journal/server_identity.h"

namespace tandem {
namespace {

bool SetsCommitWait(const Transaction& txn) {
  for (const Op& op : txn.ops) {
    if (op.table != kConfigTable) continue;
    std::string_view name = op.key;
    if (auto hash = name.find('#'); hash != std::string_view::npos) name.remove_prefix(hash + 1);
    // commit.wait and commit.wait.timeout: an operator must be able to
    // change how commits wait while the mandatory standbys are away.
    if (name == kCfgCommitWait || name == kCfgCommitWaitTimeout) return true;
  }
  return false;
}

}  // namespace

Result<std::unique_ptr<Engine>> Engine::Open(const EngineOptions& options,
                                             std::optional<HandedTables> handed) {
  RootLayout layout(options.root);
  TANDEM_RETURN_IF_ERROR(layout.EnsureDirs());
  TANDEM_ASSIGN_OR_RETURN(int fd, LockRoot(layout));
  std::unique_ptr<Engine> engine(new Engine(options, layout, fd));
  TANDEM_ASSIGN_OR_RETURN(std::vector<uint32_t> rotated, layout.ListRotated());
  TANDEM_ASSIGN_OR_RETURN(std::vector<uint32_t> copied, layout.ListCopied());
  if (!PathExists(layout.live_journal()) && rotated.empty() && !copied.empty()) {
    // A standby's root whose ServerID or target was edited by hand: as a
    // master it would serve its checkpoint at best, an empty database at
    // worst, and start a history of its own without what it copied.
    return Status::FailedPrecondition(
        options.root +
        " holds a standby's journal copies (journals.rep) but no journal of its "
        "own, so it cannot open as a master: it would serve an empty database. To "
        "make a standby the master, run 'tandem -p ADDRESS failover' on it while "
        "it runs as a standby (its target set); it keeps its data");
  }
  auto recovered = Recover(layout, std::move(handed));
  if (!recovered.ok()) return recovered.status();
  engine->recovery_ = recovered->report;
  engine->tables_.Reset(std::move(recovered->tables));
  TANDEM_ASSIGN_OR_RETURN(ServerIdentity identity, ReadServerIdentity(layout));
  engine->server_id_ = identity.id;
  if (identity.fenced()) engine->StartFenced(identity);

  WriterOptions wopts;
  wopts.fsync = options.fsync_override.value_or(engine->Setting(kCfgFsync) != "off");
  wopts.prealloc_step = static_cast<uint64_t>(engine->SettingNumber(kCfgPrealloc));
  Engine* self = engine.get();
  auto writer = JournalWriter::Open(
      layout, recovered->live, wopts,
      [self](const Record& rec, Position end, Transaction* decoded) {
        self->OnDurable(rec, end, decoded);
      },
      [self](Position durable) {
        std::lock_guard lock(self->observer_mu_);
        if (self->durable_observer_) self->durable_observer_(durable);
      });
  if (!writer.ok()) return writer.status();
  engine->writer_ = std::move(writer).value();
  engine->ApplyConfig();
  return engine;
}

Engine::Engine(EngineOptions options, RootLayout layout, int lock_fd)
    : options_(std::move(options)), layout_(std::move(layout)), lock_fd_(lock_fd) {}

namespace {

Status FenceStatus(const ServerIdentity& identity) {
  std::string where =
      identity.new_master.empty() ? "" : "; the master is now at " + identity.new_master;
  return Status::Fenced("this server (" + identity.id +
                        ") may not serve as master: " + identity.fence + where +
                        ". Make it a standby of the new master with 'tandemd -r ROOT --rejoin "
                        "MASTER' or, only if you are sure no other master exists, clear the fence "
                        "with 'tandemd -r ROOT -xD'");
}

}  // namespace

void Engine::StartFenced(const ServerIdentity& identity) {
  std::lock_guard lock(pause_mu_);
  fence_ = identity;
  refusal_ = FenceStatus(identity);
  refusing_.store(true);
}

Status Engine::Fence(const ServerIdentity& identity) {
  TANDEM_RETURN_IF_ERROR(WriteServerIdentity(layout_, identity).Annotate("cannot fence server.id"));
  StartFenced(identity);
  if (fence_observer_) fence_observer_(identity);
  return Status::Ok();
}

std::optional<ServerIdentity> Engine::fence() const {
  std::lock_guard lock(pause_mu_);
  return fence_;
}

Engine::~Engine() {
  Close();
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

void Engine::SetDurableObserver(std::function<void(Position)> observer) {
  std::lock_guard lock(observer_mu_);
  durable_observer_ = std::move(observer);
}

void Engine::Close() {
  if (writer_) writer_->Close();
}

std::chrono::milliseconds RplTimeout(const Tables& tables, std::string_view server_id) {
  return std::chrono::milliseconds(SettingNumber(tables, server_id, kCfgRplTimeoutMs));
}

std::string Engine::Setting(std::string_view name) const {
  return SettingValue(tables_, server_id_, name);
}

int64_t Engine::SettingNumber(std::string_view name) const {
  return tandem::SettingNumber(tables_, server_id_, name);
}

void Engine::OnDurable(const Record& rec, Position end, Transaction* decoded) {
  if (rec.type == RecordType::kTransaction) {
    // Our own commits come with their transaction; anything else is decoded.
    Transaction own;
    if (decoded == nullptr) {
      auto txn = DecodeTransaction(rec.payload);
      if (!txn.ok()) {
        // We encoded it ourselves a moment ago; failing to decode is a bug.
        LogError() << "cannot decode own transaction " << rec.txn_id << ": "
                   << txn.status().message();
        return;
      }
      own = std::move(txn).value();
      decoded = &own;
    }
    bool config = std::any_of(decoded->ops.begin(), decoded->ops.end(),
                              [](const Op& op) { return op.table == kConfigTable; });
    if (apply_observer_) {
      tables_.Apply(*decoded);
      apply_observer_(*decoded, end);
    } else {
      tables_.Apply(std::move(*decoded));  // its strings move into the tables
    }
    if (config) ApplyConfig();
  } else if (rec.type == RecordType::kRotation && checkpoint_rotation_.exchange(false)) {
    if (snapshot_wanted_.exchange(false)) snapshot_ = tables_.Snapshot();
    if (checkpoint_observer_) checkpoint_observer_(end.journal + 1);
  }
}

void Engine::ApplyConfig() {
  if (writer_ && !options_.fsync_override) writer_->set_fsync(Setting(kCfgFsync) != "off");
  commit_wait_mandatory_ = Setting(kCfgCommitWait) == "mandatory";
  ApplyLogLevel(tables_, server_id_);
}

Status Engine::AcceptingCommits() const {
  if (refusing_.load()) {
    std::lock_guard lock(pause_mu_);
    return refusal_;
  }
  return writer_->health();
}

void Engine::SetCommitGate(CommitGate gate) {
  std::lock_guard lock(observer_mu_);
  commit_gate_ = std::move(gate);
}

void Engine::CommitAsync(Transaction txn, CommitCallback done, Wait wait) {
  if (txn.ops.empty()) {
    done(Status::InvalidArgument("empty transaction"), Position{});
    return;
  }
  in_flight_.fetch_add(1);
  if (refusing_.load()) {
    Status why;
    {
      std::lock_guard lock(pause_mu_);
      why = refusal_;
    }
    CountOut();
    done(why, Position{});
    return;
  }
  // A commit that changes commit.wait is acknowledged under local durability:
  // it must take effect even while the mandatory gate is stalled (that is
  // when an operator reaches for it).
  std::string payload = EncodeTransaction(txn);
  if (!commit_wait_mandatory_ || wait == Wait::kLocal || SetsCommitWait(txn)) {
    writer_->Append(RecordType::kTransaction, std::move(payload), std::move(done), std::move(txn));
  } else {
    writer_->Append(
        RecordType::kTransaction, std::move(payload),
        [this, done = std::move(done)](const Status& st, Position pos) {
          CommitGate gate;
          {
            std::lock_guard lock(observer_mu_);
            gate = commit_gate_;
          }
          if (!st.ok() || !gate) return done(st, pos);
          gate(pos, [done, pos](const Status& released) { done(released, pos); });
        },
        std::move(txn));
  }
  CountOut();  // queued: from here a pause waits on the writer, not on us
}

namespace {

// Blocks on an append's callback.
template <typename AppendFn>
Result<Position> WaitFor(AppendFn append) {
  std::promise<std::pair<Status, Position>> promise;
  auto future = promise.get_future();
  append([&promise](const Status& st, Position pos) { promise.set_value({st, pos}); });
  auto [st, pos] = future.get();
  if (!st.ok()) return st;
  return pos;
}

}  // namespace

Result<Position> Engine::Commit(Transaction txn, Wait wait) {
  return WaitFor([&](JournalWriter::DurableCallback cb) { CommitAsync(std::move(txn), cb, wait); });
}

Result<Position> Engine::Rotate() {
  std::lock_guard lock(rotate_mu_);
  return RotateLocked();
}

Result<Position> Engine::RotateLocked() {
  return WaitFor([&](JournalWriter::DurableCallback cb) {
    writer_->Append(RecordType::kRotation, {}, std::move(cb));
  });
}

Result<CheckpointInfo> Engine::Checkpoint() {
  std::lock_guard lock(rotate_mu_);
  // The state at the rotation is rebuilt, as recovery would build it, from
  // files that no longer change: the newest checkpoint and the rotated
  // journals after it. Copying the live tables instead holds the writer
  // thread for the length of the copy, and every commit with it (about
  // 200 ms for a million rows); that is left for when the files cannot
  // rebuild it: no checkpoint verifies and the journals before it are gone
  // (known before the rotation), or a file turns out damaged while it is
  // read (then at a second rotation, and the checkpoint observer runs twice).
  // Rebuilding and writing run at the lowest CPU priority: on a busy machine
  // they take what the commits leave (bench/RESULTS.md, "Checkpoints under
  // load").
  bool copy = !CanRebuildState(layout_, writer_->durable().journal);
  Result<RebuiltState> rebuilt = Status::Unavailable("no rotation yet");
  uint32_t journal = 0;
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (copy) LogWarning() << "checkpoint: copying the live tables at the rotation";
    snapshot_.reset();
    snapshot_wanted_ = copy;
    checkpoint_rotation_ = true;
    auto rotated = RotateLocked();
    checkpoint_rotation_ = snapshot_wanted_ = false;
    if (!rotated.ok()) {
      snapshot_.reset();  // taken, perhaps, by a rotation that did not finish
      return rotated.status();
    }
    journal = rotated->journal + 1;
    if (copy) {
      if (!snapshot_) return Status::FailedPrecondition("rotation did not capture a snapshot");
      rebuilt = RebuiltState{{journal, writer_->epoch(), writer_->next_txn_id()},
                             *std::exchange(snapshot_, std::nullopt),
                             std::nullopt};
      break;
    }
    rebuilt = RunAtLowPriority([&] {
      return RebuildState(layout_, journal, [&](uint32_t n) { return layout_.rotated_journal(n); });
    });
    if (rebuilt.ok()) break;
    LogWarning() << "checkpoint: cannot rebuild the state at journal " << journal
                 << " from this root's files: " << rebuilt.status().message();
    copy = true;
  }
  CheckpointInfo info;
  info.journal = journal;
  info.path = layout_.checkpoint(journal);
  // The state goes with the work, so that freeing its rows is low priority too.
  Status written = RunAtLowPriority([&, state = std::move(rebuilt).value()]() -> Status {
    TANDEM_ASSIGN_OR_RETURN(info.bytes, WriteCheckpoint(info.path, state.meta, state.tables));
    for (const auto& s : state.tables.Checksums()) info.rows += s.rows;
    return Status::Ok();
  });
  TANDEM_RETURN_IF_ERROR(written);
  LogInfo() << "checkpoint " << info.path << " written (" << info.rows << " rows, " << info.bytes
            << " bytes)";
  TANDEM_RETURN_IF_ERROR(ApplyRetention());
  return info;
}

Status Engine::ApplyRetention() {
  auto keep = static_cast<uint64_t>(SettingNumber(kCfgRetain));
  if (keep == 0) return Status::Ok();
  TANDEM_ASSIGN_OR_RETURN(auto ckps, layout_.ListCheckpoints());
  TANDEM_ASSIGN_OR_RETURN(auto rotated, layout_.ListRotated());
  if (ckps.size() > keep) {
    for (size_t i = 0; i + keep < ckps.size(); ++i) {
      std::string path = layout_.checkpoint(ckps[i]);
      (void)RemoveFile(path + ".md5");
      (void)RemoveFile(path);
      LogInfo() << "retention: removed " << path;
    }
    ckps.erase(ckps.begin(), ckps.end() - static_cast<ptrdiff_t>(keep));
  }
  // A rotated journal goes only when it is older than every kept checkpoint
  // (nothing needs it to recover) and not among the newest `keep`.
  uint32_t oldest_needed = ckps.empty() ? 0 : ckps.front();
  for (size_t i = 0; i + keep < rotated.size(); ++i) {
    if (rotated[i] >= oldest_needed) break;
    std::string path = layout_.rotated_journal(rotated[i]);
    (void)RemoveFile(path);
    LogInfo() << "retention: removed " << path;
  }
  return SyncDir(layout_.rotated_dir());
}

Result<std::pair<Position, std::vector<TableChecksum>>> Engine::JournalChecksums() {
  std::vector<TableChecksum> sums;
  auto pos = WaitFor([&](JournalWriter::DurableCallback cb) {
    writer_->AppendComputed(
        RecordType::kChecksumMarker,
        [this, &sums] {
          sums = tables_.Checksums();
          return EncodeChecksumMarker(sums);
        },
        std::move(cb));
  });
  if (!pos.ok()) return pos.status();
  return std::make_pair(*pos, std::move(sums));
}

void Engine::CountOut() {
  if (in_flight_.fetch_sub(1) == 1 && refusing_.load()) {
    std::lock_guard lock(pause_mu_);
    drained_.notify_all();
  }
}

Result<Position> Engine::Pause(const std::string& message, std::chrono::milliseconds wait) {
  auto deadline = std::chrono::steady_clock::now() + wait;
  {
    std::unique_lock lock(pause_mu_);
    if (fence_) return refusal_;
    refusal_ = Status::Unavailable(message);
    refusing_.store(true);
    if (!drained_.wait_until(lock, deadline, [this] { return in_flight_.load() == 0; })) {
      return Status::Unavailable(std::to_string(in_flight_.load()) +
                                 " commit(s) not yet queued after " + std::to_string(wait.count()) +
                                 " ms");
    }
  }
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  if (!writer_->WaitIdle(std::max(left, std::chrono::milliseconds(0)))) {
    return Status::Unavailable("commits still being written after " + std::to_string(wait.count()) +
                               " ms");
  }
  return durable();
}

void Engine::Resume() {
  std::lock_guard lock(pause_mu_);
  if (fence_) return;  // for good
  refusing_.store(false);
  refusal_ = Status::Ok();
}

Result<Position> Engine::RaiseEpoch(const std::string& old_id, Epoch at_least) {
  return WaitFor([&](JournalWriter::DurableCallback cb) {
    writer_->AppendComputed(
        RecordType::kFailover,
        [this, old_id, at_least] {
          uint32_t next = std::max(writer_->epoch().value + 1, at_least.value);
          return EncodeFailoverMarker({next, old_id, server_id_});
        },
        std::move(cb));
  });
}

}  // namespace tandem
