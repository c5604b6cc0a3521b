// journalcopy: the downstream thread that receives journal bytes from the
// upstream server and writes them unchanged to ROOT/journals.rep/journal.N,
// syncs, records the position in ROOT/statejcopy and acknowledges.
//
// Two positions, never confused:
//   written  bytes handed to the filesystem (page cache); pull -L and
//            cascaded replicas may use them, since the master holds them;
//   flushed  bytes a sync made durable; only these are acknowledged as
//            flushed, so only these count toward the master's release and
//            commit.wait=mandatory.
// With journalcopy.fsync=off the copy is synced only when a journal is
// complete, so flushed lags; a mandatory standby syncs regardless.
//
// A failed sync is fatal and sticky (the kernel may have dropped the pages
// and will not say so twice): the copy is cut back to the last good sync,
// journalcopy stops, and the server leaves failover candidacy until it is
// restarted on a healthy disk. Other errors reconnect (bounded backoff) and
// resume from the written position; before the upstream sends anything it
// checks that our copy's last bytes equal its own, so a diverged copy is
// refused, never appended to.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "journal/file.h"
#include "journal/metrics.h"
#include "journal/mutex.h"
#include "journal/root_layout.h"
#include "replica/stream_messages.h"
#include "transport/client.h"

namespace tandem {

struct UpstreamOptions {
  Address target;
  // When set, asked before every connection attempt (re-pointing from the
  // master's replicated SERVERID#target); `target` is the fallback. An error
  // is that attempt's failure. It gives up at once once `cancelled` says so
  // (the copier is stopping: a failover waits for that).
  std::function<Result<Address>(const std::function<bool()>& cancelled)> resolve_target;
  std::string server_id;  // ours, as the upstream knows it
  std::string user;       // service user; empty on an unsecured upstream
  std::string password;
  ClientOptions client;
  bool fsync = true;
  // rpl.timeout.ms as it stands: how long a connect, and any wait for the
  // next frame (a heartbeat comes every rpl.heartbeat.ms), may take.
  std::function<std::chrono::milliseconds()> timeout;
  // Where this server listens, told to the upstream so that a spec without
  // an Address gets one (empty: not told).
  std::function<std::string()> own_address;
};

// A connection to the upstream, logged in as the service user when the
// upstream is secured.
struct UpstreamConnection {
  std::unique_ptr<Client> client;
  std::string user;  // the service user it logged in as (empty: unsecured)
  std::string ticket;
};
Result<UpstreamConnection> ConnectUpstream(const UpstreamOptions& upstream);
// How this root reaches another server of its cluster: as its local
// service.user (ROOT/config.local), pinning the peer's key on first contact
// in ROOT/trust.
UpstreamOptions UpstreamFor(const RootLayout& layout, const Address& target);

struct CopierStatus {
  bool connected = false;
  bool failed = false;  // a sync failed: journalcopy stopped for good (last_error says why)
  Position written;
  Position flushed;
  Position upstream_durable;
  Position release;
  Epoch epoch;
  std::string role;  // from the upstream's spec of us
  bool mandatory = false;
  std::string upstream;  // the address streamed from (or last tried)
  std::string last_error;
  // last_error is this server's own (writing its copy failed: a full disk),
  // not its upstream's silence.
  bool local_error = false;
  int64_t last_data_unix = 0;
  int64_t last_heard_ms = 0;  // unix ms of the last frame from the upstream
};

class JournalCopier {
 public:
  // Runs after each group of frames is written (and synced when it is), with
  // the new status. Must not block.
  using Progress = std::function<void(const CopierStatus&)>;

  // What the downstream reports upstream besides its journalcopy position.
  struct LocalProgress {
    Epoch epoch{0};  // the highest epoch this server holds
    Position applied;
    uint64_t backlog_files = 0;
    uint64_t backlog_bytes = 0;
  };
  // `copied` is where valid data in journals.rep ends (start-up recovery has
  // synced it, so it is durable).
  JournalCopier(RootLayout layout, UpstreamOptions upstream, Position copied, Progress progress,
                std::function<LocalProgress()> local);
  ~JournalCopier();
  JournalCopier(const JournalCopier&) = delete;
  JournalCopier& operator=(const JournalCopier&) = delete;

  // Called (on the copier thread; must not block) when the upstream refuses
  // the stream with advice for this server: kDiverged with {"cutBack": P},
  // kNeedsReseed with {"reseed": ...}. Set before Start.
  void SetRefusedHandler(std::function<void(const Status&, const Row&)> handler) {
    refused_ = std::move(handler);
  }
  void Start();
  void Stop();
  // Drops the connection; the copier connects again at once, choosing its
  // upstream afresh (resolve_target).
  void Reconnect();
  CopierStatus status() const;
  const CopierMetrics& metrics() const { return metrics_; }

 private:
  void Run();
  Status Connection();
  // Writes a frame's bytes (not yet synced).
  Status Receive(const JournalData& data);
  // Syncs what is written; a failure is sticky (see above).
  Status Flush();
  Status PersistPosition();
  JournalAck MakeAck(uint32_t frames) const;

  const RootLayout layout_;
  const UpstreamOptions upstream_;
  Progress progress_;
  std::function<LocalProgress()> local_;
  std::function<void(const Status&, const Row&)> refused_;

  std::mutex stop_mu_;  // one Stop at a time
  mutable Mutex mu_;
  CondVar cv_;
  CopierStatus status_ TANDEM_GUARDED_BY(mu_);
  bool stopping_ TANDEM_GUARDED_BY(mu_) = false;
  std::unique_ptr<Client> client_ TANDEM_GUARDED_BY(mu_);  // for Shutdown from Stop

  // Owned by the copier thread.
  File file_;
  CopierMetrics metrics_;
  uint32_t file_journal_ = 0;
  bool sync_each_batch_ = true;  // journalcopy.fsync, or a mandatory standby
  Position written_;
  Position flushed_;
  Position persisted_;
  std::thread thread_;
};

}  // namespace tandem
