// The one place that talks to the filesystem. Every call returns a Status that
// names the path, so errors reach the operator with file and cause.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "journal/status.h"

namespace tandem {

class File {
 public:
  // flags are open(2) flags; O_CLOEXEC is always added.
  static Result<File> Open(const std::string& path, int flags, mode_t mode = 0644);

  File() = default;
  File(File&& other) noexcept;
  File& operator=(File&& other) noexcept;
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  ~File();

  Status PWriteAll(std::string_view data, uint64_t offset);
  // Reads up to n bytes at offset; returns how many (0 at end of file).
  Result<size_t> PRead(char* buf, size_t n, uint64_t offset) const;
  Status DataSync();
  Status Sync();
  // Extends the file to offset+len with allocated zero bytes (fallocate mode 0).
  Status Allocate(uint64_t offset, uint64_t len);
  Status Truncate(uint64_t size);
  Result<uint64_t> Size() const;
  Status Close();

  bool is_open() const { return fd_ >= 0; }
  const std::string& path() const { return path_; }

 private:
  File(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::string path_;
};

// Where streamed bytes go; an error stops the stream.
using ByteSink = std::function<Status(std::string_view)>;
// Reads the file from `offset` to its end in chunks of `chunk` bytes.
Status ReadChunks(const File& file, uint64_t offset, size_t chunk, const ByteSink& sink);

// fsyncs a directory so that renames and creations in it are durable.
Status SyncDir(const std::string& dir);
// rename(2) then fsync of the destination's directory.
Status RenameDurably(const std::string& from, const std::string& to);
// unlink(2) then fsync of its directory; a missing file is not an error.
Status RemoveDurably(const std::string& path);
// Writes `content` to path.tmp, fsyncs, renames over path and syncs the directory.
Status WriteFileDurably(const std::string& path, std::string_view content);
Result<std::string> ReadFileToString(const std::string& path);
bool PathExists(const std::string& path);
Status CreateDirs(const std::string& path);
std::string DirName(const std::string& path);
std::string BaseName(const std::string& path);

}  // namespace tandem
