// The master's part in a planned failover, driven by the standby taking over:
//
//   failover-master pause STANDBY WAIT_MS LEASE_MS MESSAGE
//       refuse new commits with MESSAGE, let those in flight finish (up to
//       WAIT_MS) and report the final durable position and the digest of the
//       live journal up to it;
//   failover-master resume STANDBY
//       undo the pause (the standby rolls back);
//   failover-master stop STANDBY N/S
//       only while still paused at N/S: fence ROOT/server.id, then stop the
//       server. This is the failover's point of no return.
//
//   failover-master newer EPOCH FROM
//       a server has seen a master of a higher epoch: this master is stale.
//       It fences server.id and refuses every commit from now on.
//
// It also removes the new master's statefailover once every downstream
// server in the specs has reconnected to it (they all continue from
// positions at or before the failover point).
//
// A pause is a lease: if the standby neither stops nor resumes the master
// within LEASE_MS (it died, or lost the network), the master resumes by
// itself, and a later `stop` is refused because the master is no longer paused.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "journal/engine.h"
#include "replica/hub.h"
#include "transport/dispatcher.h"

namespace tandem {

class FailoverParticipant {
 public:
  // `stop_server` shuts the master's server down once `stop` is answered.
  FailoverParticipant(Engine* engine, ReplicationHub* hub, std::function<void()> stop_server);
  ~FailoverParticipant();
  FailoverParticipant(const FailoverParticipant&) = delete;
  FailoverParticipant& operator=(const FailoverParticipant&) = delete;

  void Register(Dispatcher* d);

 private:
  Response Pause(const std::vector<std::string>& args);
  Response Resume(const std::vector<std::string>& args);
  Response Stop(const std::vector<std::string>& args);
  Response Newer(const std::vector<std::string>& args);
  void WatchLease();
  // True once there is no statefailover left to remove.
  bool TidyStateFailover();

  Engine* engine_;
  ReplicationHub* hub_;
  std::function<void()> stop_server_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::string paused_by_;  // empty when not paused
  Position paused_at_;
  std::chrono::steady_clock::time_point lease_end_;
  bool fenced_ = false;
  bool closing_ = false;
  std::thread lease_thread_;
};

}  // namespace tandem
