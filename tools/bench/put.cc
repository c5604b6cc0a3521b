#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

#include "tools/bench/cluster.h"
#include "tools/bench/modes.h"
#include "tools/load_generator.h"
#include "tools/machine_limits.h"

namespace tandem::bench {

int RunPut(const Options& o) {
  std::string address = o.address;
  std::string root = o.root;
  std::optional<ScratchRoot> scratch;  // for servers of our own (no -p)
  Cluster cluster;                     // stops them before the scratch goes
  if (address.empty()) {
    root = scratch.emplace(o.root).path();
    std::filesystem::remove_all(root);
    if (Status st = StartCluster(root, o, &cluster); !st.ok()) return Fail(st);
    address = cluster.master;
  }
  auto addr = Address::Parse(address);
  if (!addr.ok()) return Fail(addr.status());

  auto result = RunLoad(PutLoad(*addr, o));
  if (!result.ok()) return Fail(result.status());
  std::vector<uint64_t>& all = result->latencies_ns;
  std::sort(all.begin(), all.end());
  double elapsed = result->seconds;
  double commits_per_sec = static_cast<double>(all.size()) / elapsed;
  uint64_t failed = result->failed;

  std::vector<Row> downstream;
  if (auto rows = Query(address, {"servers", "-J"}); rows.ok()) {
    for (const Row& r : *rows) {
      if (FieldOf(r, "type") != "standard") downstream.push_back(r);
    }
  }
  std::string limits_dir = root.empty() ? "/tmp" : root;
  auto limits = MeasureDisk(limits_dir, 1.0);
  nlohmann::ordered_json j;
  j["clients"] = o.clients;
  j["pipeline"] = o.pipeline;
  j["standbys"] = o.standbys;
  j["replicas"] = o.replicas;
  j["mandatory"] = o.mandatory;
  j["commit_wait"] = o.commit_wait;
  j["value_bytes"] = o.value_bytes();
  j["fsync"] = o.fsync;
  j["seconds"] = elapsed;
  j["commits"] = all.size();
  j["failed"] = failed;
  j["commits_per_sec"] = commits_per_sec;
  j["p50_ms"] = PercentileMs(all, 0.50);
  j["p99_ms"] = PercentileMs(all, 0.99);
  j["p999_ms"] = PercentileMs(all, 0.999);
  if (limits.ok()) {
    j["disk_fdatasync_per_sec"] = limits->fdatasync_per_sec_preallocated;
    j["disk_seq_write_mb_per_sec"] = limits->seq_write_mb_per_sec;
    j["commits_per_fdatasync_capacity"] = commits_per_sec / limits->fdatasync_per_sec_preallocated;
  }
  for (const Row& r : downstream) {
    std::string id(FieldOf(r, "serverID"));
    for (const char* f : {"flushLagP50us", "flushLagP99us", "applyLagP50us", "applyLagP99us"}) {
      j[id + "_" + f] = std::string(FieldOf(r, f));
    }
  }
  if (o.format == "json") {
    std::cout << j.dump(2) << "\n";
  } else if (o.format == "csv") {
    bool first = true;
    for (auto& [k, v] : j.items()) std::cout << (first ? "" : ",") << k, first = false;
    std::cout << "\n";
    first = true;
    for (auto& [k, v] : j.items()) std::cout << (first ? "" : ",") << v, first = false;
    std::cout << "\n";
  } else {
    for (auto& [k, v] : j.items()) std::printf("%-34s %s\n", k.c_str(), v.dump().c_str());
  }
  return failed > 0 && all.empty() ? 1 : 0;
}

int RunLimits(const Options& o) {
  auto limits = MeasureDisk(o.root.empty() ? "/tmp" : o.root, 2.0);
  if (!limits.ok()) return Fail(limits.status());
  std::printf("fdatasync/s, 4 KiB overwrite of preallocated space: %.0f\n",
              limits->fdatasync_per_sec_preallocated);
  std::printf("fdatasync/s, 4 KiB append to a growing file:        %.0f\n",
              limits->fdatasync_per_sec_appending);
  std::printf("sequential write MB/s (1 MiB writes, fdatasync):   %.0f\n",
              limits->seq_write_mb_per_sec);
  if (auto loop = MeasureLoopbackMBps(); loop.ok()) {
    std::printf("loopback TCP MB/s (1 MiB writes):                  %.0f\n", *loop);
  }
  return 0;
}

}  // namespace tandem::bench
