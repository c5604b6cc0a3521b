// Reading a downstream server's copy of the master's journal (journals.rep)
// ahead of pull -L: where its last whole record ends, and what those records
// say, without applying them.
#pragma once

#include "journal/reader.h"
#include "journal/root_layout.h"

namespace tandem {

// Reads the copy from `from` (a record boundary, such as the applied
// position) to at most `to` (such as the journalcopy position), following
// rotations, and calls `visit` for each whole record. Returns the end of the
// last whole record: the copy's consistency point at or before `to`. The
// stream cuts chunks anywhere, so `to` itself may fall inside a record.
Result<Position> ReadCopy(const RootLayout& layout, Position from, Position to,
                          const RecordVisitor& visit = nullptr);

// Ends the copy at `point`: what lies past it (in its journal and in later
// ones) is appended to `aside` and removed, and statejcopy says `point`.
// Returns the bytes set aside. For a server that journalcopied past a new
// master's failover point, never applied that far.
Result<uint64_t> CutCopyBack(const RootLayout& layout, Position point, const std::string& aside);

}  // namespace tandem
