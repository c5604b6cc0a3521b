// A digest of a journal's first `length` bytes, so a standby can prove that
// its journalcopy equals the master's journal before it takes over.
#pragma once

#include <cstdint>
#include <string>

#include "journal/status.h"

namespace tandem {

// XXH3-64 of path[0, length) as 16 hex digits; an error if the file is shorter.
Result<std::string> JournalPrefixDigest(const std::string& path, uint64_t length);

}  // namespace tandem
