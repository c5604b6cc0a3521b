// Whether the old master stopped for us: asked of the master itself, since
// the answer to `stop` can be lost (timeout, a crash of either side) after
// the master acted on it. The fenced master stays up to answer.
#pragma once

#include <chrono>
#include <string>

#include "journal/position.h"
#include "replica/journal_copier.h"

namespace tandem {

enum class StopOutcome {
  kStopped,     // the master is fenced for us at the point
  kNotStopped,  // it serves, or was paused for us and is resumed now
  kNoAnswer,    // it did not answer before the deadline
};

struct StopRequest {
  UpstreamOptions master;  // how to reach the old master (its target)
  std::string standby_id;
  Position point;
  std::string standby_address;  // where we will serve, for the fence
};

// Asks on fresh connections until `deadline`, and at least once. A master
// still paused for us
// at the point is sent the stop again when `send_stop`, else resumed (the
// stop never took effect). `detail` gets what the master said last.
StopOutcome ResolveStop(const StopRequest& request, bool send_stop,
                        std::chrono::system_clock::time_point deadline, std::string* detail);

// Tells a master that we may have paused that our failover is rolled back,
// so that it takes commits again now rather than when its lease runs out.
// One attempt, on one 2 s budget (transport/deadline.h: each step gets at
// least a quarter, so about 3 s at worst); what happened, for the log.
std::string ResumeMaster(UpstreamOptions master, const std::string& standby_id);

}  // namespace tandem
