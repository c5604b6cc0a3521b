// What a standby does about failover:
//   failover [-y] [-m | [-i] [-s MASTERID]] [-w QUIESCE_SECS] [-v VERIFY_SECS] [MESSAGE]
//   failback [-y] [-w SECS] [-v SECS] [MESSAGE]   (failover with the master required)
// super users only, one at a time; and, with the replicated configurable
// `failover.auto=1` (off by default), an unplanned failover by itself once
// the master has been silent for `failover.auto.seconds` (default 10).
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "failover/coordinator.h"
#include "replica/downstream_node.h"
#include "transport/dispatcher.h"

namespace tandem {

class StandbyFailover {
 public:
  // `on_promoted` runs once a failover has promoted the root (after the
  // response to `failover -y` is on the wire): serve it as a master now.
  // `address` gives the address this server listens on.
  StandbyFailover(DownstreamNode* node, std::function<std::string()> address,
                  std::function<void()> on_promoted);
  ~StandbyFailover();
  StandbyFailover(const StandbyFailover&) = delete;
  StandbyFailover& operator=(const StandbyFailover&) = delete;

  void Register(Dispatcher* d);
  // Runs one failover, as `failover` does, unless another is running
  // (nullopt); `observer` sees each line as it is produced. Blocks for the
  // whole failover. An executed one that succeeded calls on_promoted.
  std::optional<FailoverReport> Run(FailoverOptions options, Failover::Observer observer = nullptr);
  // Starts the thread that watches for a dead master (it does nothing while
  // failover.auto is not 1).
  void StartAutoWatch();
  // Stops and joins that thread, and makes a failover still running roll
  // back at its next step (the server is stopping).
  void StopWatching();

 private:
  void WatchMaster();

  DownstreamNode* node_;
  std::function<std::string()> address_;
  std::string last_refusal_;  // failover.auto's last reason not to (logged once)
  std::function<void()> on_promoted_;
  std::mutex run_mu_;  // one failover at a time
  std::atomic<bool> cancelled_{false};

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread watch_;
};

}  // namespace tandem
