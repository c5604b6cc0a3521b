#include "replica/downstream_recovery.h"

#include "journal/checkpoint.h"
#include "journal/file.h"
#include "journal/log.h"
#include "journal/reader.h"
#include "journal/recovery.h"
#include "replica/state_file.h"

namespace tandem {

Result<DownstreamState> RecoverDownstream(const RootLayout& layout) {
  DownstreamState out;
  uint32_t start = 1;
  TANDEM_ASSIGN_OR_RETURN(std::vector<uint32_t> ckps, layout.ListCheckpoints());
  for (auto it = ckps.rbegin(); it != ckps.rend(); ++it) {
    auto loaded = ReadCheckpointOf(layout, *it);
    if (!loaded.ok()) {
      LogWarning() << "skipping checkpoint " << *it << ": " << loaded.status().message();
      continue;
    }
    out.tables = std::move(loaded->tables);
    out.checkpoint = *it;
    start = *it;
    break;
  }
  Position target{start, 0};
  if (auto state = ReadPositionFile(layout.state()); state.ok() && *state > target) target = *state;

  // statejcopy is written only after a sync: what lies before it was
  // acknowledged, so damage there is not a torn tail.
  auto synced = ReadPositionFile(layout.statejcopy());
  Position acknowledged = synced.ok() ? *synced : Position{};
  out.flushed = Position{start, 0};
  out.applied = Position{start, 0};
  ReplayBatch apply(&out.tables);
  for (uint32_t n = start; PathExists(layout.rep_journal(n)); ++n) {
    TANDEM_ASSIGN_OR_RETURN(
        JournalSummary sum,
        ScanJournal(
            layout.rep_journal(n),
            n < acknowledged.journal ? TailPolicy::kStrict : TailPolicy::kCutCopyTail,
            [&](const Record& rec, Position end) {
              if (end > target) return Status::Ok();
              out.applied = end;
              return apply.Add(rec);
            },
            n == acknowledged.journal ? acknowledged.offset : 0));
    apply.Flush();
    out.flushed = Position{n, sum.data_end};
    out.epoch = std::max(out.epoch, sum.max_epoch);
    if (!sum.rotated_to) break;
    if (out.applied == out.flushed) out.applied = Position{*sum.rotated_to, 0};
    out.flushed = Position{*sum.rotated_to, 0};
  }
  if (out.applied < target && target <= out.flushed) {
    LogWarning() << "state says " << target.ToString() << " but replay stopped at "
                 << out.applied.ToString();
  }
  return out;
}

}  // namespace tandem
