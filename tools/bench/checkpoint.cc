#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>

#include "journal/engine.h"
#include "tools/bench/cluster.h"
#include "tools/bench/modes.h"
#include "tools/load_generator.h"

namespace tandem::bench {
namespace {

// keys rows in table "bench", then a checkpoint of them: the periodic case,
// in which the last checkpoint is one journal old.
Status Preload(const std::string& root, const Options& o) {
  TANDEM_ASSIGN_OR_RETURN(auto engine, Engine::Open({root, false}));
  std::string value(o.value_bytes(), 'p');
  std::atomic<int> inflight{0};
  constexpr uint64_t kRowsPerCommit = 100;
  for (uint64_t i = 0; i < o.keys; i += kRowsPerCommit) {
    Transaction txn;
    for (uint64_t k = i; k < std::min(o.keys, i + kRowsPerCommit); ++k) {
      txn.ops.push_back(Op::Put("bench", "k" + std::to_string(k), value));
    }
    while (inflight > 256) std::this_thread::yield();
    ++inflight;
    engine->CommitAsync(std::move(txn), [&](const Status&, Position) { --inflight; });
  }
  while (inflight > 0) std::this_thread::yield();
  return engine->Checkpoint().status();
}

}  // namespace

// Commit latency under load with and without checkpoints being taken: the
// second run takes `admin checkpoint` back to back, so every commit in it
// overlaps one.
int RunCheckpoint(const Options& o) {
  ScratchRoot scratch(o.root);
  std::string root = scratch.path() + "/master";
  std::filesystem::remove_all(scratch.path());
  std::filesystem::create_directories(scratch.path());
  if (Status st = Preload(root, o); !st.ok()) return Fail(st);
  OwnServer server;
  auto address = server.Start(root, {"--id master1", "-cset journal.fsync=" + o.fsync});
  if (!address.ok()) return Fail(address.status());
  auto addr = Address::Parse(*address);
  if (!addr.ok()) return Fail(addr.status());

  LoadOptions load = PutLoad(*addr, o);
  auto quiet = RunLoad(load);
  if (!quiet.ok()) return Fail(quiet.status());

  std::atomic<bool> loading{true};
  std::vector<double> checkpoint_ms;
  std::string checkpoint_error;
  std::thread checkpointer([&] {
    while (loading) {
      auto start = Clock::now();
      auto rows = Query(*address, {"admin", "checkpoint"});
      if (!rows.ok()) {
        checkpoint_error = rows.status().message();
        return;
      }
      checkpoint_ms.push_back(
          std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    }
  });
  auto busy = RunLoad(load);
  loading = false;
  checkpointer.join();
  if (!busy.ok()) return Fail(busy.status());
  if (!checkpoint_error.empty())
    return Fail(Status::Unavailable("admin checkpoint: " + checkpoint_error));

  for (auto* run : {&*quiet, &*busy}) std::sort(run->latencies_ns.begin(), run->latencies_ns.end());
  double quiet_p99 = PercentileMs(quiet->latencies_ns, 0.99);
  double busy_p99 = PercentileMs(busy->latencies_ns, 0.99);
  std::sort(checkpoint_ms.begin(), checkpoint_ms.end());
  std::printf("rows                               %llu\n", static_cast<unsigned long long>(o.keys));
  std::printf(
      "without checkpoints                %.0f commits/s, p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
      static_cast<double>(quiet->latencies_ns.size()) / quiet->seconds,
      PercentileMs(quiet->latencies_ns, 0.5), quiet_p99, PercentileMs(quiet->latencies_ns, 1.0));
  std::printf(
      "checkpoints back to back           %.0f commits/s, p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
      static_cast<double>(busy->latencies_ns.size()) / busy->seconds,
      PercentileMs(busy->latencies_ns, 0.5), busy_p99, PercentileMs(busy->latencies_ns, 1.0));
  std::printf("checkpoints taken                  %zu, median %.0f ms\n", checkpoint_ms.size(),
              checkpoint_ms.empty() ? 0.0 : checkpoint_ms[checkpoint_ms.size() / 2]);
  std::printf("p99 ratio (target <= 2)            %.2f\n",
              quiet_p99 > 0 ? busy_p99 / quiet_p99 : 0.0);
  return 0;
}

}  // namespace tandem::bench
