// The `journal-stream` command: a downstream server's opening request, after
// which the connection carries its journal stream. Served by the master and,
// for cascading, by standbys and replicas.
#pragma once

#include "replica/stream_origin.h"
#include "transport/dispatcher.h"

namespace tandem {

// `origin` and `dispatcher` must outlive the command.
void RegisterJournalStreamCommand(StreamOrigin* origin, Dispatcher* dispatcher);

}  // namespace tandem
