#include "tests/testing/fault_fs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <set>

#include "journal/file.h"

namespace tandem::testing {
namespace {

constexpr uint64_t kPage = 4096;

Status Errno(int err, const std::string& what) { return Status::FromErrno(err, what); }

uint64_t FdSize(int fd) {
  struct stat st;
  return ::fstat(fd, &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

std::string ReadAt(int fd, uint64_t offset, uint64_t n) {
  std::string out(n, '\0');
  ssize_t got = ::pread(fd, out.data(), n, static_cast<off_t>(offset));
  out.resize(got > 0 ? static_cast<size_t>(got) : 0);
  return out;
}

void WriteAt(int fd, std::string_view bytes, uint64_t offset) {
  while (!bytes.empty()) {
    ssize_t n = ::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset));
    if (n <= 0) return;
    bytes.remove_prefix(static_cast<size_t>(n));
    offset += static_cast<uint64_t>(n);
  }
}

// End of the last non-zero byte in [from, to), found from the end in blocks
// (preallocated journals end in tens of MiB of zeros).
uint64_t NonZeroEnd(int fd, uint64_t from, uint64_t to) {
  constexpr uint64_t kBlock = 1 << 20;
  static const std::string zeros(kBlock, '\0');
  while (to > from) {
    uint64_t start = to - std::min(kBlock, to - from);
    std::string block = ReadAt(fd, start, to - start);
    if (std::memcmp(block.data(), zeros.data(), block.size()) != 0) {
      return start + block.find_last_not_of('\0') + 1;
    }
    to = start;
  }
  return from;
}

uint64_t NextRandom(uint64_t* state) {  // splitmix64
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

}  // namespace

class FaultFs::Handle final : public FileHandle {
 public:
  Handle(FaultFs* fs, int fd, uint64_t generation, std::string path)
      : fs_(fs), fd_(fd), generation_(generation), path_(std::move(path)) {}
  ~Handle() override {
    if (fd_ >= 0) ::close(fd_);
  }
  Result<size_t> PWrite(std::string_view data, uint64_t offset) override {
    return fs_->Write(fd_, generation_, data, offset, path_);
  }
  Result<size_t> PRead(char* buf, size_t n, uint64_t offset) override {
    {
      std::lock_guard lock(fs_->mu_);
      if (generation_ != fs_->generation_) return Status::IOError("read " + path_ + ": killed");
      TANDEM_RETURN_IF_ERROR(fs_->Check(FsOp::kRead, path_));
    }
    ssize_t r = ::pread(fd_, buf, n, static_cast<off_t>(offset));
    if (r < 0) return Errno(errno, "read " + path_);
    return static_cast<size_t>(r);
  }
  Status DataSync() override { return fs_->SyncFile(fd_, generation_, path_); }
  Status Sync() override { return fs_->SyncFile(fd_, generation_, path_); }
  Status Allocate(uint64_t offset, uint64_t len) override {
    return fs_->Resize(fd_, generation_, offset + len, true, path_);
  }
  Status Truncate(uint64_t size) override {
    return fs_->Resize(fd_, generation_, size, false, path_);
  }
  Result<uint64_t> Size() override { return FdSize(fd_); }
  Status Close() override {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    return Status::Ok();
  }

