// failover.auto's second opinion. A standby that stops hearing its master
// cannot tell a dead master from a cut link. Before it promotes itself it
// asks the other servers in the specs (standbys and replicas, at their
// Address:) what they see, as Orchestrator's holistic detection does:
//
//   - one of them answers as a master of a newer epoch: someone already
//     took over; do not promote;
//   - one of them heard its upstream (not us) at our epoch within the
//     window: the master is alive and only our link is cut; do not promote.
//
// Servers that do not answer count for nothing, so a standby cut off from
// every peer still promotes: the risk that remains (see README, failover).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "journal/table_set.h"

namespace tandem {

// Why not to promote now, or empty. Every peer is asked at once, each
// within `timeout`.
std::string MasterHeardByOthers(const Tables& tables, const std::string& self_id,
                                const std::string& own_address, uint32_t epoch,
                                std::chrono::milliseconds window,
                                std::chrono::milliseconds timeout);

}  // namespace tandem
