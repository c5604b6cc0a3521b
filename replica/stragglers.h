// Work a caller stopped waiting for: the hellos a round of
// replica/upstream_choice.h no longer needs once a newer master answered,
// or an older master being told that it is stale. Each piece is bounded by
// its own timeouts and owns what it uses (no node: a standby that promotes
// itself must not wait for them). The one set of them is the process's,
// joined when it exits, before the statics (asio's, OpenSSL's) go.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace tandem {

class Stragglers {
 public:
  Stragglers() = default;
  ~Stragglers();
  Stragglers(const Stragglers&) = delete;
  Stragglers& operator=(const Stragglers&) = delete;

  // Runs `fn` on a thread of its own; finished ones are joined here first.
  void Run(std::function<void()> fn);

 private:
  struct Job {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  std::mutex mu_;
  std::vector<Job> jobs_;  // guarded by mu_
};

Stragglers& ProcessStragglers();

}  // namespace tandem
