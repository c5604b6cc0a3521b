#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "journal/engine.h"
#include "journal/numbers.h"
#include "tools/bench/cluster.h"
#include "tools/bench/modes.h"
#include "tools/machine_limits.h"

namespace tandem::bench {

// Journalcopy throughput: a standby started on an empty root copies a
// master's journal of about `mb` MB; timed until its journalcopy position
// reaches the master's durable position.
int RunCopy(const Options& o) {
  std::string base = o.root.empty() ? "/tmp/tandem-copy-" + std::to_string(::getpid()) : o.root;
  std::filesystem::remove_all(base);
  {
    auto engine = Engine::Open({base + "/master", false});
    if (!engine.ok()) return Fail(engine.status());
    std::string value(4000, 'c');
    std::atomic<int> inflight{0};
    for (uint64_t i = 0; (*engine)->durable().offset < (o.mb << 20); ++i) {
      while (inflight > 1024) std::this_thread::yield();
      ++inflight;
      (*engine)->CommitAsync({{Op::Put("copy", "k" + std::to_string(i % 100000), value)}},
                             [&](const Status&, Position) { --inflight; });
    }
  }
  Options cluster_opts = o;
  cluster_opts.standbys = 0;
  Cluster c;
  if (Status st = StartCluster(base, cluster_opts, &c); !st.ok()) return Fail(st);
  auto info = Query(c.master, {"info"});
  if (!info.ok() || info->empty()) return Fail(Status::Unavailable("no info from the master"));
  auto journal = ParseDecimal<uint32_t>(FieldOf(info->at(0), "journal"));
  auto sequence = ParseDecimal<uint64_t>(FieldOf(info->at(0), "sequence"));
  if (!journal || !sequence) return Fail(Status::Corruption("the master's info has no position"));
  Position target{*journal, *sequence};
  auto start = Clock::now();
  if (Status st = AddDownstream(base, o, "standby1", "standby", false, &c); !st.ok()) {
    return Fail(st);
  }
  const std::string standby = c.downstream.back().second;
  for (;;) {
    auto pull = Query(standby, {"pull", "-lj"});
    Position copied;
    if (pull.ok() &&
        Position::ParseToken(std::string(FieldOf(pull->at(0), "journalcopy")), &copied) &&
        copied >= target) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  double mb =
      static_cast<double>(std::filesystem::file_size(base + "/standby1/journals.rep/journal.1")) /
      (1 << 20);
  auto disk = MeasureDisk(base, 1.0);
  auto loop = MeasureLoopbackMBps();
  std::printf("journalcopy of %.0f MB (standby fsync %s): %.2f s, %.0f MB/s\n", mb,
              o.standby_fsync.c_str(), secs, mb / secs);
  if (disk.ok()) {
    std::printf("disk sequential write %.0f MB/s: journalcopy = %.0f%%\n",
                disk->seq_write_mb_per_sec, 100 * mb / secs / disk->seq_write_mb_per_sec);
  }
  if (loop.ok())
    std::printf("loopback %.0f MB/s: journalcopy = %.0f%%\n", *loop, 100 * mb / secs / *loop);
  return 0;
}

}  // namespace tandem::bench
