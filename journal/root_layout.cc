#include "journal/root_layout.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>

#include "journal/file.h"
#include "journal/markers.h"
#include "journal/record.h"

namespace tandem {
namespace {

Result<std::vector<uint32_t>> ListNumbered(const std::string& dir, std::string_view prefix,
                                           std::string_view suffix) {
  std::vector<uint32_t> out;
  TANDEM_ASSIGN_OR_RETURN(std::vector<std::string> names, ListDir(dir));
  for (const std::string& name : names) {
    if (name.size() <= prefix.size() + suffix.size() || name.compare(0, prefix.size(), prefix) ||
        name.compare(name.size() - suffix.size(), suffix.size(), suffix)) {
      continue;
    }
    std::string_view digits(name.data() + prefix.size(),
                            name.size() - prefix.size() - suffix.size());
    uint32_t n;
    auto r = std::from_chars(digits.data(), digits.data() + digits.size(), n);
    if (r.ec == std::errc() && r.ptr == digits.data() + digits.size()) out.push_back(n);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

Status RootLayout::EnsureDirs() const {
  for (const auto& d : {root_, rotated_dir(), checkpoint_dir(), logs_dir()}) {
    TANDEM_RETURN_IF_ERROR(CreateDirs(d));
  }
  return Status::Ok();
}

Result<std::vector<uint32_t>> RootLayout::ListRotated() const {
  return ListNumbered(rotated_dir(), "journal.", "");
}

Result<std::vector<uint32_t>> RootLayout::ListCopied() const {
  return ListNumbered(rep_dir(), "journal.", "");
}

Result<std::vector<uint32_t>> RootLayout::ListCheckpoints() const {
  return ListNumbered(checkpoint_dir(), "ckp.", ".gz");
}

Result<bool> RootLayout::IsEmpty() const {
  TANDEM_ASSIGN_OR_RETURN(auto rotated, ListRotated());
  TANDEM_ASSIGN_OR_RETURN(auto ckps, ListCheckpoints());
  return rotated.empty() && ckps.empty() && !PathExists(live_journal());
}

Result<int> LockRoot(const RootLayout& layout) {
  TANDEM_RETURN_IF_ERROR(CreateDirs(layout.root()));
  int fd = ::open(layout.lock_file().c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Status::FromErrno(errno, "open " + layout.lock_file());
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return Status::FailedPrecondition("root " + layout.root() +
                                      " is in use by another tandemd (lock held on " +
                                      layout.lock_file() + ")");
  }
  return fd;
}

Result<RootLock> RootLock::Acquire(const RootLayout& layout) {
  TANDEM_ASSIGN_OR_RETURN(int fd, LockRoot(layout));
  return RootLock(fd);
}

RootLock::~RootLock() {
  if (fd_ >= 0) ::close(fd_);
}

Status CreateLiveJournal(const RootLayout& layout, uint32_t n, Epoch epoch) {
  std::string header;
  EncodeRecord(RecordType::kJournalHeader, kFlagBatchStart, epoch, 0, EncodeJournalNumber(n),
               &header);
  return WriteFileDurably(layout.live_journal(), header);
}

Status MoveLiveToRotated(const RootLayout& layout, uint32_t n) {
  std::string to = layout.rotated_journal(n);
  if (PathExists(to)) {
    return Status::AlreadyExists("cannot rotate: " + to + " already exists");
  }
  return RenameDurably(layout.live_journal(), to);
}

}  // namespace tandem
