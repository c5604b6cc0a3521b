// Files and the durable-update helpers built on them. Every call goes to the
// FileSystem that serves the path (journal/file_system.h) and returns a
// Status that names the path, so errors reach the operator with file and
// cause. Everything a root holds is private to the server's user: files are
// created 0600 and directories 0700, since journals and checkpoints carry
// password hashes and the ticket secret.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "journal/file_system.h"
#include "journal/status.h"

namespace tandem {

class File {
 public:
  // flags are open(2) flags; O_CLOEXEC is always added.
  static Result<File> Open(const std::string& path, int flags, mode_t mode = 0600);

  File() = default;
  File(File&& other) noexcept = default;
  File& operator=(File&& other) noexcept = default;
  File(const File&) = delete;
  File& operator=(const File&) = delete;

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

  bool is_open() const { return handle_ != nullptr; }
  const std::string& path() const { return path_; }

 private:
  File(std::unique_ptr<FileHandle> handle, std::string path)
      : handle_(std::move(handle)), path_(std::move(path)) {}
  std::unique_ptr<FileHandle> handle_;
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
// Appends bytes [offset, end) of `from` to `to` (created if needed), synced.
Status AppendFileRange(const std::string& to, const std::string& from, uint64_t offset,
                       uint64_t end);
// Writes `content` to path.tmp, fsyncs, renames over path and syncs the directory.
Status WriteFileDurably(const std::string& path, std::string_view content);

// Renames, removals and whole-file replacements whose directory entries
// become durable together, at Sync: one fsync per directory touched rather
// than one per step. For a sequence that a crash may cut anywhere and that
// runs again from its start (each step idempotent), with nothing that must
// see one step durable before the next.
class DirectoryBatch {
 public:
  Status Rename(const std::string& from, const std::string& to);
  Status Remove(const std::string& path);  // a missing file is not an error
  // path.tmp written and fsynced now, then renamed over path.
  Status WriteFile(const std::string& path, std::string_view content);
  // The directories entries went to first, then those they left: a file
  // renamed across directories is never in neither.
  Status Sync();

 private:
  static void Touch(const std::string& path, std::vector<std::string>* dirs);
  std::vector<std::string> to_;    // where entries were added or removed
  std::vector<std::string> from_;  // where renamed entries came from
};
Result<std::string> ReadFileToString(const std::string& path);
bool PathExists(const std::string& path);
// Creates the directory and its parents (0700).
Status CreateDirs(const std::string& path);
// unlink(2) without a directory sync; a missing file is not an error.
Status RemoveFile(const std::string& path);
// Names in a directory, sorted; an absent directory is empty.
Result<std::vector<std::string>> ListDir(const std::string& dir);
// Removes a directory tree; an absent one is not an error.
Status RemoveTree(const std::string& path);
std::string DirName(const std::string& path);
std::string BaseName(const std::string& path);

}  // namespace tandem
