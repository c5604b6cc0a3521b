// Where everything lives inside a server root (see ../shared/DESIGN.md).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "journal/position.h"
#include "journal/status.h"

namespace tandem {

class RootLayout {
 public:
  explicit RootLayout(std::string root) : root_(std::move(root)) {}

  const std::string& root() const { return root_; }
  std::string live_journal() const { return root_ + "/journal"; }
  std::string rotated_dir() const { return root_ + "/journals"; }
  std::string rotated_journal(uint32_t n) const {
    return rotated_dir() + "/journal." + std::to_string(n);
  }
  std::string checkpoint_dir() const { return root_ + "/checkpoints"; }
  std::string checkpoint(uint32_t n) const {
    return checkpoint_dir() + "/ckp." + std::to_string(n) + ".gz";
  }
  std::string logs_dir() const { return root_ + "/logs"; }
  std::string server_id_file() const { return root_ + "/server.id"; }
  std::string lock_file() const { return root_ + "/.lock"; }
  // "N/S": the live journal N was closed cleanly with its data ending at S.
  // Present only between a clean stop and the next start.
  std::string clean_end() const { return root_ + "/journal.end"; }
  // Downstream servers (standbys, replicas).
  std::string rep_dir() const { return root_ + "/journals.rep"; }
  std::string rep_journal(uint32_t n) const { return rep_dir() + "/journal." + std::to_string(n); }
  std::string statejcopy() const { return root_ + "/statejcopy"; }
  std::string state() const { return root_ + "/state"; }
  // During failover: `state` renamed, and the consistency point taken over.
  std::string statepullL() const { return root_ + "/statepullL"; }
  std::string statefailover() const { return root_ + "/statefailover"; }
  std::string local_config() const { return root_ + "/config.local"; }
  // Present once the root has had users or replicates from a secured master.
  std::string secured_marker() const { return root_ + "/secured"; }

  Status EnsureDirs() const;
  // Numbers of rotated journals / checkpoints present, ascending.
  Result<std::vector<uint32_t>> ListRotated() const;
  Result<std::vector<uint32_t>> ListCheckpoints() const;
  // Numbers of the journals in journals.rep (a downstream server's copies).
  Result<std::vector<uint32_t>> ListCopied() const;
  // True when the root holds no journal and no checkpoint.
  Result<bool> IsEmpty() const;

 private:
  std::string root_;
};

// Takes the exclusive lock that keeps two servers off one root; returns the
// descriptor that holds it.
Result<int> LockRoot(const RootLayout& layout);

// The same lock, held for a scope (offline tools).
class RootLock {
 public:
  static Result<RootLock> Acquire(const RootLayout& layout);
  RootLock(RootLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  RootLock(const RootLock&) = delete;
  RootLock& operator=(const RootLock&) = delete;
  ~RootLock();

 private:
  explicit RootLock(int fd) : fd_(fd) {}
  int fd_;
};

// Creates ROOT/journal holding only the journal-header record for journal n,
// durably (written as journal.tmp, fsynced, renamed).
Status CreateLiveJournal(const RootLayout& layout, uint32_t n, Epoch epoch);

// Renames the live journal to journals/journal.N durably.
Status MoveLiveToRotated(const RootLayout& layout, uint32_t n);

}  // namespace tandem
