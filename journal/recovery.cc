#include "journal/recovery.h"

#include <fcntl.h>
#include <unistd.h>

#include "journal/checkpoint.h"
#include "journal/file.h"
#include "journal/log.h"
#include "journal/reader.h"

namespace tandem {

Status ApplyRecord(const Record& rec, TableSet* tables) {
  if (rec.type != RecordType::kTransaction) return Status::Ok();
  TANDEM_ASSIGN_OR_RETURN(Transaction txn, DecodeTransaction(rec.payload));
  tables->Apply(txn);
  return Status::Ok();
}

namespace {

// Replays one journal into *state, checking it is the journal we expect.
Status Replay(const std::string& path, uint32_t expected, TailPolicy policy, RecoveredState* state,
              JournalSummary* summary, uint64_t acknowledged_end = 0) {
  auto sum = ScanJournal(
      path, policy, [&](const Record& rec, Position) { return ApplyRecord(rec, &state->tables); },
      acknowledged_end);
  if (!sum.ok()) return sum.status();
  if (sum->journal != expected) {
    return Status::Corruption(path + ": header says journal " + std::to_string(sum->journal) +
                              ", expected journal " + std::to_string(expected));
  }
  state->report.journals_replayed++;
  state->report.records_replayed += sum->records;
  state->report.bytes_replayed += sum->data_end;
  state->report.torn_bytes_cut += sum->torn_bytes;
  state->live.epoch = std::max(state->live.epoch, sum->max_epoch);
  state->live.next_txn_id = std::max(state->live.next_txn_id, sum->last_txn_id + 1);
  *summary = *sum;
  return Status::Ok();
}

// Where the last clean stop left journal n (0 if it was not stopped cleanly).
uint64_t CleanEnd(const RootLayout& layout, uint32_t n) {
  auto text = ReadFileToString(layout.clean_end());
  Position pos;
  if (!text.ok() || !Position::ParseToken(text->substr(0, text->find('\n')), &pos)) return 0;
  return pos.journal == n ? pos.offset : 0;
}

}  // namespace

Result<RecoveredState> Recover(const RootLayout& layout) {
  TANDEM_RETURN_IF_ERROR(layout.EnsureDirs());
  TANDEM_RETURN_IF_ERROR(RemoveFile(layout.live_journal() + ".tmp"));  // writer crash window 3
  RecoveredState state;

  // 1. Newest checkpoint whose digest and content verify.
  TANDEM_ASSIGN_OR_RETURN(std::vector<uint32_t> ckps, layout.ListCheckpoints());
  uint32_t first_journal = 1;
  for (auto it = ckps.rbegin(); it != ckps.rend(); ++it) {
    auto loaded = ReadCheckpoint(layout.checkpoint(*it));
    if (!loaded.ok()) {
      LogWarning() << "skipping checkpoint " << *it << ": " << loaded.status().message();
      continue;
    }
    state.tables = std::move(loaded->tables);
    state.live.epoch = loaded->meta.epoch;
    state.live.next_txn_id = loaded->meta.next_txn_id;
    state.report.checkpoint = *it;
    first_journal = *it;
    break;
  }
  if (!ckps.empty() && !state.report.checkpoint) {
    return Status::Corruption("no checkpoint in " + layout.checkpoint_dir() + " verifies");
  }

  // 2. Rotated journals from there on, which must be contiguous.
  TANDEM_ASSIGN_OR_RETURN(std::vector<uint32_t> rotated, layout.ListRotated());
  uint32_t next = first_journal;
  JournalSummary sum;
  for (uint32_t n : rotated) {
    if (n < first_journal) continue;
    if (n != next) {
      return Status::NotFound(layout.rotated_journal(next) + " is missing (found journal " +
                              std::to_string(n) + " after it)");
    }
    TANDEM_RETURN_IF_ERROR(Replay(layout.rotated_journal(n), n, TailPolicy::kStrict, &state, &sum));
    if (!sum.rotated_to) {
      return Status::Corruption(layout.rotated_journal(n) +
                                ": rotated journal does not end in a rotation record");
    }
    next = *sum.rotated_to;
  }

  // 3. The live journal, or a new one.
  if (!PathExists(layout.live_journal())) {
    LogInfo() << "creating live journal " << next;
    TANDEM_RETURN_IF_ERROR(CreateLiveJournal(layout, next, state.live.epoch));
  }
  TANDEM_RETURN_IF_ERROR(Replay(layout.live_journal(), next, TailPolicy::kCutTornTail, &state, &sum,
                                CleanEnd(layout, next)));
  if (sum.rotated_to) {
    // Crash window 1: the rotation record is durable but the rename did not happen.
    LogInfo() << "finishing interrupted rotation of journal " << next;
    {
      TANDEM_ASSIGN_OR_RETURN(File f, File::Open(layout.live_journal(), O_RDWR));
      TANDEM_RETURN_IF_ERROR(f.Truncate(sum.data_end));
      TANDEM_RETURN_IF_ERROR(f.Sync());
    }
    TANDEM_RETURN_IF_ERROR(MoveLiveToRotated(layout, next));
    next = *sum.rotated_to;
    TANDEM_RETURN_IF_ERROR(CreateLiveJournal(layout, next, state.live.epoch));
    TANDEM_RETURN_IF_ERROR(
        Replay(layout.live_journal(), next, TailPolicy::kCutTornTail, &state, &sum));
  }
  state.live.journal = next;
  state.live.end = sum.data_end;
  return state;
}

}  // namespace tandem
