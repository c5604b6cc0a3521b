#include "replica/stragglers.h"

#include <algorithm>

namespace tandem {

Stragglers::~Stragglers() {
  std::lock_guard lock(mu_);
  for (Job& job : jobs_) job.thread.join();
}

void Stragglers::Run(std::function<void()> fn) {
  auto done = std::make_shared<std::atomic<bool>>(false);
  std::lock_guard lock(mu_);
  auto finished = std::partition(jobs_.begin(), jobs_.end(), [](const Job& j) { return !*j.done; });
  for (auto it = finished; it != jobs_.end(); ++it) it->thread.join();
  jobs_.erase(finished, jobs_.end());
  jobs_.push_back({std::thread([fn = std::move(fn), done] {
                     fn();
                     *done = true;
                   }),
                   done});
}

Stragglers& ProcessStragglers() {
  static Stragglers stragglers;  // after the statics of the first that use it
  return stragglers;
}

}  // namespace tandem
