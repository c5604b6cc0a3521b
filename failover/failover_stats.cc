#include "failover/failover_stats.h"

namespace tandem {

FailoverStats& ProcessFailoverStats() {
  static FailoverStats* stats = new FailoverStats();  // never destroyed: read until exit
  return *stats;
}

}  // namespace tandem
