#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <thread>

#include "tools/bench/cluster.h"
#include "tools/bench/modes.h"
#include "tools/machine_limits.h"
#include "transport/content_client.h"

namespace tandem::bench {
namespace {

// Waits (at most ten minutes) until the replica lists `files` files under
// //bench/ and its pull -u has nothing left to fetch.
Status WaitForReplica(const std::string& replica, uint64_t files) {
  auto deadline = Clock::now() + std::chrono::minutes(10);
  while (Clock::now() < deadline) {
    auto pull = Query(replica, {"pull", "-lj"});
    auto listed = Query(replica, {"files", "//bench/"});
    if (pull.ok() && listed.ok() && listed->size() == files &&
        FieldOf(pull->at(0), "pullUFiles") == "0") {
      return Status::Ok();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return Status::Timeout("the replica did not fetch everything in ten minutes");
}

}  // namespace

// Versioned content, one stream at a time. First C clients submit `count`
// incompressible files to a master, file n of sizes[n % sizes.size()]
// bytes: submit MB/s.
// Then a replica joins; the metadata it must apply is a few hundred rows, so
// the time until it holds every file (verified) is pull -u's: fetch MB/s.
int RunContent(const Options& o) {
  std::string base = o.root.empty() ? "/tmp/tandem-content-" + std::to_string(::getpid()) : o.root;
  std::filesystem::remove_all(base);
  Options co = o;
  co.standbys = 0;
  co.replicas = 0;
  Cluster c;
  if (Status st = StartCluster(base, co, &c); !st.ok()) return Fail(st);
  uint64_t files = o.count ? o.count : 64;
  const size_t largest = *std::max_element(o.sizes.begin(), o.sizes.end());
  std::vector<std::string> bodies(static_cast<size_t>(o.clients));
  for (int t = 0; t < o.clients; ++t) {
    bodies[t].resize(largest);
    uint64_t x = 0x9E3779B97F4A7C15ull * static_cast<uint64_t>(t + 1);
    for (char& ch : bodies[t]) {  // xorshift: incompressible
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      ch = static_cast<char>(x);
    }
  }
  auto addr = Address::Parse(c.master);
  if (!addr.ok()) return Fail(addr.status());
  std::atomic<uint64_t> next{0}, failed{0}, bytes{0};
  auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < o.clients; ++t) {
    threads.emplace_back([&, t] {
      std::string body = bodies[t];
      for (uint64_t n; (n = next++) < files;) {
        const size_t size = o.sizes[n % o.sizes.size()];
        if (size >= sizeof n) std::memcpy(body.data(), &n, sizeof n);  // all distinct
        auto client = Client::Connect(*addr, {});  // an upload takes its connection
        auto source = [&body, size](char* buf, size_t want, uint64_t offset) -> Result<size_t> {
          size_t got = std::min<size_t>(want, size - offset);
          std::memcpy(buf, body.data() + offset, got);
          return got;
        };
        if (client.ok() &&
            SubmitContent(client->get(), {}, "//bench/f" + std::to_string(n), size, source).ok()) {
          bytes += size;
        } else {
          ++failed;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  double submit_secs = std::chrono::duration<double>(Clock::now() - start).count();

  if (Status st = AddDownstream(base, o, "replica1", "replica", false, &c); !st.ok()) {
    return Fail(st);
  }
  auto fetch_start = Clock::now();
  if (Status st = WaitForReplica(c.downstream.back().second, files - failed); !st.ok()) {
    return Fail(st);
  }
  double fetch_secs = std::chrono::duration<double>(Clock::now() - fetch_start).count();

  double mb = static_cast<double>(bytes.load()) / (1 << 20);
  auto disk = MeasureDisk(base, 1.0);
  auto loop = MeasureLoopbackMBps();
  std::printf("%llu files, %.0f MB in all, %d clients, %llu failed\n",
              static_cast<unsigned long long>(files), mb, o.clients,
              static_cast<unsigned long long>(failed.load()));
  std::printf("submit:  %.2f s, %.0f MB/s\n", submit_secs, mb / submit_secs);
  std::printf("pull -u: %.2f s, %.0f MB/s (a new replica fetching all of it)\n", fetch_secs,
              mb / fetch_secs);
  if (disk.ok()) {
    double limit = disk->seq_write_mb_per_sec;
    std::printf("disk sequential write %.0f MB/s: submit = %.0f%%, pull -u = %.0f%%\n", limit,
                100 * mb / submit_secs / limit, 100 * mb / fetch_secs / limit);
  }
  if (loop.ok()) {
    std::printf("loopback %.0f MB/s: submit = %.0f%%, pull -u = %.0f%%\n", *loop,
                100 * mb / submit_secs / *loop, 100 * mb / fetch_secs / *loop);
  }
  if (o.root.empty()) std::filesystem::remove_all(base);
  return failed > 0 ? 1 : 0;
}

}  // namespace tandem::bench
