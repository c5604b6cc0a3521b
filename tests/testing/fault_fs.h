// A FileSystem for tests that fails on command and models what a power loss
// keeps. Mount it under a test's root (ScopedMount) and every file the code
// under test touches there goes through it; the files are real files.
//
// What it models:
//  * page cache vs disk: a write is durable only once a DataSync/Sync of its
//    file succeeds. Crash() undoes every write that is not, or, with
//    keep_probability > 0, keeps each unsynced 4 KiB page with that
//    probability, so a multi-page write can survive out of order.
//  * Linux's fsync error reporting: a failed sync reports its error once; the
//    writes it covered are lost at the next crash even if a later sync of the
//    same file succeeds.
//  * directory entries: a file creation, rename or unlink is durable only
//    once its directory is synced; Crash() undoes those that are not.
//    (RemoveTree is not modelled: it is durable at once.)
//  * a process death: KillProcess() makes every handle opened so far fail,
//    as the descriptors of a SIGKILLed process would; the page cache stays.
//  * injected errors (Fault) and a full disk (SetSpaceLimit).
#pragma once

#include <cerrno>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "journal/file_system.h"

namespace tandem::testing {

enum class FsOp {
  kOpen,
  kWrite,
  kRead,
  kDataSync,
  kAllocate,
  kTruncate,
  kRename,
  kUnlink,
  kSyncDir
};

struct Fault {
  FsOp op = FsOp::kWrite;
  std::string path_contains;  // empty: any path
  int error = EIO;
  int after = 0;  // let this many matching calls succeed first
  int times = 1;  // then fail this many; -1: every one from then on
  // kWrite only: write this many bytes of the call before failing.
  size_t partial = 0;
  // The process dies at this call (KillProcess): it fails, and a sync it
  // would have made never happens (its writes stay merely unsynced).
  bool kill = false;
};

class FaultFs final : public FileSystem {
 public:
  // `scratch_dir` (created if needed) holds links to files that a rename or
  // unlink replaced, so Crash() can bring them back; it must be on the same
  // filesystem as the mounted root and outside it.
  explicit FaultFs(std::string scratch_dir);
  ~FaultFs() override;

  void Inject(Fault fault);
  void ClearFaults();
  // From now on, writes and allocations that would grow files by more than
  // `bytes` in all fail with ENOSPC; nullopt lifts the limit.
  void SetSpaceLimit(std::optional<uint64_t> bytes);
  void KillProcess();
  // The next call of `op` on a matching path blocks until Release(): a test
  // lines work up behind it (e.g. commits behind a slow sync).
  void HoldNext(FsOp op, std::string path_contains);
  // Waits until a call is held; false after 20 s.
  bool WaitUntilHeld();
  void Release();
  // A power loss (implies KillProcess). The same seed keeps the same pages.
  void Crash(double keep_probability = 0, uint64_t seed = 1);
  // Bytes written and not yet durable, over all files.
  uint64_t UnsyncedBytes() const;
  uint64_t successful_syncs() const;  // of files
  uint64_t directory_syncs() const;

  Result<std::unique_ptr<FileHandle>> Open(const std::string& path, int flags,
                                           mode_t mode) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status Unlink(const std::string& path) override;
  Status SyncDir(const std::string& dir) override;
  Status CreateDirs(const std::string& path, mode_t mode) override;
  bool Exists(const std::string& path) override;
  Result<std::vector<std::string>> ListDir(const std::string& dir) override;
  Status RemoveTree(const std::string& path) override;

 private:
  class Handle;
  friend class Handle;
  // How to put back bytes [offset, offset + old.size()) and the size; a
  // write also records where it ended, for the page model.
  struct Undo {
    uint64_t old_size;
    uint64_t offset;
    std::string old;
    uint64_t written_end = 0;
  };
  struct Inode {
    int fd = -1;                // our own descriptor, for undoing at a crash
    std::vector<Undo> pending;  // since the last successful sync
    std::vector<Undo> lost;     // covered by a failed sync: undone at any crash
  };
  struct DirOp {
    enum Kind { kCreated, kRenamed, kUnlinked } kind;
    std::string path;    // created / new name / removed name
    std::string from;    // kRenamed: the old name
    std::string backup;  // a link to the file the operation replaced or removed
  };

  // Returns the injected error for this call, if any, and kills the process
  // when the fault says so (*killed). Needs mu_.
  Status Check(FsOp op, const std::string& path, bool* killed = nullptr);
  // Blocks while a HoldNext matches this call. Takes and gives back mu_.
  void MaybeHold(FsOp op, const std::string& path, std::unique_lock<std::mutex>& lock);
  Status Charge(uint64_t grow, const std::string& path);
  Inode& InodeFor(int fd);
  std::string Backup(const std::string& path);
  void UndoInode(Inode& inode, double keep, uint64_t* rng);
  Result<size_t> Write(int fd, uint64_t generation, std::string_view data, uint64_t offset,
                       const std::string& path);
  Status SyncFile(int fd, uint64_t generation, const std::string& path);
  Status Resize(int fd, uint64_t generation, uint64_t size, bool allocate, const std::string& path);

  const std::string scratch_;
  mutable std::mutex mu_;
  std::condition_variable held_cv_;
  std::optional<std::pair<FsOp, std::string>> hold_;  // armed by HoldNext
  bool holding_ = false;                              // a call is blocked in it
  std::vector<std::pair<Fault, int>> faults_;         // with calls seen
  std::optional<uint64_t> space_left_;
  uint64_t generation_ = 1;
  uint64_t backups_ = 0;
  uint64_t syncs_ = 0;
  uint64_t dir_syncs_ = 0;
  std::map<std::pair<dev_t, ino_t>, Inode> inodes_;
  std::vector<std::pair<std::string, DirOp>> dir_ops_;  // (directory, op), oldest first
};

}  // namespace tandem::testing
