// Versioned file content through the server: submit (archive write, then a
// revision row committed in the same transaction as the head and change
// counter), print, files, filelog and verify.
//
// Tables: `rev` (key "DEPOTPATH#0000000001", value "MD5 SIZE TIME CHANGE"),
// `head` (key DEPOTPATH, value the latest revision), `counter` ("change").
#pragma once

#include <string_view>

#include "journal/engine.h"
#include "transport/dispatcher.h"

namespace tandem {

// A depot path is "//depot/dir/file": no "." or ".." segments, no empty
// segment, no NUL, '\', '#', '@', at most 1024 bytes.
Status ValidateDepotPath(std::string_view path);

// Read-only commands (print, files, filelog, verify) for any server;
// `tables` and `root` must outlive them.
void RegisterArchiveReadCommands(const Tables* tables, std::string root, Dispatcher* dispatcher);
// submit, on the master.
void RegisterArchiveWriteCommands(Engine* engine, Dispatcher* dispatcher);

}  // namespace tandem
