// The filesystem seam: every byte Tandem reads or writes on disk goes through
// a FileSystem, so that tests can put a fault-injecting one under a root
// (tests/testing/fault_fs.h) and see what survives a failed fsync, a full
// disk or a power loss — the way LevelDB's Env and RocksDB's
// FaultInjectionTestFS are used.
//
// Which FileSystem serves a path is decided by a mount table: the one mounted
// at the longest prefix of the path (on a '/' boundary), else the POSIX one.
// Production code never mounts anything; a test mounts its fault filesystem
// at a temporary root for the length of a ScopedMount. Paths are compared as
// spelled, so a test mounts and uses the same (absolute) spelling.
//
// Handles behave like file descriptors: PWrite and PRead may transfer fewer
// bytes than asked (File loops), and errors carry the errno's Code.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "journal/status.h"

namespace tandem {

class FileHandle {
 public:
  virtual ~FileHandle() = default;
  // One write at `offset`; returns how many bytes were written (> 0).
  virtual Result<size_t> PWrite(std::string_view data, uint64_t offset) = 0;
  // One read at `offset`; returns how many bytes were read (0 at end of file).
  virtual Result<size_t> PRead(char* buf, size_t n, uint64_t offset) = 0;
  virtual Status DataSync() = 0;
  virtual Status Sync() = 0;
  // Extends the file to offset+len with allocated zero bytes.
  virtual Status Allocate(uint64_t offset, uint64_t len) = 0;
  virtual Status Truncate(uint64_t size) = 0;
  virtual Result<uint64_t> Size() = 0;
  virtual Status Close() = 0;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;
  // flags are open(2) flags; O_CLOEXEC is implied.
  virtual Result<std::unique_ptr<FileHandle>> Open(const std::string& path, int flags,
                                                   mode_t mode) = 0;
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  // NotFound when there is no such file.
  virtual Status Unlink(const std::string& path) = 0;
  virtual Status SyncDir(const std::string& dir) = 0;
  // Creates `path` and any missing parents with `mode`; an existing
  // directory is not an error.
  virtual Status CreateDirs(const std::string& path, mode_t mode) = 0;
  virtual bool Exists(const std::string& path) = 0;
  // Names in `dir` (not "." or ".."), unsorted; an absent dir is empty.
  virtual Result<std::vector<std::string>> ListDir(const std::string& dir) = 0;
  // Removes `path` and everything under it; an absent path is not an error.
  virtual Status RemoveTree(const std::string& path) = 0;
};

// The filesystem of the machine.
FileSystem& PosixFileSystem();

// The FileSystem that serves `path`.
FileSystem& FileSystemFor(std::string_view path);

// Routes every path under `dir` to `fs` while it lives. `fs` must outlive it.
class ScopedMount {
 public:
  ScopedMount(std::string dir, FileSystem* fs);
  ~ScopedMount();
  ScopedMount(const ScopedMount&) = delete;
  ScopedMount& operator=(const ScopedMount&) = delete;

 private:
  std::string dir_;
};

}  // namespace tandem
