#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <thread>

#include "journal/engine.h"
#include "tools/bench/cluster.h"
#include "tools/bench/modes.h"

namespace tandem::bench {

// Builds a journal of about `mb` megabytes, then times start-up recovery.
int RunRecover(const Options& o) {
  std::string root = o.root.empty() ? "/tmp/tandem-recover-" + std::to_string(::getpid()) : o.root;
  std::filesystem::remove_all(root);
  {
    auto engine = Engine::Open({root, false});
    if (!engine.ok()) return Fail(engine.status());
    std::string value(o.value_bytes(), 'r');
    uint64_t target = o.mb << 20;
    std::atomic<int> inflight{0};
    for (uint64_t i = 0; (*engine)->durable().offset < target; ++i) {
      while (inflight > 4096) std::this_thread::yield();
      ++inflight;
      (*engine)->CommitAsync({{Op::Put("bench", "k" + std::to_string(i % o.keys), value)}},
                             [&](const Status&, Position) { --inflight; });
    }
  }
  // Warm or cold, the journal just written is first written back: otherwise
  // its writeback runs beside the replay, which is not start-up's cost.
  ::sync();
  if (o.cold) {
    if (std::FILE* f = std::fopen("/proc/sys/vm/drop_caches", "w")) {
      std::fputs("3\n", f);
      std::fclose(f);
    } else {
      std::fprintf(stderr, "tandem-bench: cannot drop caches (not root?); recovery is warm\n");
    }
  }
  auto start = Clock::now();
  auto engine = Engine::Open({root, false});
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  if (!engine.ok()) return Fail(engine.status());
  const auto& r = (*engine)->recovery_report();
  std::printf("recovered %llu records, %.0f MB of journal in %.2f s: %.0f MB/s\n",
              static_cast<unsigned long long>(r.records_replayed),
              static_cast<double>(r.bytes_replayed) / (1 << 20), secs,
              static_cast<double>(r.bytes_replayed) / (1 << 20) / secs);
  engine->reset();
  if (o.root.empty()) std::filesystem::remove_all(root);
  return 0;
}

}  // namespace tandem::bench
