// Failback, first half: `tandemd -r ROOT --rejoin TARGET` turns a master root
// that was failed over from (fenced) into a standby of the new master at
// TARGET, offline:
//   - the failover point comes from the new master's replicated `failover`
//     table (the newest row that took over from this root's ServerID);
//   - the part of this root's journals past that point, if any, is moved to
//     ROOT/journal.orig.master and reported, never replayed; checkpoints
//     taken past it are set aside;
//   - the journals up to the point become journals.rep, `state` and
//     `statejcopy` are set to the point;
//   - the root takes the ServerID the new master had as a standby, its fence
//     is cleared and its `target` is TARGET.
// Started normally afterwards, it journalcopies from the point. `failback`
// on it is then a planned failover back.
#pragma once

#include <string>

#include "journal/position.h"
#include "journal/status.h"

namespace tandem {

struct RejoinReport {
  Position point;
  std::string server_id;           // the ServerID the root now has
  uint64_t orig_master_bytes = 0;  // moved to journal.orig.master
};

Result<RejoinReport> Rejoin(const std::string& root, const std::string& target);

}  // namespace tandem
