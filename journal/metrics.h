// Counters and histograms the hot paths update without locks, read by the
// metrics endpoint (observe/). Updates are relaxed atomics: a scrape may see
// a histogram's count one ahead of its buckets, never a torn value.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>

namespace tandem {

class Counter {
 public:
  void Add(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// Fixed bucket bounds, chosen per histogram at construction: seconds for
// latencies, counts for batch sizes.
class Histogram {
 public:
  static constexpr size_t kMaxBuckets = 16;
  struct Snapshot {
    std::array<double, kMaxBuckets> bounds{};
    std::array<uint64_t, kMaxBuckets> cumulative{};  // observations <= bounds[i]
    size_t buckets = 0;
    uint64_t count = 0;
    double sum = 0;
  };

  // `bounds` ascending, at most kMaxBuckets of them; +Inf is implied.
  template <size_t N>
  explicit Histogram(const double (&bounds)[N]) : buckets_(N) {
    static_assert(N <= kMaxBuckets);
    for (size_t i = 0; i < N; ++i) bounds_[i] = bounds[i];
  }

  void Observe(double value);
  void ObserveSince(std::chrono::steady_clock::time_point start) {
    Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  Snapshot Read() const;

 private:
  std::array<double, kMaxBuckets> bounds_{};
  size_t buckets_;
  std::array<std::atomic<uint64_t>, kMaxBuckets> counts_{};  // per bucket, not cumulative
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_micros_{0};  // an integer sum: no CAS loop on a double
};

// Bounds shared by the latency histograms: 50 µs to 5 s.
inline constexpr double kLatencyBounds[] = {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                            0.005,   0.01,   0.025,   0.05,   0.1,   0.25,
                                            0.5,     1,      2.5,     5};
inline constexpr double kBatchBounds[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096};

// What the journal writer measures.
struct WriterMetrics {
  Counter records;                           // durable records of every type
  Histogram append_seconds{kLatencyBounds};  // Append() to durable, per record
  Histogram fsync_seconds{kLatencyBounds};   // one fdatasync
  Histogram batch_records{kBatchBounds};     // records per group commit
};

// What a standby's journalcopy measures.
struct CopierMetrics {
  Counter bytes;                            // journal bytes received and written
  Histogram fsync_seconds{kLatencyBounds};  // one fdatasync of the copy
};

}  // namespace tandem
