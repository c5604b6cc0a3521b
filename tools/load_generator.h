// Drives many client connections from one event loop, as redis-benchmark
// does, so that the load generator costs little CPU beside the server it
// measures (the two share the machine): one recv brings whatever replies have
// arrived. Each connection keeps `pipeline` requests in flight (1: each waits
// for the answer to the one before, as redis-benchmark does without -P).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "journal/address.h"
#include "journal/status.h"
#include "transport/message.h"

namespace tandem {

struct LoadResult {
  std::vector<uint64_t> latencies_ns;  // one per acknowledged request, unsorted
  uint64_t failed = 0;
  double seconds = 0;
};

struct LoadOptions {
  Address address;  // plain TCP only
  int connections = 64;
  int pipeline = 1;
  double seconds = 10;
  uint64_t max_requests = 0;  // 0 = until time runs out
  // Builds the n-th request.
  std::function<Request(uint64_t n)> make_request;
};

Result<LoadResult> RunLoad(const LoadOptions& options);

}  // namespace tandem
