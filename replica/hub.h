// The master's view of its downstream servers: their journalcopy (flushed)
// and applied positions, and the *release position* derived from them.
//
// release = min(flushed position of every mandatory standby), capped at the
// durable position; with no mandatory standby, release = durable. It never
// moves backwards. Nothing past it is sent to a replica or applied by a
// standby. A mandatory standby that has not acknowledged since the master
// started holds release where it was (persisted in ROOT/staterelease): a
// down mandatory standby stalls replication, loudly.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "journal/engine.h"
#include "journal/mutex.h"
#include "replica/server_spec.h"
#include "replica/stream_messages.h"
#include "replica/stream_origin.h"

namespace tandem {

// Replication lag samples of one downstream server, in microseconds: from
// the moment a position became durable on the master to the acknowledgement
// that it was flushed (journalcopy) or applied (pull -L) downstream.
struct LagStats {
  std::vector<uint32_t> flushed_us;
  std::vector<uint32_t> applied_us;
  static constexpr size_t kMaxSamples = 1 << 20;
};

struct DownstreamStatus {
  std::string id;
  ServerType type = ServerType::kReplica;
  bool mandatory = false;
  bool connected = false;
  Position written;  // journalcopied, perhaps not yet synced there
  Position flushed;  // durable there: what release counts
  Position applied;
  int64_t last_seen = 0;       // unix seconds of the last acknowledgement
  uint64_t backlog_files = 0;  // its pull -u backlog, as last reported
  uint64_t backlog_bytes = 0;
  LagStats lag;
};

class ReplicationHub : public StreamOrigin {
 public:
  using Listener = StreamListener;

  // Installs itself as the engine's durable observer. `engine` must outlive it.
  explicit ReplicationHub(Engine* engine);
  ~ReplicationHub();

  Position release() const override;
  Position durable() const override { return engine_->durable(); }
  Epoch epoch() const override { return engine_->epoch(); }
  bool is_master() const override { return true; }
  const std::string& server_id() const override { return engine_->server_id(); }
  const Tables& tables() const override { return engine_->tables(); }
  Result<std::string> JournalPath(uint32_t n) const override;
  // Calls fn(Ok) once release reaches pos (at once if it has), or fn(error):
  // kUnconfirmed once commit.wait.timeout (seconds, default 30, 0 = no
  // limit) has passed, or Unavailable if the hub goes first (the server
  // stops).
  void WhenReleased(Position pos, std::function<void(const Status&)> fn);
  // Fails every commit waiting for release with `why` (this master fenced,
  // or Stopping(): the server stops).
  void FailWaiting(const Status& why);
  static Status Stopping();
  void Attach(const std::string& id, std::shared_ptr<Listener> listener) override;
  void Detach(const std::string& id, const Listener* listener) override;
  void OnAck(const std::string& id, const JournalAck& ack) override;
  // Server specs changed (a mandatory flag, a new standby): recompute now.
  void Recompute();
  // Ends every journal stream (this master was fenced).
  void CloseStreams(const std::string& reason);
  Status Serving() const override;
  void LearnAddress(const std::string& id, const std::string& address) override;
  std::vector<DownstreamStatus> Downstream() const;
  // Mandatory standbys that hold release back because they are not connected.
  std::vector<std::string> StalledBy() const;
  // Commits waiting for release, and how long the oldest of them has waited
  // without release moving (0 when none waits).
  struct Stall {
    size_t waiting = 0;
    double seconds = 0;
  };
  Stall ReleaseStall() const;

 private:
  void OnDurable(Position durable);
  // Recomputes release; returns true when it moved.
  bool RecomputeLocked(Position durable) TANDEM_REQUIRES(mu_);
  // The server specs, parsed again only when the `server` table changed
  // (this runs after every durable batch and every acknowledgement).
  const std::vector<ServerSpec>& SpecsLocked() TANDEM_REQUIRES(mu_);
  void WakeListeners() TANDEM_EXCLUDES(mu_);
  // Takes the waiters that release has passed, to run outside mu_.
  std::vector<std::function<void(const Status&)>> TakeReleasedLocked() TANDEM_REQUIRES(mu_);
  // A thread of its own: fails waiters past their deadline, and persists
  // release when it is due.
  void RunBackground();
  // Who holds release back, for an error message.
  std::string StalledByLocked() const TANDEM_REQUIRES(mu_);
  struct Waiter {
    std::function<void(const Status&)> fn;
    std::chrono::steady_clock::time_point deadline;
    std::chrono::steady_clock::time_point queued;
  };

  Engine* engine_;  // borrowed
  mutable Mutex mu_;
  Position release_ TANDEM_GUARDED_BY(mu_);
  Position persisted_release_ TANDEM_GUARDED_BY(mu_);  // or being persisted
  bool persist_due_ TANDEM_GUARDED_BY(mu_) = false;
  std::chrono::steady_clock::time_point release_moved_ TANDEM_GUARDED_BY(mu_) =
      std::chrono::steady_clock::now();
  std::map<std::string, DownstreamStatus> downstream_ TANDEM_GUARDED_BY(mu_);
  std::map<std::string, std::vector<std::weak_ptr<Listener>>> listeners_ TANDEM_GUARDED_BY(mu_);
  std::set<std::string> warned_ TANDEM_GUARDED_BY(mu_);
  std::optional<uint64_t> specs_checksum_ TANDEM_GUARDED_BY(mu_);
  std::vector<ServerSpec> specs_ TANDEM_GUARDED_BY(mu_);
  std::multimap<Position, Waiter> waiting_ TANDEM_GUARDED_BY(mu_);
  bool stopping_ TANDEM_GUARDED_BY(mu_) = false;
  CondVar background_cv_;
  std::thread background_;
  // When recent durable positions were reached, for lag samples.
  std::deque<std::pair<Position, std::chrono::steady_clock::time_point>> durable_times_
      TANDEM_GUARDED_BY(mu_);
};

}  // namespace tandem
