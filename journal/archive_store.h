// Versioned file content (the archive): ROOT/archive/<2 hex>/<md5>, each file
// stored once by its MD5 digest, gzip-compressed when that makes it smaller
// (a ".gz" suffix says so). Content is written into archive/tmp/, fsynced and
// renamed, so a crash never leaves a partial file under a real name. Depot
// paths never become file system paths: nothing outside archive/ is written.
// Every path through here streams: no file is ever held whole in memory.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "journal/file.h"
#include "journal/gzip_stream.h"
#include "journal/md5.h"
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
  // Streams content out, then checks it against its digest and size: a
  // mismatch is reported after the bytes went to `sink`.
  Status Read(const ArchiveEntry& entry, const ByteSink& sink) const;
  Result<std::string> Get(const ArchiveEntry& entry) const;
  // OK, NotFound (MISSING!) or Corruption (BAD!).
  Status Verify(const ArchiveEntry& entry) const;

  // The stored file of a digest as it is on disk ("<md5>" or "<md5>.gz"),
  // for copying between servers without recompressing.
  Result<std::string> StoredName(const std::string& md5) const;
  // Where a stored file of that name lives.
  std::string PathForName(const std::string& name) const;
  void Remove(const std::string& md5) const;

  // A fresh name in archive/tmp/ for a file on its way in.
  Result<std::string> NewTempPath() const;
  // Moves a complete, fsynced temp file under its stored name.
  Status Install(const std::string& tmp, const std::string& name) const;
  // What a crash left in archive/tmp/; for server start only.
  void RemoveTempFiles() const;
  const std::string& dir() const { return dir_; }

 private:
  std::string PathFor(const std::string& md5) const;
  std::string dir_;
};

// Turns a stored file's bytes, as they sit in the archive or arrive from
// upstream, back into content; Finish checks size and digest.
class ContentDecoder {
 public:
  ContentDecoder(ArchiveEntry expected, bool compressed);
  Status Write(std::string_view stored, const ByteSink& content);
  Status Finish();

 private:
  ArchiveEntry expected_;
  std::unique_ptr<GzipInflater> gz_;
  Md5 md5_;
  uint64_t size_ = 0;
};

// Stores one file's content as it arrives. Whether to compress is decided on
// the first 64 KiB: deflating data that does not compress (media, archives)
// costs far more than it saves. Destroying an uncommitted writer removes its
// temp file.
class ArchiveWriter {
 public:
  static Result<std::unique_ptr<ArchiveWriter>> Create(const ArchiveStore* store);
  ~ArchiveWriter();
  ArchiveWriter(const ArchiveWriter&) = delete;
  ArchiveWriter& operator=(const ArchiveWriter&) = delete;

  Status Append(std::string_view content);
  // fsync, then rename to the digest's name (or keep an intact copy
  // already there).
  Result<ArchiveEntry> Commit();
  uint64_t size() const { return size_; }

 private:
  ArchiveWriter(const ArchiveStore* store, std::string tmp, File file);
  Status Decide();
  Status WriteStored(std::string_view bytes);

  const ArchiveStore* store_;
  std::string tmp_;
  File file_;
  uint64_t written_ = 0;
  Md5 md5_;
  uint64_t size_ = 0;
  std::string sample_;  // content held back until compression is decided
  bool decided_ = false;
  std::unique_ptr<GzipDeflater> gz_;
  bool committed_ = false;
};

}  // namespace tandem
