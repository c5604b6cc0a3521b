// Seeding a downstream root from its upstream's newest checkpoint, fetched
// over the connection and verified by its MD5 before it is used: the
// one-command version of "rsync the checkpoint, p4d -jr it".
#pragma once

#include "journal/root_layout.h"
#include "replica/journal_copier.h"

namespace tandem {

// Fetches the newest checkpoint into ROOT/checkpoints. NotFound when the
// upstream has none (the caller may then start from journal 1).
Result<uint32_t> FetchCheckpoint(const RootLayout& layout, const UpstreamOptions& upstream);

// Removes everything a downstream server derived from its upstream:
// journals.rep, state, statejcopy, checkpoints.
Status ClearDownstreamState(const RootLayout& layout);

}  // namespace tandem
