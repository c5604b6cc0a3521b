// The embeddable engine: one root, its journal writer, its tables, and the
// operations a master performs on them. Servers, tools and benchmarks are thin
// wrappers around this class.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "journal/position.h"
#include "journal/recovery.h"
#include "journal/root_layout.h"
#include "journal/server_identity.h"
#include "journal/settings.h"
#include "journal/table_set.h"
#include "journal/writer.h"

namespace tandem {

// Configurables the engine itself reads from the replicated `config` table
// (`name` or `SERVERID#name`, the latter winning).
inline constexpr std::string_view kCfgFsync = "journal.fsync";        // always | off
inline constexpr std::string_view kCfgRetain = "journal.retain";      // K, 0 = keep all
inline constexpr std::string_view kCfgPrealloc = "journal.prealloc";  // bytes per step
inline constexpr std::string_view kCfgCommitWait = "commit.wait";     // local | mandatory
// Seconds a commit waits for the mandatory standbys before it fails as
// unconfirmed (default 30; 0: for ever).
inline constexpr std::string_view kCfgCommitWaitTimeout = "commit.wait.timeout";
// Failure detection on every journal stream (replica/journal_streamer.h).
inline constexpr std::string_view kCfgHeartbeatMs = "rpl.heartbeat.ms";  // default 200
inline constexpr std::string_view kCfgRplTimeoutMs = "rpl.timeout.ms";   // default 2000

// rpl.timeout.ms as it stands: how long any peer may be silent before it
// counts as gone.
std::chrono::milliseconds RplTimeout(const Tables& tables, std::string_view server_id);

struct EngineOptions {
  std::string root;
  // Set by tests and benchmarks; otherwise the config table decides.
  std::optional<bool> fsync_override;
};

struct CheckpointInfo {
  uint32_t journal = 0;  // ckp.N.gz holds the state at the start of journal N
  std::string path;
  uint64_t bytes = 0;
  uint64_t rows = 0;
};

class Engine {
 public:
  using CommitCallback = std::function<void(const Status&, Position)>;

  // Opens (creating if needed) the root, takes an exclusive lock on it and
  // recovers. Only one Engine may hold a root at a time. A root whose
  // server.id carries a fence opens fenced (see Fence). `handed`: the
  // tables of the standby this root was promoted from (see Recover).
  static Result<std::unique_ptr<Engine>> Open(const EngineOptions& options,
                                              std::optional<HandedTables> handed = std::nullopt);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Commits atomically. `done` runs on the writer thread once the record is
  // durable and applied (or failed); it must not block. With kLocal it does
  // not wait for the mandatory standbys, whatever commit.wait says: for the
  // settings an operator changes while they are away (their specs).
  enum class Wait { kAsConfigured, kLocal };
  void CommitAsync(Transaction txn, CommitCallback done, Wait wait = Wait::kAsConfigured);
  Result<Position> Commit(Transaction txn, Wait wait = Wait::kAsConfigured);

  // Rotates the live journal; returns the position of the rotation record.
  Result<Position> Rotate();
  // Rotates and writes ckp.N.gz of the state at the rotation point, then
  // applies retention.
  Result<CheckpointInfo> Checkpoint();
  // Writes a table-checksum marker into the journal and returns the position
  // it was taken at with the checksums there.
  Result<std::pair<Position, std::vector<TableChecksum>>> JournalChecksums();

  const Tables& tables() const { return tables_; }
  Position durable() const { return writer_->durable(); }
  const WriterMetrics& writer_metrics() const { return writer_->metrics(); }
  // Client commits from request to acknowledgement, the mandatory wait
  // included (transport/engine_commands.cc observes them).
  Histogram& commit_seconds() { return commit_seconds_; }
  const Histogram& commit_seconds() const { return commit_seconds_; }
  Epoch epoch() const { return writer_->epoch(); }
  const RootLayout& layout() const { return layout_; }
  const RecoveryReport& recovery_report() const { return recovery_; }
  const std::string& server_id() const { return server_id_; }

  // Configurable lookup: SERVERID#name, then name, then fallback.
  // A registered setting as it stands for this server (journal/settings.h).
  std::string Setting(std::string_view name) const;
  int64_t SettingNumber(std::string_view name) const;

