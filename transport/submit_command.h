// submit, on the master: the upload (transport/content_protocol.h) streams
// into the archive; then, only once the content is durable, one transaction
// commits the revision row, the file's head and the change counter. A crash
// in between leaves an unreferenced archive file, never a revision without
// content.
#pragma once

#include "journal/engine.h"
#include "transport/dispatcher.h"

namespace tandem {

// `engine` and `dispatcher` must outlive the server that dispatches.
void RegisterSubmitCommand(Engine* engine, Dispatcher* dispatcher);

}  // namespace tandem
