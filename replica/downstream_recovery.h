// Start-up of a standby or replica from its own files: the newest seeded
// checkpoint, then journals.rep replayed up to ROOT/state. The journalcopy
// position is where valid data in journals.rep ends: damage after the last
// sync recorded in statejcopy is cut (the upstream still has those bytes),
// damage before it is refused, and what remains is synced before use.
#pragma once

#include "journal/root_layout.h"
#include "journal/table_set.h"

namespace tandem {

struct DownstreamState {
  TableSet tables;
  Position flushed;  // end of valid data in journals.rep
  Position applied;  // what `tables` reflects
  std::optional<uint32_t> checkpoint;
  Epoch epoch;  // the highest epoch in journals.rep
};

Result<DownstreamState> RecoverDownstream(const RootLayout& layout);

}  // namespace tandem
