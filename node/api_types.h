// Between the public API (include/tandem/tandem.h) and the engine's own
// types: the one place that knows both.
#pragma once

#include <tandem/tandem.h>

#include "journal/position.h"
#include "journal/status.h"
#include "journal/transaction.h"

namespace tandem {

Outcome ToOutcome(const Status& status);
JournalPosition ToPublic(Position position);
AppliedTransaction ToPublic(const Transaction& txn, Position end);
Transaction ToTransaction(const std::vector<Write>& writes);

}  // namespace tandem
