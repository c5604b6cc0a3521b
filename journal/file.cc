#include "journal/file.h"

#include <fcntl.h>

#include <algorithm>

namespace tandem {
namespace {

constexpr mode_t kDirMode = 0700;

Status NotOpen(const std::string& path) {
  return Status::FailedPrecondition("file " + path + " is not open");
}

}  // namespace

Result<File> File::Open(const std::string& path, int flags, mode_t mode) {
  TANDEM_ASSIGN_OR_RETURN(std::unique_ptr<FileHandle> h,
                          FileSystemFor(path).Open(path, flags, mode));
  return File(std::move(h), path);
}

Status File::PWriteAll(std::string_view data, uint64_t offset) {
  if (!handle_) return NotOpen(path_);
  while (!data.empty()) {
    TANDEM_ASSIGN_OR_RETURN(size_t n, handle_->PWrite(data, offset));
    if (n == 0) return Status::IOError("write " + path_ + ": wrote nothing");
    data.remove_prefix(n);
    offset += n;
  }
  return Status::Ok();
}

Result<size_t> File::PRead(char* buf, size_t n, uint64_t offset) const {
  if (!handle_) return NotOpen(path_);
  size_t done = 0;
  while (done < n) {
    TANDEM_ASSIGN_OR_RETURN(size_t r, handle_->PRead(buf + done, n - done, offset + done));
    if (r == 0) break;
    done += r;
  }
  return done;
}

Status File::DataSync() { return handle_ ? handle_->DataSync() : NotOpen(path_); }
Status File::Sync() { return handle_ ? handle_->Sync() : NotOpen(path_); }

Status File::Allocate(uint64_t offset, uint64_t len) {
  return handle_ ? handle_->Allocate(offset, len) : NotOpen(path_);
}

Status File::Truncate(uint64_t size) { return handle_ ? handle_->Truncate(size) : NotOpen(path_); }

Result<uint64_t> File::Size() const {
  if (!handle_) return NotOpen(path_);
  return handle_->Size();
}

Status File::Close() {
  if (!handle_) return Status::Ok();
  std::unique_ptr<FileHandle> h = std::move(handle_);
  return h->Close();
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
  const std::string d = dir.empty() ? "." : dir;
  return FileSystemFor(d).SyncDir(d);
}

Status RenameDurably(const std::string& from, const std::string& to) {
  DirectoryBatch dirs;
  TANDEM_RETURN_IF_ERROR(dirs.Rename(from, to));
  return dirs.Sync();
}

Status RemoveFile(const std::string& path) {
  Status st = FileSystemFor(path).Unlink(path);
  return st.code() == Code::kNotFound ? Status::Ok() : st;
}

Status RemoveDurably(const std::string& path) {
  DirectoryBatch dirs;
  TANDEM_RETURN_IF_ERROR(dirs.Remove(path));
  return dirs.Sync();
}

Status WriteFileDurably(const std::string& path, std::string_view content) {
  DirectoryBatch dirs;
  TANDEM_RETURN_IF_ERROR(dirs.WriteFile(path, content));
  return dirs.Sync();
}

void DirectoryBatch::Touch(const std::string& path, std::vector<std::string>* dirs) {
  std::string dir = DirName(path);
  if (std::find(dirs->begin(), dirs->end(), dir) == dirs->end()) dirs->push_back(std::move(dir));
}

Status DirectoryBatch::Rename(const std::string& from, const std::string& to) {
  TANDEM_RETURN_IF_ERROR(FileSystemFor(to).Rename(from, to));
  Touch(to, &to_);
  if (DirName(from) != DirName(to)) Touch(from, &from_);
  return Status::Ok();
}

Status DirectoryBatch::Remove(const std::string& path) {
  // Synced even when the file is already gone: a crash may have come
  // between an earlier unlink and its directory's sync.
  Touch(path, &to_);
  return RemoveFile(path);
}

Status DirectoryBatch::Sync() {
  auto in = [](const std::vector<std::string>& dirs, const std::string& dir) {
    return std::find(dirs.begin(), dirs.end(), dir) != dirs.end();
  };
  // Only destinations, then those both (a rename out of one came after a
  // rename into it, or before), then only sources.
  std::vector<std::string> order;
  for (const std::string& dir : to_) {
    if (!in(from_, dir)) order.push_back(dir);
  }
  for (const std::string& dir : to_) {
    if (in(from_, dir)) order.push_back(dir);
  }
  for (const std::string& dir : from_) {
    if (!in(to_, dir)) order.push_back(dir);
  }
  to_.clear();
  from_.clear();
  for (const std::string& dir : order) TANDEM_RETURN_IF_ERROR(SyncDir(dir));
  return Status::Ok();
}

Status DirectoryBatch::WriteFile(const std::string& path, std::string_view content) {
  std::string tmp = path + ".tmp";
  {
    TANDEM_ASSIGN_OR_RETURN(File f, File::Open(tmp, O_WRONLY | O_CREAT | O_TRUNC));
    Status st = f.PWriteAll(content, 0);
    if (st.ok()) st = f.Sync();
    if (!st.ok()) {
      (void)RemoveFile(tmp);
      return st;
    }
  }
  return Rename(tmp, path);
}

Status AppendFileRange(const std::string& to, const std::string& from, uint64_t offset,
                       uint64_t end) {
  if (end <= offset) return Status::Ok();
  TANDEM_ASSIGN_OR_RETURN(File in, File::Open(from, O_RDONLY));
  TANDEM_ASSIGN_OR_RETURN(File out, File::Open(to, O_WRONLY | O_CREAT));
  TANDEM_ASSIGN_OR_RETURN(uint64_t out_at, out.Size());
  std::string buf(1 << 20, '\0');
  for (uint64_t at = offset; at < end;) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), end - at));
    TANDEM_ASSIGN_OR_RETURN(size_t n, in.PRead(buf.data(), want, at));
    if (n == 0) return Status::IOError(from + ": short read at " + std::to_string(at));
    TANDEM_RETURN_IF_ERROR(out.PWriteAll(std::string_view(buf.data(), n), out_at));
    out_at += n;
    at += n;
  }
  return out.DataSync();
}

Result<std::string> ReadFileToString(const std::string& path) {
  TANDEM_ASSIGN_OR_RETURN(File f, File::Open(path, O_RDONLY));
  TANDEM_ASSIGN_OR_RETURN(uint64_t size, f.Size());
  std::string out(size, '\0');
  TANDEM_ASSIGN_OR_RETURN(size_t n, f.PRead(out.data(), out.size(), 0));
  out.resize(n);
  return out;
}

bool PathExists(const std::string& path) { return FileSystemFor(path).Exists(path); }

Status CreateDirs(const std::string& path) {
  return FileSystemFor(path).CreateDirs(path, kDirMode);
}

Result<std::vector<std::string>> ListDir(const std::string& dir) {
  TANDEM_ASSIGN_OR_RETURN(std::vector<std::string> names, FileSystemFor(dir).ListDir(dir));
  std::sort(names.begin(), names.end());
  return names;
}

Status RemoveTree(const std::string& path) { return FileSystemFor(path).RemoveTree(path); }

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
