// What the other servers in the specs see, asked by a standby before it
// fails over (hello, at their Address:, each answer bounded).
//
// failover.auto's second opinion. A standby that stops hearing its master
// cannot tell a dead master from a cut link. Before it promotes itself it
// asks the other servers in the specs (standbys and replicas, at their
// Address:) what they see, as Orchestrator's holistic detection does:
//
//   - one of them answers as a master of a newer epoch: someone already
//     took over; do not promote;
//   - one of them heard its upstream (not us, and a master when it says
//     what its upstream is) at our epoch within the window: the master is
//     alive and only our link is cut; do not promote.
//
// Servers that do not answer count for nothing, so a standby cut off from
// every peer still promotes: the risk that remains (see README, failover).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "journal/table_set.h"

namespace tandem {

// Why not to promote now, or empty. Every peer is asked at once, each
// within `timeout`, from `source` (our net.source).
std::string MasterHeardByOthers(const Tables& tables, const std::string& self_id,
                                const std::string& own_address, uint32_t epoch,
                                std::chrono::milliseconds window, std::chrono::milliseconds timeout,
                                const std::string& source);

// The newest epoch any server in the specs (or at `also`) holds, and who
// said so: a failover begins above it, and a standby that holds less lacks
// the history of a master that exists or existed.
struct EpochHeard {
  uint32_t epoch = 0;
  std::string who;
};
EpochHeard NewestEpochHeard(const Tables& tables, const std::string& self_id,
                            const std::string& own_address, const std::vector<std::string>& also,
                            std::chrono::milliseconds timeout, const std::string& source);

}  // namespace tandem
