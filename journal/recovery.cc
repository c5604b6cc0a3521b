#include "journal/recovery.h"

#include <fcntl.h>
#include <unistd.h>

#include "journal/checkpoint.h"
#include "journal/file.h"
#include "journal/log.h"
#include "journal/reader.h"

namespace tandem {

Status ReplayBatch::Add(const Record& rec) {
  if (rec.type != RecordType::kTransaction) return Status::Ok();
  TANDEM_ASSIGN_OR_RETURN(Transaction txn, DecodeTransaction(rec.payload));
  batch_.push_back(std::move(txn));
  batch_bytes_ += rec.payload.size();
  // Enough rows for the cache misses of the apply to overlap, few enough
  // that the decoded transactions are still in the cache; and never much
  // memory, whatever the size of a transaction (up to kMaxPayload each).
  if (batch_.size() >= 64 || batch_bytes_ >= (1u << 20)) Flush();
  return Status::Ok();
}

void ReplayBatch::Flush() {
  tables_->ApplyAll(batch_);
  batch_.clear();
  batch_bytes_ = 0;
}

namespace {

// Replays one journal into *state, checking it is the journal we expect.
Status Replay(const std::string& path, uint32_t expected, TailPolicy policy, RecoveredState* state,
              JournalSummary* summary, uint64_t acknowledged_end = 0) {
  ReplayBatch apply(&state->tables);
  auto sum = ScanJournal(
      path, policy, [&](const Record& rec, Position) { return apply.Add(rec); }, acknowledged_end);
  apply.Flush();
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

Result<RebuiltState> RebuildState(const RootLayout& layout, uint32_t end,
                                  const std::function<std::string(uint32_t)>& journal_path) {
  RebuiltState out;
  out.meta = CheckpointMeta{1, Epoch{}, 1};
  TANDEM_ASSIGN_OR_RETURN(std::vector<uint32_t> ckps, layout.ListCheckpoints());
  for (auto it = ckps.rbegin(); it != ckps.rend(); ++it) {
    if (*it > end) continue;
    auto loaded = ReadCheckpointOf(layout, *it);
    if (!loaded.ok()) {
      LogWarning() << "skipping checkpoint " << *it << ": " << loaded.status().message();
      continue;
    }
    out.tables = std::move(loaded->tables);
    out.meta = loaded->meta;
    out.from_checkpoint = *it;
    break;
  }
  ReplayBatch apply(&out.tables);
  for (uint32_t n = out.meta.journal; n < end; ++n) {
    std::string path = journal_path(n);
    TANDEM_ASSIGN_OR_RETURN(JournalSummary sum, ScanJournal(path, TailPolicy::kStrict,
                                                            [&](const Record& rec, Position) {
                                                              return apply.Add(rec);
                                                            }));
    apply.Flush();
    if (sum.journal != n) {
      return Status::Corruption(path + ": header says journal " + std::to_string(sum.journal) +
                                ", expected journal " + std::to_string(n));
    }
    if (sum.rotated_to != n + 1) {
      return Status::Corruption(path + " does not end in a rotation to journal " +
                                std::to_string(n + 1));
    }
    out.meta.epoch = std::max(out.meta.epoch, sum.max_epoch);
    out.meta.next_txn_id = std::max(out.meta.next_txn_id, sum.last_txn_id + 1);
  }
  out.meta.journal = end;
  return out;
}

namespace {

// Whether every rotated journal from `from` up to (not including) `live` is there.
bool RotatedJournalsThere(const RootLayout& layout, uint32_t from, uint32_t live) {
  for (uint32_t n = from; n < live; ++n) {
    if (!PathExists(layout.rotated_journal(n))) return false;
  }
  return true;
}

}  // namespace

bool CanRebuildState(const RootLayout& layout, uint32_t live) {
  auto ckps = layout.ListCheckpoints();
  if (!ckps.ok()) return false;
  uint32_t from = 1;
  for (auto it = ckps->rbegin(); it != ckps->rend(); ++it) {
    if (*it <= live && VerifyDigestFile(layout.checkpoint(*it)).ok()) {
      from = *it;
      break;
    }
  }
  return RotatedJournalsThere(layout, from, live);
}

namespace {

// The live journal's end, epoch and next transaction id, read without
// applying it. Every record takes the next id and the epoch only grows, so
// one record after the header is enough to know both.
Result<std::optional<RecoveredState>> TakeHanded(const RootLayout& layout, HandedTables* handed) {
  if (!PathExists(layout.live_journal())) return std::optional<RecoveredState>();
  // What a full recovery would also need: a checkpoint at or before the live
  // journal (or none, from journal 1) and every rotated journal after it.
  // Their contents are checked at the next full start, not here; checked
  // before the scan, so that a replay does not read the live journal twice.
  const uint32_t live = handed->at.journal;
  TANDEM_ASSIGN_OR_RETURN(std::vector<uint32_t> ckps, layout.ListCheckpoints());
  uint32_t from = 1;
  for (uint32_t n : ckps) {
    if (n <= live) from = std::max(from, n);
  }
  if (!RotatedJournalsThere(layout, from, live)) {
    LogWarning() << "the root lacks rotated journals before journal " << live
                 << ": not using the tables handed over; replaying it";
    return std::optional<RecoveredState>();
  }
  TANDEM_ASSIGN_OR_RETURN(JournalSummary sum,
                          ScanJournal(layout.live_journal(), TailPolicy::kCutTornTail, nullptr,
                                      CleanEnd(layout, live)));
  const Position end{sum.journal, sum.data_end};
  if (end != handed->at || sum.rotated_to || sum.records == 0) {
    LogWarning() << "the tables handed over at " << handed->at.Token()
                 << " do not fit the live journal (it ends at " << end.Token()
                 << (sum.rotated_to ? ", rotated" : "") << (sum.records == 0 ? ", empty" : "")
                 << "): replaying it";
    return std::optional<RecoveredState>();
  }
  RecoveredState state;
  state.tables = std::move(handed->tables);
  state.live.journal = sum.journal;
  state.live.end = sum.data_end;
  state.live.epoch = sum.max_epoch;
  state.live.next_txn_id = sum.last_txn_id + 1;
  state.report.handed_over = true;
  state.report.journals_replayed = 1;
  state.report.records_replayed = sum.records;
  state.report.bytes_replayed = sum.data_end;
  state.report.torn_bytes_cut = sum.torn_bytes;
  return std::optional<RecoveredState>(std::move(state));
}

}  // namespace

Result<RecoveredState> Recover(const RootLayout& layout, std::optional<HandedTables> handed) {
  TANDEM_RETURN_IF_ERROR(layout.EnsureDirs());
  TANDEM_RETURN_IF_ERROR(RemoveFile(layout.live_journal() + ".tmp"));  // writer crash window 3
  if (handed) {
    TANDEM_ASSIGN_OR_RETURN(std::optional<RecoveredState> taken, TakeHanded(layout, &*handed));
    if (taken) return std::move(*taken);
  }
  RecoveredState state;

  // 1. Newest checkpoint whose digest and content verify.
  TANDEM_ASSIGN_OR_RETURN(std::vector<uint32_t> ckps, layout.ListCheckpoints());
  uint32_t first_journal = 1;
  for (auto it = ckps.rbegin(); it != ckps.rend(); ++it) {
    auto loaded = ReadCheckpointOf(layout, *it);
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
