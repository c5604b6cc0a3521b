// pull -L: the downstream thread that reads journals.rep and applies each
// record to the tables, never past min(journalcopy position, release
// position), and records how far it got in ROOT/state.
//
// When it applies a table-checksum marker it computes its own checksums at
// exactly that position and reports `match` or `DIFFER` per table.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "journal/root_layout.h"
#include "journal/table_set.h"

namespace tandem {

struct ChecksumVerdict {
  std::string table;
  uint64_t expected = 0, actual = 0;
  uint64_t expected_rows = 0, actual_rows = 0;
  bool match = false;
};

struct ChecksumReport {
  Position at;
  std::vector<ChecksumVerdict> tables;
};

class PullApplier {
 public:
  // Runs on the applier thread after each applied transaction, with the
  // position it ends at.
  using Observer = std::function<void(const Transaction&, Position end)>;
  // `tables` must outlive the applier and hold the state at `applied`.
  PullApplier(RootLayout layout, Tables* tables, Position applied, Observer observer = nullptr);
  ~PullApplier();
  PullApplier(const PullApplier&) = delete;
  PullApplier& operator=(const PullApplier&) = delete;

  void Start();
  void Stop();
  // New limits from journalcopy: bytes flushed, and the upstream's release.
  void SetLimit(Position flushed, Position release);
  Position applied() const;
  Position limit() const;
  // Waits until everything up to `to` is applied; false when `timeout`
  // passes first (the last error, if any, says why).
  bool WaitApplied(Position to, std::chrono::milliseconds timeout);
  std::string last_error() const;
  ChecksumReport last_checksums() const;

 private:
  void Run();
  Status ApplyAvailable();

  const RootLayout layout_;
  Tables* tables_;  // borrowed
  Observer observer_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable progress_cv_;  // applied_ moved
  Position applied_;
  Position limit_;
  bool stopping_ = false;
  ChecksumReport checksums_;
  std::string last_error_;  // the last logged error, logged once
  Position persisted_;
  std::thread thread_;
};

// Compares a checksum marker's tables with ours.
std::vector<ChecksumVerdict> CompareChecksums(const std::vector<TableChecksum>& expected,
                                              const std::vector<TableChecksum>& actual);

}  // namespace tandem
