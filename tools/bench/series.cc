#include "tools/bench/series.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "journal/file.h"

namespace tandem::bench {
namespace {

double Percentile(std::vector<float> v, double p) {
  if (v.empty()) return 0;
  size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(i), v.end());
  return v[i];
}

// Bounded: a run of an hour at most keeps 36,000 buckets.
constexpr size_t kMaxBuckets = 36000;

}  // namespace

void Series::Commit(Clock::time_point sent, Clock::time_point acked) {
  auto index = static_cast<size_t>(std::max<int64_t>(0, (acked - start_) / kBucket));
  if (index >= kMaxBuckets) return;
  float ms = std::chrono::duration<float, std::milli>(acked - sent).count();
  std::lock_guard lock(mu_);
  if (buckets_.size() <= index) buckets_.resize(index + 1);
  buckets_[index].commits++;
  buckets_[index].latencies_ms.push_back(ms);
}

void Series::Lag(const std::string& server_id, uint64_t bytes) {
  std::lock_guard lock(mu_);
  points_.push_back({Seconds(Clock::now()), "lag_bytes", server_id, static_cast<double>(bytes)});
}

void Series::Event(const std::string& name) {
  std::lock_guard lock(mu_);
  points_.push_back({Seconds(Clock::now()), "event", name, 0});
}

Status Series::WriteCsv(const std::string& path) const {
  std::ostringstream out;
  out << "t_s,kind,name,value\n";
  char line[160];
  std::lock_guard lock(mu_);
  for (size_t i = 0; i < buckets_.size(); ++i) {
    const Bucket& b = buckets_[i];
    double t = static_cast<double>(i) * 0.1;
    double per_s = static_cast<double>(b.commits) / 0.1;
    std::snprintf(line, sizeof line,
                  "%.1f,commits_per_s,,%.0f\n%.1f,p50_ms,,%.3f\n%.1f,p99_ms,,%.3f\n", t, per_s, t,
                  Percentile(b.latencies_ms, 0.50), t, Percentile(b.latencies_ms, 0.99));
    out << line;
  }
  for (const Point& p : points_) {
    std::snprintf(line, sizeof line, "%.3f,%s,%s,%.0f\n", p.t, p.kind.c_str(), p.name.c_str(),
                  p.value);
    out << line;
  }
  return WriteFileDurably(path, out.str());
}

}  // namespace tandem::bench
