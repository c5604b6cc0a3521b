// A checkpoint of a standby or replica, in the master's own format: the
// state at the start of the journal that holds its applied position, rebuilt
// from its newest checkpoint and the complete journal copies after it. It
// lets a standby be the seed of others (the recipe for a disaster in which
// only a non-mandatory standby survives), online (`admin checkpoint`) or on
// a stopped root (`tandemd -jc`).
#pragma once

#include "journal/engine.h"
#include "journal/root_layout.h"

namespace tandem {

// FailedPrecondition when there is nothing newer than the newest checkpoint.
Result<CheckpointInfo> CheckpointDownstream(const RootLayout& layout, Position applied);

}  // namespace tandem
