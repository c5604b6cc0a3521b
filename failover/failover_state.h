// ROOT/statefailover: the consistency point a standby takes over from, and
// how far its failover got. It is written (durably) at every transition that
// a crash could interrupt, so a restarted server finishes the failover or
// rolls it back, and never leaves a cluster without a master:
//
//   prepared        written before a planned failover pauses the master, and
//                   again once state is renamed to statepullL; the master is
//                   still alive (maybe paused) -> on restart: roll back, and
//                   tell the master to resume
//   stopping        the stop was sent, or is about to be: it may have reached
//                   the master -> on restart: ask the master (Resolve below)
//   master-stopped  the master is fenced (or was dead): the point of no
//                   return -> on restart: promote, then serve as master
//   promoted        journals moved, ServerID taken -> serve as master, write
//                   the failover record if it is not there yet
//   complete        the new epoch is durable; kept until downstream servers
//                   have reconnected and any old master has been told
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "journal/position.h"
#include "journal/root_layout.h"
#include "journal/status.h"

namespace tandem {

enum class FailoverPhase { kPrepared, kStopping, kMasterStopped, kPromoted, kComplete };
std::string_view FailoverPhaseName(FailoverPhase p);

struct FailoverRecord {
  Position point;
  FailoverPhase phase = FailoverPhase::kPrepared;
  std::string master_id;   // the ServerID taken over
  std::string standby_id;  // ours before the failover
  uint32_t old_epoch = 1;
  bool planned = true;
  bool mandatory = false;      // our spec at the point said mandatory
  std::string master_address;  // where the old master answered (planned)
  int64_t lease_end_ms = 0;    // unix ms: after this, a paused master has resumed
  std::string tell_address;    // an old master still to be told it is stale
  bool forced = false;         // --force: a non-mandatory standby took over
};

// nullopt when there is no statefailover.
Result<std::optional<FailoverRecord>> ReadFailoverRecord(const RootLayout& layout);
Status WriteFailoverRecord(const RootLayout& layout, const FailoverRecord& record);

}  // namespace tandem
