// Upstream side of a journal stream: sends a downstream server the bytes of
// this server's journals, unchanged, from the position it asked for.
//
// A standby gets everything up to the durable position (journalcopy); a
// replica only up to the release position. Every frame carries the current
// durable and release positions, so a standby's pull -L knows how far it may
// apply. At most kMaxInFlight frames are unacknowledged at a time.
//
// Failure detection (rpl.heartbeat.ms, default 200; rpl.timeout.ms, default
// 2000): with nothing to send, a frame goes anyway every heartbeat, and the
// downstream acknowledges every frame, so each side hears from the other at
// least that often. Each side gives up on a peer it has not heard from for
// the timeout — a dead process, a hung one (SIGSTOP) and a black-holed link
// look the same:
//
//   upstream   data  hb    hb    hb  .  .  .  .  .  .  .  .  (hung)
//                |   |     |     |
//   downstream   ack ack   ack   ack ............ timeout: reconnect,
//                                     <- rpl.timeout.ms ->   find the master
//
// (and the other way round: an upstream whose frames are acknowledged by no
// one for the timeout closes the stream, so the master's `servers -J`
// shows it not alive and a mandatory standby holds release visibly).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "journal/engine.h"
#include "journal/file.h"
#include "replica/server_spec.h"
#include "replica/stream_origin.h"
#include "transport/dispatcher.h"
#include "transport/message.h"

namespace tandem {

class JournalStreamer : public Stream,
                        public StreamListener,
                        public std::enable_shared_from_this<JournalStreamer> {
 public:
  // `origin` must outlive the streamer.
  JournalStreamer(StreamOrigin* origin, std::string server_id, bool release_only, Position start);

  void Start(std::shared_ptr<FrameSink> sink) override;
  Status OnFrame(MessageType type, std::string_view body) override;
  void OnClose() override;
  void OnPositions() override;
  void Close(const std::string& reason) override;

 private:
  void Pump();
  // The heartbeat and ack deadline, every heartbeat_.
  void Tick();
  Status OpenJournal(uint32_t journal);

  StreamOrigin* origin_;
  const std::string id_;
  const bool release_only_;
  // Set once in Start, read from any thread. Weak: the session owns us, and
  // a stream open at shutdown must not keep its session (and itself) alive.
  std::weak_ptr<FrameSink> sink_;
  Position next_;  // first byte not yet sent
  File file_;
  uint32_t file_journal_ = 0;
  int in_flight_ = 0;
  Position sent_durable_, sent_release_;
  bool closed_ = false;
  bool refresh_scheduled_ = false;  // a heartbeat to learn the applied position
  std::chrono::milliseconds heartbeat_{200}, timeout_{2000};
  std::chrono::steady_clock::time_point last_sent_, last_ack_;
#ifdef TANDEM_FAULT_POINTS
  bool cut_ = false;  // the stream.cut-mid-record fault point fired
#endif
};

// Checks a downstream server's resume point against our journal: XXH3-64 of
// the up to 4 KiB before `at` in journal at.journal, as hex ("-" at offset 0).
Result<std::string> TailHash(const std::string& path, uint64_t at);
// The path of journal n on this master (live or rotated), by its header.
Result<std::string> MasterJournalPath(const Engine& engine, uint32_t n);

// A downstream server's opening request: where it resumes, a hash of the
// bytes before that point, and — so that after a failover the master can
// tell it what to do — the highest epoch it holds and how far it applied.
struct StreamRequest {
  std::string id = {};
  Position start = {};
  std::string tail = {};
  Epoch epoch{0};  // 0: not sent
  Position applied = {};
  std::string user = {};  // who asks (empty on an unsecured server)
  bool secured = false;
};

// Checks a request: a spec that names it standby or replica (and, on a
// secured server, names the asking service user in User:), a resume point
// we hold, and a journal tail equal to ours. Returns its spec. When the
// downstream server went past a failover point of ours, the error is
// kDiverged with {"cutBack": P} in *advice (its copy must end at P), or
// kNeedsReseed with {"reseed": "auto"} (it applied what we never had).
Result<ServerSpec> CheckStreamRequest(const StreamOrigin& origin, const StreamRequest& request,
                                      Row* advice);

}  // namespace tandem
