#include "journal/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <system_error>

namespace tandem {

Result<File> File::Open(const std::string& path, int flags, mode_t mode) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) return Status::FromErrno(errno, "open " + path);
  return File(fd, path);
}

File::File(File&& other) noexcept : fd_(other.fd_), path_(std::move(other.path_)) {
  other.fd_ = -1;
}

File& File::operator=(File&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    path_ = std::move(other.path_);
    other.fd_ = -1;
  }
  return *this;
}

File::~File() {
  if (fd_ >= 0) ::close(fd_);
}

Status File::PWriteAll(std::string_view data, uint64_t offset) {
  while (!data.empty()) {
    ssize_t n = ::pwrite(fd_, data.data(), data.size(), static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno(errno, "write " + path_);
    }
    data.remove_prefix(static_cast<size_t>(n));
    offset += static_cast<uint64_t>(n);
  }
  return Status::Ok();
}

Result<size_t> File::PRead(char* buf, size_t n, uint64_t offset) const {
  size_t done = 0;
  while (done < n) {
    ssize_t r = ::pread(fd_, buf + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno(errno, "read " + path_);
    }
    if (r == 0) break;
    done += static_cast<size_t>(r);
  }
  return done;
}

Status File::DataSync() {
  if (::fdatasync(fd_) != 0) return Status::FromErrno(errno, "fdatasync " + path_);
  return Status::Ok();
}

Status File::Sync() {
  if (::fsync(fd_) != 0) return Status::FromErrno(errno, "fsync " + path_);
  return Status::Ok();
}

Status File::Allocate(uint64_t offset, uint64_t len) {
  int err = ::posix_fallocate(fd_, static_cast<off_t>(offset), static_cast<off_t>(len));
  if (err != 0) return Status::FromErrno(err, "fallocate " + path_);
  return Status::Ok();
}

Status File::Truncate(uint64_t size) {
  if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) {
    return Status::FromErrno(errno, "truncate " + path_);
  }
  return Status::Ok();
}

Result<uint64_t> File::Size() const {
  struct stat st;
  if (::fstat(fd_, &st) != 0) return Status::FromErrno(errno, "stat " + path_);
  return static_cast<uint64_t>(st.st_size);
}

Status File::Close() {
  if (fd_ < 0) return Status::Ok();
  int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) return Status::FromErrno(errno, "close " + path_);
  return Status::Ok();
}

Status ReadChunks(const File& file, uint64_t offset, size_t chunk, const ByteSink& sink) {
  std::string buf(chunk, '\0');
  for (;;) {
    TANDEM_ASSIGN_OR_RETURN(size_t n, file.PRead(buf.data(), buf.size(), offset));
    if (n == 0) return Status::Ok();
    TANDEM_RETURN_IF_ERROR(sink(std::string_view(buf.data(), n)));
    offset += n;
  }
}

Status SyncDir(const std::string& dir) {
  TANDEM_ASSIGN_OR_RETURN(File d, File::Open(dir.empty() ? "." : dir, O_RDONLY | O_DIRECTORY));
  return d.Sync();
}

Status RenameDurably(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) {
    return Status::FromErrno(errno, "rename " + from + " -> " + to);
  }
  TANDEM_RETURN_IF_ERROR(SyncDir(DirName(to)));
  if (DirName(from) != DirName(to)) TANDEM_RETURN_IF_ERROR(SyncDir(DirName(from)));
  return Status::Ok();
}

Status RemoveDurably(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return Status::FromErrno(errno, "unlink " + path);
  }
  return SyncDir(DirName(path));
}

Status WriteFileDurably(const std::string& path, std::string_view content) {
  std::string tmp = path + ".tmp";
  {
    TANDEM_ASSIGN_OR_RETURN(File f, File::Open(tmp, O_WRONLY | O_CREAT | O_TRUNC));
    Status st = f.PWriteAll(content, 0);
    if (st.ok()) st = f.Sync();
    if (!st.ok()) {
      ::unlink(tmp.c_str());
      return st;
    }
  }
  return RenameDurably(tmp, path);
}

Result<std::string> ReadFileToString(const std::string& path) {
  TANDEM_ASSIGN_OR_RETURN(File f, File::Open(path, O_RDONLY));
  TANDEM_ASSIGN_OR_RETURN(uint64_t size, f.Size());
  std::string out(size, '\0');
  TANDEM_ASSIGN_OR_RETURN(size_t n, f.PRead(out.data(), out.size(), 0));
  out.resize(n);
  return out;
}

bool PathExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

Status CreateDirs(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return Status::IOError("mkdir " + path + ": " + ec.message());
  return Status::Ok();
}

std::string DirName(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string BaseName(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace tandem
