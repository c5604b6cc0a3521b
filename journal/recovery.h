// Start-up recovery: the newest checkpoint that verifies, then every journal
// after it, finishing a rotation that a crash interrupted.
#pragma once

#include <optional>

#include "journal/root_layout.h"
#include "journal/table_set.h"
#include "journal/writer.h"

namespace tandem {

struct RecoveryReport {
  std::optional<uint32_t> checkpoint;  // checkpoint number used, if any
  uint64_t journals_replayed = 0;
  uint64_t records_replayed = 0;
  uint64_t bytes_replayed = 0;
  uint64_t torn_bytes_cut = 0;
};

struct RecoveredState {
  TableSet tables;
  LiveJournalState live;
  RecoveryReport report;
};

// Brings the root to a state the writer can continue from. A root with no
// journal at all gets journal 1.
Result<RecoveredState> Recover(const RootLayout& layout);

// Applies one record to tables during replay; the engine uses the same rule
// while serving, so a replayed server equals a live one.
Status ApplyRecord(const Record& rec, TableSet* tables);

}  // namespace tandem
