// The machine's own limits, measured in the same run as a benchmark so that
// results can be reported as ratios against them.
#pragma once

#include <string>

#include "journal/status.h"

namespace tandem {

struct DiskLimits {
  double fdatasync_per_sec_preallocated = 0;  // 4 KiB overwrite + fdatasync, fallocated file
  double fdatasync_per_sec_appending = 0;     // 4 KiB append + fdatasync, growing file
  double seq_write_mb_per_sec = 0;            // dd bs=1M count=1024 conv=fdatasync
};

// Measures in `dir` (a scratch file is created and removed) for about
// `seconds` per figure.
Result<DiskLimits> MeasureDisk(const std::string& dir, double seconds);

// TCP bandwidth over 127.0.0.1 between two threads, MB/s (1 MiB writes).
Result<double> MeasureLoopbackMBps(uint64_t bytes = 1ull << 30);

}  // namespace tandem
