#include "journal/metrics.h"

#include <algorithm>
#include <cmath>

namespace tandem {

void Histogram::Observe(double value) {
  // The first bound at or above the value; past the last one only +Inf
  // (count) holds it.
  auto end = bounds_.begin() + static_cast<std::ptrdiff_t>(buckets_);
  auto it = std::lower_bound(bounds_.begin(), end, value);
  if (it != end)
    counts_[static_cast<size_t>(it - bounds_.begin())].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  double micros = std::max(0.0, value) * 1e6;
  sum_micros_.fetch_add(static_cast<uint64_t>(std::llround(micros)), std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::Read() const {
  Snapshot s;
  s.buckets = buckets_;
  uint64_t running = 0;
  for (size_t i = 0; i < buckets_; ++i) {
    s.bounds[i] = bounds_[i];
    running += counts_[i].load(std::memory_order_relaxed);
    s.cumulative[i] = running;
  }
  // Read last, and never below the buckets: +Inf must be the largest.
  s.count = std::max(running, count_.load(std::memory_order_relaxed));
  s.sum = static_cast<double>(sum_micros_.load(std::memory_order_relaxed)) / 1e6;
  return s;
}

}  // namespace tandem
