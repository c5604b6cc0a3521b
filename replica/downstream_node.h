// A standby or replica: its tables, recovered from its own files, kept up to
// date by a journalcopy thread (bytes from the upstream) and a pull -L thread
// (applying them up to the release position), and the commands it answers.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "journal/root_layout.h"
#include "journal/table_set.h"
#include "replica/archive_puller.h"
#include "replica/catch_up_log.h"
#include "replica/journal_copier.h"
#include "replica/pull_applier.h"
#include "replica/server_spec.h"
#include "replica/stream_origin.h"
#include "replica/upstream_choice.h"
#include "transport/dispatcher.h"

namespace tandem {

// It is also a StreamOrigin: a standby or replica may feed further replicas
// (cascading) from its journals.rep, never past min(its journalcopy position,
// the master's release position as it last heard it).
class DownstreamNode : public StreamOrigin {
 public:
  // Needs ROOT/server.id and the local configurable `target`.
  static Result<std::unique_ptr<DownstreamNode>> Open(const std::string& root);
  ~DownstreamNode();

  // Sees every transaction pull -L applies, with the position it ends at,
  // on the applier thread (an embedding host, tandem::Node). Before Start.
  void SetApplyObserver(std::function<void(const Transaction&, Position end)> observer) {
    apply_observer_ = std::move(observer);
  }
  void Start();
  void Stop();
  // pull -u: queues what is missing and starts its workers (once).
  void StartArchive();
  // Fetches and verifies the upstream's newest checkpoint, then throws away
  // everything derived from the upstream and replicates again from it. If
  // the fetch fails, nothing changes.
  Status Reseed();
  // Registers what a downstream server answers. `address` gives the address
  // it listens on; `stop` shuts the server down.
  void RegisterCommands(Dispatcher* dispatcher, std::function<std::string()> address,
                        std::function<void()> stop);

  const Tables& tables() const override { return tables_; }
  Position durable() const override;
  Position release() const override;
  Epoch epoch() const override;
  Result<std::string> JournalPath(uint32_t n) const override;
  void Attach(const std::string& id, std::shared_ptr<StreamListener> listener) override;
  void Detach(const std::string& id, const StreamListener* listener) override;
  void OnAck(const std::string& id, const JournalAck& ack) override;
  const std::string& server_id() const override { return server_id_; }
  Position applied() const { return applier()->applied(); }
  // After Stop: what pull -L applied, and where it ends; the node holds no
  // rows after. A promoted standby's tables go to the master it becomes.
  HandedTables TakeTables() { return {tables_.Take(), applied()}; }

  // What failover (failover/coordinator.h) needs of a standby.
  const RootLayout& layout() const { return layout_; }
  const UpstreamOptions& upstream() const { return upstream_; }
  // The server streamed from now, or last (replica/upstream_choice.h).
  Address current_target() const {
    std::lock_guard lock(ptr_mu_);
    return target_;
  }
  CopierStatus upstream_status() const { return copier()->status(); }
  // The highest epoch seen: in journals.rep at start-up or in the stream since.
  Epoch highest_epoch() const {
    auto c = copier();  // null while the node is still being opened
    return c ? std::max(recovered_epoch_, c->status().epoch) : recovered_epoch_;
  }
  size_t archive_backlog() const { return puller_->backlog().files; }
  // What journalcopy measured (since start-up or the last reseed).
  uint64_t journalcopy_bytes() const { return copier()->metrics().bytes.value(); }
  Histogram::Snapshot journalcopy_fsync() const { return copier()->metrics().fsync_seconds.Read(); }
  // Stops journalcopy (for good, until Restart) and syncs what it copied,
  // whatever journalcopy.fsync says: a failover takes over from it.
  Status StopJournalcopy();
  // The end of the last whole record journalcopied: where an unplanned
  // failover can take over.
  Result<Position> ConsistencyPoint() const;
  // This server's spec as of ConsistencyPoint(): the applied tables, plus
  // what the journalcopied but unapplied records say of it.
  Result<std::optional<ServerSpec>> SpecAtConsistencyPoint() const;
  // Applies everything journalcopied up to `to` regardless of the master's
  // release position, then stops applying; journalcopy must be stopped.
  Status ApplyTo(Position to);
  // Replicates again from its own files (a failover rolled back).
  Status Restart();

 private:
  DownstreamNode(RootLayout layout, int lock_fd) : layout_(std::move(layout)), lock_fd_(lock_fd) {}
  // Recovers from the root's files and builds the two threads (not started).
  Status Load();

  RootLayout layout_;
  int lock_fd_;
  std::string server_id_;
  // The server streamed from now (replica/upstream_choice.h).
  Address target_;
  std::string target_role_;       // as it answered hello when chosen; empty if unknown
  std::vector<Address> targets_;  // the local `target` list
  UpstreamCandidates Candidates() const;
  // Chooses the upstream again (before every connection) and tells older
  // masters that answered that they are stale. An error when no candidate
  // qualified and the one kept did not answer either: connecting to it
  // would only wait out another timeout (a hung old master) before the
  // next round of hellos could find the new one.
  Result<Address> ResolveUpstream(const std::function<bool()>& cancelled);
  // While streaming: moves to a master of a higher epoch than the upstream's.
  void WatchForNewerMaster();
  std::string own_address() const { return address_ ? address_() : ""; }
  std::function<std::string()> address_;  // set by RegisterCommands, before Start
  std::string target_role() const {
    std::lock_guard lock(ptr_mu_);
    return target_role_;
  }
  UpstreamOptions upstream_;
  std::function<void(const Transaction&, Position)> apply_observer_;
  std::mutex reseed_mu_;
  Tables tables_;
  Epoch recovered_epoch_;
  // Replaced by Reseed while commands read them: copy under ptr_mu_.
  std::shared_ptr<PullApplier> applier() const {
    std::lock_guard lock(ptr_mu_);
    return applier_;
  }
  std::shared_ptr<JournalCopier> copier() const {
    std::lock_guard lock(ptr_mu_);
    return copier_;
  }
  void WakeListeners();
  // Logs the progress of a catch-up from far behind (replica/catch_up_log.h).
  void ReportCatchUp(const CopierStatus& st);
  std::mutex catch_up_mu_;
  CatchUpLog catch_up_;
  // What the upstream asked of us (a refused stream with advice), done on
  // the repair thread, since it stops and restarts the copier.
  void Repair(uint64_t generation, const Status& refusal, const Row& advice);
  void RepairLoop();
  // Ends our copy at a new master's failover point and replicates on.
  void CutBack(Position point, const Status& why);

  std::mutex repair_mu_;
  std::condition_variable repair_cv_;
  struct RepairRequest {
    uint64_t generation;  // of the copier that was refused
    Status refusal;
    Row advice;
  };
  std::optional<RepairRequest> repair_;  // guarded by repair_mu_
  std::atomic<uint64_t> generation_{0};  // of the copier now running (Load)
  bool repair_stopping_ = false;         // guarded by repair_mu_
  std::thread repair_thread_;

  std::unique_ptr<ArchivePuller> puller_;
  mutable std::mutex ptr_mu_;
  std::mutex listeners_mu_;
  std::vector<std::weak_ptr<StreamListener>> listeners_;
  std::shared_ptr<PullApplier> applier_;
  std::shared_ptr<JournalCopier> copier_;
};

}  // namespace tandem
