// Seeding a downstream root from its upstream's newest checkpoint, fetched
// over the connection and verified by its MD5 and content before it is used:
// the one-command version of "rsync the checkpoint, p4d -jr it".
#pragma once

#include "journal/root_layout.h"
#include "replica/journal_copier.h"

namespace tandem {

struct FetchedCheckpoint {
  uint32_t journal = 0;  // the state is that at the start of this journal
  std::string path;      // DIR/ckp.N.gz, with DIR/ckp.N.gz.md5 beside it
};

// Fetches the upstream's newest checkpoint into `dir` and verifies it; on
// any failure nothing is left in `dir`. NotFound when the upstream has none
// (a new root may then start from journal 1).
Result<FetchedCheckpoint> FetchCheckpoint(const std::string& dir, const UpstreamOptions& upstream);

// Removes everything a downstream server derived from its upstream:
// journals.rep, state, statejcopy, checkpoints.
Status ClearDownstreamState(const RootLayout& layout);

}  // namespace tandem
