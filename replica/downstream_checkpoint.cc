#include "replica/downstream_checkpoint.h"

#include "journal/checkpoint.h"
#include "journal/log.h"
#include "journal/recovery.h"

namespace tandem {

Result<CheckpointInfo> CheckpointDownstream(const RootLayout& layout, Position applied) {
  TANDEM_ASSIGN_OR_RETURN(
      RebuiltState state,
      RebuildState(layout, applied.journal, [&](uint32_t n) { return layout.rep_journal(n); }));
  if (state.from_checkpoint && *state.from_checkpoint >= applied.journal) {
    return Status::FailedPrecondition("nothing to checkpoint: the state at the start of journal " +
                                      std::to_string(applied.journal) +
                                      " is the newest this server has (" +
                                      layout.checkpoint(*state.from_checkpoint) + ")");
  }
  if (!state.from_checkpoint && applied.journal <= 1) {
    return Status::FailedPrecondition(
        "nothing to checkpoint: this server has applied only into journal 1");
  }
  CheckpointInfo info;
  info.journal = applied.journal;
  info.path = layout.checkpoint(applied.journal);
  TANDEM_ASSIGN_OR_RETURN(info.bytes, WriteCheckpoint(info.path, state.meta, state.tables));
  for (const auto& s : state.tables.Checksums()) info.rows += s.rows;
  LogInfo() << "checkpoint " << info.path << " written from this server's copies (" << info.rows
            << " rows)";
  return info;
}

}  // namespace tandem
