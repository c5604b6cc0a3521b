// The modes of tandem-bench, one file each; each returns the exit code.
#pragma once

#include "tools/bench/cluster.h"

namespace tandem::bench {

int RunPut(const Options& o);       // commits/s and latency, beside fsync capacity
int RunLimits(const Options& o);    // the machine's disk and loopback limits
int RunRecover(const Options& o);   // start-up recovery of a large journal
int RunCheckpoint(const Options& o);  // commit latency while checkpoints are taken
int RunCopy(const Options& o);      // journalcopy throughput
int RunContent(const Options& o);   // submit and pull -u MB/s
int RunFailover(const Options& o);  // failover time under load, and what survived

}  // namespace tandem::bench
