// Checkpoints: a zlib-compressed snapshot of every table at the start of a
// journal, with an MD5 digest beside it (journal/FORMAT.md, "Checkpoints").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "journal/position.h"
#include "journal/root_layout.h"
#include "journal/status.h"
#include "journal/table_set.h"

namespace tandem {

struct CheckpointMeta {
  uint32_t journal = 0;  // the state is that at the start of this journal
  Epoch epoch;
  uint64_t next_txn_id = 1;
};

struct LoadedCheckpoint {
  CheckpointMeta meta;
  TableSet tables;
};

// Writes path (ckp.N.gz) through path.tmp, fsync and rename, then path.md5.
// Returns the size of the .gz in bytes.
Result<uint64_t> WriteCheckpoint(const std::string& path, const CheckpointMeta& meta,
                                 const TableSet& tables);

// Verifies path.md5 against the file, then decompresses and parses it.
Result<LoadedCheckpoint> ReadCheckpoint(const std::string& path);
// ReadCheckpoint of ckp.N.gz (layout.checkpoint(n)) that also holds the
// state at journal n, as its name says: every reader of a root's
// checkpoints (recovery, a downstream server's, a rebuild) picks the same.
Result<LoadedCheckpoint> ReadCheckpointOf(const RootLayout& layout, uint32_t n);

// Parses the decompressed stream; every check of FORMAT.md is made here.
Result<LoadedCheckpoint> ParseCheckpoint(std::string_view data);

// Decompresses a gzip stream, refusing output beyond `max_output` bytes.
Result<std::string> Gunzip(std::string_view gz, size_t max_output);

// Lower-case hex MD5 of a file, and the check against its .md5 companion.
Result<std::string> Md5OfFile(const std::string& path);
Status VerifyDigestFile(const std::string& path);

}  // namespace tandem
