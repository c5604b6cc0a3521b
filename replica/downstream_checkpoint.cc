#include "replica/downstream_checkpoint.h"

#include "journal/checkpoint.h"
#include "journal/log.h"
#include "journal/reader.h"
#include "journal/recovery.h"

namespace tandem {

Result<CheckpointInfo> CheckpointDownstream(const RootLayout& layout, Position applied) {
  TableSet tables;
  uint32_t journal = 1;
  CheckpointMeta meta{1, Epoch{}, 1};
  TANDEM_ASSIGN_OR_RETURN(std::vector<uint32_t> ckps, layout.ListCheckpoints());
  for (auto it = ckps.rbegin(); it != ckps.rend(); ++it) {
    auto loaded = ReadCheckpoint(layout.checkpoint(*it));
    if (!loaded.ok()) continue;
    tables = std::move(loaded->tables);
    meta = loaded->meta;
    journal = *it;
    break;
  }
  if (applied.journal <= journal) {
    return Status::FailedPrecondition(
        "nothing to checkpoint: the state at the start of journal " + std::to_string(journal) +
        " is the newest this server has (" + (ckps.empty() ? "none" : layout.checkpoint(journal)) +
        "), and it has applied only into journal " + std::to_string(applied.journal));
  }
  for (; journal < applied.journal; ++journal) {
    TANDEM_ASSIGN_OR_RETURN(
        JournalSummary sum,
        ScanJournal(layout.rep_journal(journal), TailPolicy::kStrict,
                    [&](const Record& rec, Position) { return ApplyRecord(rec, &tables); }));
    if (!sum.rotated_to) {
      return Status::Corruption(layout.rep_journal(journal) + " does not end in a rotation record");
    }
    meta.epoch = std::max(meta.epoch, sum.max_epoch);
    meta.next_txn_id = std::max(meta.next_txn_id, sum.last_txn_id + 1);
  }
  meta.journal = journal;
  CheckpointInfo info;
  info.journal = journal;
  info.path = layout.checkpoint(journal);
  TANDEM_ASSIGN_OR_RETURN(info.bytes, WriteCheckpoint(info.path, meta, tables));
  for (const auto& s : tables.Checksums()) info.rows += s.rows;
  LogInfo() << "checkpoint " << info.path << " written from this server's copies (" << info.rows
            << " rows)";
  return info;
}

}  // namespace tandem
