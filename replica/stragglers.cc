#include "replica/stragglers.h"

#include <algorithm>

#include <openssl/ssl.h>

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
  // OpenSSL registers its cleanup at exit when it first initialises, which
  // could be after our first use: initialised before us, it is cleaned up
  // after our destructor has joined every TLS hello still running.
  static const bool ssl_first = OPENSSL_init_ssl(0, nullptr) == 1;
  (void)ssl_first;
  static Stragglers stragglers;
  return stragglers;
}

}  // namespace tandem
