// Start-up recovery: the newest checkpoint that verifies, then every journal
// after it, finishing a rotation that a crash interrupted.
#pragma once

#include <functional>
#include <optional>

#include "journal/checkpoint.h"

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
  bool handed_over = false;  // the tables came from the promoted standby
};

struct RecoveredState {
  TableSet tables;
  LiveJournalState live;
  RecoveryReport report;
};

// What a standby promoted in place has applied: its tables, at the end of
// its copy of the journal. Handed to the master it becomes, they spare it a
// replay of everything since the checkpoint.
struct HandedTables {
  TableSet tables;
  Position at;
};

// Brings the root to a state the writer can continue from. A root with no
// journal at all gets journal 1. With `handed`, the live journal is checked
// (every record read and verified, a torn tail cut as usual) but not
// applied: the handed tables are used if they are at its end, and everything
// is replayed as usual if not.
Result<RecoveredState> Recover(const RootLayout& layout,
                               std::optional<HandedTables> handed = std::nullopt);

// The state at the start of journal `end` as recovery builds it: the newest
// checkpoint at or before `end` that verifies, then each whole journal from
// there to `end`, named by journal_path(n) (the master's rotated journal n,
// or a downstream server's copy of it). It reads only files that no longer
// change, so a checkpoint made from it never stops the writer.
struct RebuiltState {
  CheckpointMeta meta;  // meta.journal == end
  TableSet tables;
  std::optional<uint32_t> from_checkpoint;  // where it started, if from one
};
Result<RebuiltState> RebuildState(const RootLayout& layout, uint32_t end,
                                  const std::function<std::string(uint32_t)>& journal_path);
// Whether a master's files can rebuild the state at the end of its live
// journal `live`: a checkpoint at or before it whose digest verifies (or
// none, from journal 1) and every rotated journal from there to `live`.
// Reads only the checkpoint; damage inside a journal shows only in RebuildState.
bool CanRebuildState(const RootLayout& layout, uint32_t live);

// Applies the records of a replay to tables, by the rule the engine uses
// while serving (so a replayed server equals a live one): transactions are
// applied in journal order, nothing else changes the tables. They are
// applied in batches (TableSet::ApplyAll) of at most 64 transactions and
// about a megabyte, so *tables holds all of them only after Flush.
class ReplayBatch {
 public:
  explicit ReplayBatch(TableSet* tables) : tables_(tables) {}
  ReplayBatch(const ReplayBatch&) = delete;
  ReplayBatch& operator=(const ReplayBatch&) = delete;

  // A transaction that does not decode is an error here, before anything
  // after it is applied.
  Status Add(const Record& rec);
  void Flush();

 private:
  TableSet* tables_;
  std::vector<Transaction> batch_;
  size_t batch_bytes_ = 0;
};

}  // namespace tandem
