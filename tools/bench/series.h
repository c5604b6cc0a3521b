// Time series of a benchmark run, for bench/plot.py: commits and latency
// percentiles per 100 ms, replication lag per downstream server as sampled,
// and events (a failover's start and first acknowledged write).
//
// The CSV is long ("tidy"): t_s,kind,name,value, one measurement per line.
//   commits_per_s,,N   p50_ms,,X   p99_ms,,X   lag_bytes,SERVERID,N
//   event,failover-start|failover-end,0
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "journal/status.h"

namespace tandem::bench {

class Series {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::milliseconds kBucket{100};

  explicit Series(Clock::time_point start = Clock::now()) : start_(start) {}

  // An acknowledged commit that took from `sent` to `acked`. Thread-safe.
  void Commit(Clock::time_point sent, Clock::time_point acked);
  void Lag(const std::string& server_id, uint64_t bytes);
  void Event(const std::string& name);

  Status WriteCsv(const std::string& path) const;

 private:
  double Seconds(Clock::time_point t) const {
    return std::chrono::duration<double>(t - start_).count();
  }
  struct Bucket {
    uint64_t commits = 0;
    std::vector<float> latencies_ms;
  };
  struct Point {
    double t;
    std::string kind, name;
    double value;
  };

  const Clock::time_point start_;
  mutable std::mutex mu_;
  std::vector<Bucket> buckets_;  // by 100 ms since start_
  std::vector<Point> points_;    // lag samples and events
};

}  // namespace tandem::bench