 private:
  FaultFs* fs_;
  int fd_;
  const uint64_t generation_;
  const std::string path_;
};

FaultFs::FaultFs(std::string scratch_dir) : scratch_(std::move(scratch_dir)) {
  (void)PosixFileSystem().CreateDirs(scratch_, 0700);
}

FaultFs::~FaultFs() {
  for (auto& [key, inode] : inodes_) ::close(inode.fd);
}

void FaultFs::Inject(Fault fault) {
  std::lock_guard lock(mu_);
  faults_.emplace_back(std::move(fault), 0);
}

void FaultFs::ClearFaults() {
  std::lock_guard lock(mu_);
  faults_.clear();
}

void FaultFs::SetSpaceLimit(std::optional<uint64_t> bytes) {
  std::lock_guard lock(mu_);
  space_left_ = bytes;
}

void FaultFs::KillProcess() {
  std::lock_guard lock(mu_);
  ++generation_;
}

uint64_t FaultFs::UnsyncedBytes() const {
  std::lock_guard lock(mu_);
  uint64_t n = 0;
  for (const auto& [key, inode] : inodes_) {
    for (const auto* list : {&inode.pending, &inode.lost}) {
      for (const Undo& u : *list) n += std::max<uint64_t>(u.old.size(), 1);
    }
  }
  return n;
}

uint64_t FaultFs::successful_syncs() const {
  std::lock_guard lock(mu_);
  return syncs_;
}

uint64_t FaultFs::directory_syncs() const {
  std::lock_guard lock(mu_);
  return dir_syncs_;
}

Status FaultFs::Check(FsOp op, const std::string& path, bool* killed) {
  for (auto& [fault, seen] : faults_) {
    if (fault.op != op) continue;
    if (!fault.path_contains.empty() && path.find(fault.path_contains) == std::string::npos) {
      continue;
    }
    int n = seen++;
    if (n < fault.after) continue;
    if (fault.times >= 0 && n >= fault.after + fault.times) continue;
    if (fault.kill) {
      ++generation_;
      if (killed) *killed = true;
      return Status::IOError("the process was killed during a call on " + path);
    }
    return Errno(fault.error, "injected fault on " + path);
  }
  return Status::Ok();
}

void FaultFs::HoldNext(FsOp op, std::string path_contains) {
  std::lock_guard lock(mu_);
  hold_.emplace(op, std::move(path_contains));
}

bool FaultFs::WaitUntilHeld() {
  std::unique_lock lock(mu_);
  return held_cv_.wait_for(lock, std::chrono::seconds(20), [&] { return holding_; });
}

void FaultFs::Release() {
  std::lock_guard lock(mu_);
  holding_ = false;
  hold_.reset();
  held_cv_.notify_all();
}

void FaultFs::MaybeHold(FsOp op, const std::string& path, std::unique_lock<std::mutex>& lock) {
  if (!hold_ || hold_->first != op || path.find(hold_->second) == std::string::npos) return;
  hold_.reset();
  holding_ = true;
  held_cv_.notify_all();
  held_cv_.wait(lock, [&] { return !holding_; });
}

Status FaultFs::Charge(uint64_t grow, const std::string& path) {
  if (!space_left_ || grow == 0) return Status::Ok();
  if (grow > *space_left_) return Errno(ENOSPC, "write " + path);
  *space_left_ -= grow;
  return Status::Ok();
}

FaultFs::Inode& FaultFs::InodeFor(int fd) {
  struct stat st;
  ::fstat(fd, &st);
  Inode& inode = inodes_[{st.st_dev, st.st_ino}];
  if (inode.fd < 0) {
    // Our own read-write descriptor, whatever the caller opened it for.
    std::string self = "/proc/self/fd/" + std::to_string(fd);
    inode.fd = ::open(self.c_str(), O_RDWR | O_CLOEXEC);
  }
  return inode;
}

std::string FaultFs::Backup(const std::string& path) {
  std::string to = scratch_ + "/" + std::to_string(++backups_);
  return ::link(path.c_str(), to.c_str()) == 0 ? to : "";
}

Result<size_t> FaultFs::Write(int fd, uint64_t generation, std::string_view data, uint64_t offset,
                              const std::string& path) {
  std::unique_lock lock(mu_);
  MaybeHold(FsOp::kWrite, path, lock);
  if (generation != generation_) return Status::IOError("write " + path + ": killed");
  size_t n = data.size();
  bool partial = false;
  for (auto& [fault, seen] : faults_) {
    if (fault.op != FsOp::kWrite || fault.partial == 0) continue;
    if (!fault.path_contains.empty() && path.find(fault.path_contains) == std::string::npos) {
      continue;
    }
    if (seen >= fault.after && (fault.times < 0 || seen < fault.after + fault.times)) {
      ++seen;
      n = std::min(n, fault.partial);
      partial = true;
    }
  }
  if (!partial) TANDEM_RETURN_IF_ERROR(Check(FsOp::kWrite, path));
  const uint64_t size = FdSize(fd);
  if (space_left_ && offset + n > size && offset + n - size > *space_left_) {
    // The disk fills up mid-write: what fits is written, then ENOSPC.
    uint64_t room = size + *space_left_ > offset ? size + *space_left_ - offset : 0;
    if (room == 0) return Errno(ENOSPC, "write " + path);
    n = static_cast<size_t>(room);
  }
  TANDEM_RETURN_IF_ERROR(Charge(offset + n > size ? offset + n - size : 0, path));
  Inode& inode = InodeFor(fd);
  uint64_t old_len = offset < size ? std::min<uint64_t>(n, size - offset) : 0;
  inode.pending.push_back({size, offset, ReadAt(inode.fd, offset, old_len), offset + n});
  WriteAt(fd, data.substr(0, n), offset);
  return n;
}

Status FaultFs::SyncFile(int fd, uint64_t generation, const std::string& path) {
  std::unique_lock lock(mu_);
  MaybeHold(FsOp::kDataSync, path, lock);
  if (generation != generation_) return Status::IOError("fdatasync " + path + ": killed");
  Inode& inode = InodeFor(fd);
  bool killed = false;
  if (Status st = Check(FsOp::kDataSync, path, &killed); !st.ok()) {
    if (killed) return st;  // it never reached the disk: the writes stay unsynced
    // As on Linux: the error is reported once, the pages are marked clean,
    // and whatever they held is gone at the next crash.
    inode.lost.insert(inode.lost.end(), inode.pending.begin(), inode.pending.end());
    inode.pending.clear();
    return st;
  }
  inode.pending.clear();
  ++syncs_;
  return Status::Ok();
}

Status FaultFs::Resize(int fd, uint64_t generation, uint64_t size, bool allocate,
                       const std::string& path) {
  std::lock_guard lock(mu_);
  const char* what = allocate ? "fallocate " : "truncate ";
  if (generation != generation_) return Status::IOError(what + path + ": killed");
  TANDEM_RETURN_IF_ERROR(Check(allocate ? FsOp::kAllocate : FsOp::kTruncate, path));
  const uint64_t old = FdSize(fd);
  if (allocate && size <= old) return Status::Ok();
  TANDEM_RETURN_IF_ERROR(Charge(size > old ? size - old : 0, path));
  Inode& inode = InodeFor(fd);
  Undo undo{old, size, "", 0};
  if (size < old) {
    // Keep what the cut removes, without the zeros it ends in.
    undo.old = ReadAt(inode.fd, size, NonZeroEnd(inode.fd, size, old) - size);
  }
  inode.pending.push_back(std::move(undo));
  int rc = allocate ? ::posix_fallocate(fd, 0, static_cast<off_t>(size))
                    : ::ftruncate(fd, static_cast<off_t>(size));
  if (rc != 0) return Errno(allocate ? rc : errno, what + path);
  return Status::Ok();
}

void FaultFs::UndoInode(Inode& inode, double keep, uint64_t* rng) {
  // Pages that persist anyway (out-of-order writeback): their current bytes.
  std::map<uint64_t, std::string> kept;
  if (keep > 0) {
    std::set<uint64_t> pages;
    for (const auto* list : {&inode.lost, &inode.pending}) {
      for (const Undo& u : *list) {
        for (uint64_t p = u.offset / kPage; p * kPage < u.written_end; ++p) pages.insert(p);
      }
    }
    for (uint64_t p : pages) {
      double roll = static_cast<double>(NextRandom(rng) >> 11) / static_cast<double>(1ull << 53);
      if (roll < keep) kept[p] = ReadAt(inode.fd, p * kPage, kPage);
    }
  }
  for (const auto* list : {&inode.pending, &inode.lost}) {  // newest first
    for (auto it = list->rbegin(); it != list->rend(); ++it) {
      WriteAt(inode.fd, it->old, it->offset);
      if (::ftruncate(inode.fd, static_cast<off_t>(it->old_size)) != 0) continue;
    }
  }
  for (const auto& [page, bytes] : kept) WriteAt(inode.fd, bytes, page * kPage);
}

void FaultFs::Crash(double keep_probability, uint64_t seed) {
  std::lock_guard lock(mu_);
  ++generation_;
  uint64_t rng = seed;
  for (auto& [key, inode] : inodes_) {
    UndoInode(inode, keep_probability, &rng);
    ::close(inode.fd);
  }
  inodes_.clear();
  for (auto it = dir_ops_.rbegin(); it != dir_ops_.rend(); ++it) {
    const DirOp& op = it->second;
    switch (op.kind) {
      case DirOp::kCreated:
        ::unlink(op.path.c_str());
        break;
      case DirOp::kRenamed:
        ::rename(op.path.c_str(), op.from.c_str());
        if (!op.backup.empty()) ::rename(op.backup.c_str(), op.path.c_str());
        break;
      case DirOp::kUnlinked:
        if (!op.backup.empty()) ::rename(op.backup.c_str(), op.path.c_str());
        break;
    }
  }
  dir_ops_.clear();
}

Result<std::unique_ptr<FileHandle>> FaultFs::Open(const std::string& path, int flags, mode_t mode) {
  uint64_t generation;
  {
    std::lock_guard lock(mu_);
    TANDEM_RETURN_IF_ERROR(Check(FsOp::kOpen, path));
    generation = generation_;
  }
  bool existed = ::access(path.c_str(), F_OK) == 0;
  // O_TRUNC is done below, as a truncation the crash model can undo.
  int fd = ::open(path.c_str(), (flags & ~O_TRUNC) | O_CLOEXEC, mode);
  if (fd < 0) return Errno(errno, "open " + path);
  auto handle = std::make_unique<Handle>(this, fd, generation, path);
  if (!existed && (flags & O_CREAT)) {
    std::lock_guard lock(mu_);
    dir_ops_.push_back({DirName(path), {DirOp::kCreated, path, "", ""}});
  }
  if ((flags & O_TRUNC) && existed) TANDEM_RETURN_IF_ERROR(handle->Truncate(0));
  return std::unique_ptr<FileHandle>(std::move(handle));
}

Status FaultFs::Rename(const std::string& from, const std::string& to) {
  std::lock_guard lock(mu_);
  TANDEM_RETURN_IF_ERROR(Check(FsOp::kRename, from));
  std::string backup = ::access(to.c_str(), F_OK) == 0 ? Backup(to) : "";
  if (::rename(from.c_str(), to.c_str()) != 0) {
    if (!backup.empty()) ::unlink(backup.c_str());
    return Errno(errno, "rename " + from + " -> " + to);
  }
  dir_ops_.push_back({DirName(to), {DirOp::kRenamed, to, from, backup}});
  return Status::Ok();
}

Status FaultFs::Unlink(const std::string& path) {
  std::lock_guard lock(mu_);
  TANDEM_RETURN_IF_ERROR(Check(FsOp::kUnlink, path));
  if (::access(path.c_str(), F_OK) != 0) return Errno(ENOENT, "unlink " + path);
  std::string backup = Backup(path);
  if (::unlink(path.c_str()) != 0) return Errno(errno, "unlink " + path);
  dir_ops_.push_back({DirName(path), {DirOp::kUnlinked, path, "", backup}});
  return Status::Ok();
}

Status FaultFs::SyncDir(const std::string& dir) {
  std::lock_guard lock(mu_);
  TANDEM_RETURN_IF_ERROR(Check(FsOp::kSyncDir, dir));
  std::erase_if(dir_ops_, [&](const auto& entry) { return entry.first == dir; });
  ++dir_syncs_;
  return Status::Ok();
}

Status FaultFs::CreateDirs(const std::string& path, mode_t mode) {
  return PosixFileSystem().CreateDirs(path, mode);
}

bool FaultFs::Exists(const std::string& path) { return PosixFileSystem().Exists(path); }

Result<std::vector<std::string>> FaultFs::ListDir(const std::string& dir) {
  return PosixFileSystem().ListDir(dir);
}

Status FaultFs::RemoveTree(const std::string& path) { return PosixFileSystem().RemoveTree(path); }

}  // namespace tandem::testing
