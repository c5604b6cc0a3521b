// Versioned file content (the archive): ROOT/archive/<2 hex>/<md5>, each file
// stored once by its MD5 digest, zlib-compressed when that makes it smaller
// (a ".gz" suffix says so). Files are written to a temp name, fsynced and
// renamed, so a crash never leaves a partial file under a real name. Depot
// paths never become file system paths: nothing outside archive/ is written.
#pragma once

#include <string>
#include <string_view>

#include "journal/status.h"

namespace tandem {

struct ArchiveEntry {
  std::string md5;  // lower-case hex, as Helix records it
  uint64_t size = 0;
};

class ArchiveStore {
 public:
  explicit ArchiveStore(std::string dir) : dir_(std::move(dir)) {}

  // Stores content (idempotent: the same bytes are stored once).
  Result<ArchiveEntry> Put(std::string_view content);
  // Reads content back and checks it against its digest and size.
  Result<std::string> Get(const ArchiveEntry& entry) const;
  // OK, NotFound (MISSING!) or Corruption (BAD!).
  Status Verify(const ArchiveEntry& entry) const;

  static std::string Md5Hex(std::string_view content);

  // The stored file of a digest as it is on disk ("<md5>" or "<md5>.gz"),
  // for copying between servers without recompressing.
  Result<std::string> StoredName(const std::string& md5) const;
  // Where a stored file of that name lives.
  std::string PathForName(const std::string& name) const;
  void Remove(const std::string& md5) const;

 private:
  std::string PathFor(const std::string& md5) const;
  std::string dir_;
};

}  // namespace tandem
