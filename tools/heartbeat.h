// `tandem heartbeat`: watches a server (usually a standby watching its
// master) by asking it `info` every interval, and runs a site's commands when
// it goes quiet, comes back, or is declared dead.
#pragma once

#include <string>

#include "transport/client.h"

namespace tandem {

struct HeartbeatOptions {
  Address target;
  ClientOptions client;
  std::string user, ticket;
  int interval_ms = 1000;  // -i: between heartbeats
  int wait_ms = 1000;      // -w: how long one heartbeat may take
  int missing = 5;         // -m: consecutive misses that mean dead
  long max = 0;            // -n: stop after this many heartbeats (0 = never)
  // Shell commands; they get TANDEM_HEARTBEAT_TARGET and _MISSED.
  std::string on_missing, on_resumed, on_dead;
  bool json = false;  // --json: one object per line per event
};

// Returns 0 after `max` heartbeats, 1 once the target is dead.
int RunHeartbeat(const HeartbeatOptions& options);

}  // namespace tandem
