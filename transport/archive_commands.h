// Versioned file content through the server: print, files, filelog, verify
// and archive-fetch (submit is in transport/submit_command.h).
//
// Tables: `rev` (key "DEPOTPATH#0000000001", value "MD5 SIZE TIME CHANGE"),
// `head` (key DEPOTPATH, value the latest revision), `counter` ("change").
#pragma once

#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "journal/archive_store.h"
#include "transport/dispatcher.h"

namespace tandem {

inline constexpr std::string_view kRevTable = "rev";
inline constexpr std::string_view kHeadTable = "head";
inline constexpr std::string_view kCounterTable = "counter";
// "DEPOTPATH#0000000001": revisions sort in order under their path.
std::string RevisionKey(std::string_view path, uint64_t rev);
// The content a `rev` row names (its value is "MD5 SIZE TIME CHANGE").
std::optional<ArchiveEntry> ArchiveEntryOfRevision(std::string_view value);

// A depot path is "//depot/dir/file": no "." or ".." segments, no empty
// segment, no NUL, '\', '#', '@', at most 1024 bytes.
Status ValidateDepotPath(std::string_view path);

// Recomputes digests of every revision under `prefix`: rows with status
// ok / BAD! / MISSING! (only problems when `quiet`); `on_bad` sees each problem.
std::vector<Row> VerifyArchive(const Tables& tables, const ArchiveStore& archive,
                               const std::string& prefix, bool quiet,
                               const std::function<void(const ArchiveEntry&)>& on_bad);

// For `failover -v SECONDS`: every revision submitted at or after
// `since_unix` whose content is not present and intact here (rows as
// VerifyArchive gives them; empty means all verified).
std::vector<Row> VerifyRecentRevisions(const Tables& tables, const ArchiveStore& archive,
                                       int64_t since_unix);

// Archive files that no revision names (left by a crash between the archive
// write and the metadata commit): harmless, reported by verify.
std::vector<std::string> OrphanArchiveFiles(const Tables& tables, const std::string& archive_dir);

// Read-only commands (print, files, filelog, verify, archive-fetch) for any
// server; `tables` must outlive them.
void RegisterArchiveReadCommands(const Tables* tables, std::string root, Dispatcher* dispatcher);

}  // namespace tandem
