// `failover` as a standby answers it:
//   failover [-y] [-m | [-i] [-s MASTERID]] [-w QUIESCE_SECS] [-v VERIFY_SECS] [MESSAGE]
// Super users only; one at a time.
#pragma once

#include <functional>

#include "replica/downstream_node.h"
#include "transport/dispatcher.h"

namespace tandem {

// `on_promoted` runs once the response to a successful `failover -y` is on
// the wire: the root is now a master root, to be served as one.
void RegisterFailoverCommand(DownstreamNode* node, Dispatcher* d,
                             std::function<void()> on_promoted);

}  // namespace tandem