  // What an embedding host sees (tandem::Node), set before the first
  // commit; each runs on the writer thread and must not block for long:
  // every transaction as it is applied, with the position it ends at; a
  // checkpoint's point (the state ckp.N.gz holds: everything before journal
  // N), between the last transaction before it and the first after; and a
  // fence, on the thread that fenced.
  void SetApplyObserver(std::function<void(const Transaction&, Position end)> observer) {
    apply_observer_ = std::move(observer);
  }
  void SetCheckpointObserver(std::function<void(uint32_t journal)> observer) {
    checkpoint_observer_ = std::move(observer);
  }
  void SetFenceObserver(std::function<void(const ServerIdentity&)> observer) {
    fence_observer_ = std::move(observer);
  }

  // Called on the writer thread after every durable batch, with the new
  // durable position (replication wakes its senders from here). Must not block.
  void SetDurableObserver(std::function<void(Position)> observer);

  // With commit.wait=mandatory, a durable commit is acknowledged only once
  // the gate calls back (replication: once every mandatory standby has
  // flushed it). gate(pos, fn) must call fn exactly once, from any thread:
  // Ok once released, or why the commit is not acknowledged (it is durable
  // here, but no mandatory standby has confirmed it).
  using CommitGate = std::function<void(Position, std::function<void(const Status&)>)>;
  void SetCommitGate(CommitGate gate);

  // Failover, master side. Pause refuses every new commit with `message`
  // (Unavailable) and waits up to `wait` for the commits already in flight to
  // become durable; it returns the final durable position, or an error (still
  // paused) when they did not finish in time. Resume undoes it.
  Result<Position> Pause(const std::string& message, std::chrono::milliseconds wait);
  void Resume();
  bool paused() const { return refusing_.load(); }

  // Fencing: records `identity` (with its fence) in server.id, durably, and
  // from then on refuses every commit with Code::kFenced and the fence's
  // text, for good: Resume does not undo it. A failed-over or stale master.
  Status Fence(const ServerIdentity& identity);
  // The fence, if this engine is fenced.
  std::optional<ServerIdentity> fence() const;
  // Ok when a commit would be taken now; else why not: paused for a
  // failover, fenced, or the journal refuses writes after a failed sync.
  Status AcceptingCommits() const;

  // Failover, new master side: writes the failover record that opens the
  // next epoch, or epoch `at_least` if that is later (epochs other servers
  // began, that this one never held). `old_id` is the standby's ServerID
  // before it took ours.
  Result<Position> RaiseEpoch(const std::string& old_id, Epoch at_least = {});

  // Flushes and stops the writer; later commits fail.
  void Close();

 private:
  Engine(EngineOptions options, RootLayout layout, int lock_fd);
  void OnDurable(const Record& rec, Position end, Transaction* decoded);
  void StartFenced(const ServerIdentity& identity);
  void ApplyConfig();
  void CountOut();  // a commit counted in by CommitAsync is in the writer's queue
  Status ApplyRetention();

  EngineOptions options_;
  RootLayout layout_;
  int lock_fd_;
  std::string server_id_;
  RecoveryReport recovery_;
  Tables tables_;
  std::unique_ptr<JournalWriter> writer_;
  Histogram commit_seconds_{kLatencyBounds};

  std::function<void(const Transaction&, Position)> apply_observer_;
  std::function<void(uint32_t)> checkpoint_observer_;
  std::function<void(const ServerIdentity&)> fence_observer_;
  std::mutex observer_mu_;
  std::function<void(Position)> durable_observer_;
  CommitGate commit_gate_;  // guarded by observer_mu_
  std::atomic<bool> commit_wait_mandatory_{false};

  // Pause: a committer counts itself in before it looks at refusing_ and out
  // once its record is queued, so Pause (which sets refusing_, waits for the
  // count to drain, then for the writer to go idle) either sees it or is
  // seen by it. Nothing is added to a commit's callback.
  std::atomic<bool> refusing_{false};
  std::atomic<int64_t> in_flight_{0};
  mutable std::mutex pause_mu_;
  std::condition_variable drained_;
  Status refusal_;                       // guarded by pause_mu_
  std::optional<ServerIdentity> fence_;  // guarded by pause_mu_

  Result<Position> RotateLocked();  // with rotate_mu_ held

  std::mutex rotate_mu_;  // one rotation/checkpoint at a time
  // Set by Checkpoint() under rotate_mu_ for the rotation it takes: the
  // writer thread runs the checkpoint observer when it applies that rotation
  // record, and copies the tables into snapshot_ there if they are wanted,
  // i.e. exactly at the rotation point.
  std::atomic<bool> checkpoint_rotation_{false};
  std::atomic<bool> snapshot_wanted_{false};
  std::optional<TableSet> snapshot_;
};

}  // namespace tandem
