#include "journal/file_system.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <map>
#include <mutex>
#include <shared_mutex>

namespace tandem {
namespace {

class PosixHandle final : public FileHandle {
 public:
  PosixHandle(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~PosixHandle() override {
    if (fd_ >= 0) ::close(fd_);
  }

  Result<size_t> PWrite(std::string_view data, uint64_t offset) override {
    for (;;) {
      ssize_t n = ::pwrite(fd_, data.data(), data.size(), static_cast<off_t>(offset));
      if (n >= 0) return static_cast<size_t>(n);
      if (errno != EINTR) return Status::FromErrno(errno, "write " + path_);
    }
  }
  Result<size_t> PRead(char* buf, size_t n, uint64_t offset) override {
    for (;;) {
      ssize_t r = ::pread(fd_, buf, n, static_cast<off_t>(offset));
      if (r >= 0) return static_cast<size_t>(r);
      if (errno != EINTR) return Status::FromErrno(errno, "read " + path_);
    }
  }
  Status DataSync() override {
    if (::fdatasync(fd_) != 0) return Status::FromErrno(errno, "fdatasync " + path_);
    return Status::Ok();
  }
  Status Sync() override {
    if (::fsync(fd_) != 0) return Status::FromErrno(errno, "fsync " + path_);
    return Status::Ok();
  }
  Status Allocate(uint64_t offset, uint64_t len) override {
    int err = ::posix_fallocate(fd_, static_cast<off_t>(offset), static_cast<off_t>(len));
    if (err != 0) return Status::FromErrno(err, "fallocate " + path_);
    return Status::Ok();
  }
  Status Truncate(uint64_t size) override {
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) {
      return Status::FromErrno(errno, "truncate " + path_);
    }
    return Status::Ok();
  }
  Result<uint64_t> Size() override {
    struct stat st;
    if (::fstat(fd_, &st) != 0) return Status::FromErrno(errno, "stat " + path_);
    return static_cast<uint64_t>(st.st_size);
  }
  Status Close() override {
    int fd = fd_;
    fd_ = -1;
    if (fd >= 0 && ::close(fd) != 0) return Status::FromErrno(errno, "close " + path_);
    return Status::Ok();
  }

 private:
  int fd_;
  std::string path_;
};

class Posix final : public FileSystem {
 public:
  Result<std::unique_ptr<FileHandle>> Open(const std::string& path, int flags,
                                           mode_t mode) override {
    int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
    if (fd < 0) return Status::FromErrno(errno, "open " + path);
    return std::unique_ptr<FileHandle>(new PosixHandle(fd, path));
  }
  Status Rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return Status::FromErrno(errno, "rename " + from + " -> " + to);
    }
    return Status::Ok();
  }
  Status Unlink(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return Status::FromErrno(errno, "unlink " + path);
    return Status::Ok();
  }
  Status SyncDir(const std::string& dir) override {
    const std::string& d = dir.empty() ? std::string(".") : dir;
    int fd = ::open(d.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return Status::FromErrno(errno, "open " + d);
    int rc = ::fsync(fd);
    int err = errno;
    ::close(fd);
    if (rc != 0) return Status::FromErrno(err, "fsync " + d);
    return Status::Ok();
  }
  Status CreateDirs(const std::string& path, mode_t mode) override {
    if (path.empty()) return Status::Ok();
    struct stat st;
    if (::stat(path.c_str(), &st) == 0) {
      if (S_ISDIR(st.st_mode)) return Status::Ok();
      return Status::AlreadyExists("mkdir " + path + ": exists and is not a directory");
    }
    auto slash = path.rfind('/');
    if (slash != std::string::npos && slash > 0) {
      TANDEM_RETURN_IF_ERROR(CreateDirs(path.substr(0, slash), mode));
    }
    if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST) {
      return Status::FromErrno(errno, "mkdir " + path);
    }
    return Status::Ok();
  }
  bool Exists(const std::string& path) override {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0;
  }
  Result<std::vector<std::string>> ListDir(const std::string& dir) override {
    std::vector<std::string> out;
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) {
      if (errno == ENOENT) return out;
      return Status::FromErrno(errno, "listing " + dir);
    }
    while (struct dirent* e = ::readdir(d)) {
      std::string_view name = e->d_name;
      if (name != "." && name != "..") out.emplace_back(name);
    }
    ::closedir(d);
    return out;
  }
  Status RemoveTree(const std::string& path) override {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
    if (ec) return Status::IOError("removing " + path + ": " + ec.message());
    return Status::Ok();
  }
};

struct MountTable {
  std::shared_mutex mu;
  std::map<std::string, FileSystem*, std::less<>> mounts;  // by directory
};

MountTable& Mounts() {
  static MountTable table;
  return table;
}

// `dir` is a prefix of `path` ending at a '/' (or at the end of `path`).
bool Under(std::string_view path, std::string_view dir) {
  return path.starts_with(dir) && (path.size() == dir.size() || path[dir.size()] == '/');
}

}  // namespace

FileSystem& PosixFileSystem() {
  static Posix posix;
  return posix;
}

FileSystem& FileSystemFor(std::string_view path) {
  MountTable& table = Mounts();
  std::shared_lock lock(table.mu);
  FileSystem* best = nullptr;
  size_t best_len = 0;
  for (const auto& [dir, fs] : table.mounts) {
    if (dir.size() >= best_len && Under(path, dir)) {
      best = fs;
      best_len = dir.size();
    }
  }
  return best != nullptr ? *best : PosixFileSystem();
}

ScopedMount::ScopedMount(std::string dir, FileSystem* fs) : dir_(std::move(dir)) {
  while (dir_.size() > 1 && dir_.back() == '/') dir_.pop_back();
  MountTable& table = Mounts();
  std::unique_lock lock(table.mu);
  table.mounts[dir_] = fs;
}

ScopedMount::~ScopedMount() {
  MountTable& table = Mounts();
  std::unique_lock lock(table.mu);
  table.mounts.erase(dir_);
}

}  // namespace tandem
