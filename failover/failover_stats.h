// Failovers this process ran, by kind and outcome, with their durations,
// for /metrics. Process-wide: a promoted standby restarts as the master in
// the same process, and its count must survive that.
#pragma once

#include "journal/metrics.h"

namespace tandem {

struct FailoverStats {
  // [planned][outcome]: outcome 0 completed, 1 rolled back, 2 left to finish
  // at the next start (it failed past the point of no return).
  Counter runs[2][3];
  Histogram seconds{kLatencyBounds};  // completed ones: command to promoted
};

FailoverStats& ProcessFailoverStats();

}  // namespace tandem
