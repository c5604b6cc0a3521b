// The applied state: named, ordered key/value tables, each with the
// order-independent checksum of journal/FORMAT.md ("Table checksums")
// maintained on every change. TableSet is plain data (no locking); Tables
// below wraps it for concurrent readers.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

#include "journal/markers.h"
#include "journal/row_index.h"
#include "journal/transaction.h"

namespace tandem {

struct Table {
  TableRows rows;
  uint64_t checksum = 0;  // wrapping sum of RowHash over rows
  // TableSet's point lookups: over every row, or empty until the next write.
  // A copy starts without one (snapshots for checkpoints are only read).
  RowIndex index;

  Table() = default;
  Table(const Table& other) : rows(other.rows), checksum(other.checksum) {}
  Table& operator=(const Table& other) {
    rows = other.rows;
    checksum = other.checksum;
    index.Clear();
    return *this;
  }
  // A move keeps the nodes, so the index stays good.
  Table(Table&&) noexcept = default;
  Table& operator=(Table&&) noexcept = default;
};

class TableSet {
 public:
  void Apply(Op&& op);  // moves the key and value into the table
  void Apply(const Op& op);
  void Apply(const Transaction& txn) {
    for (const Op& op : txn.ops) Apply(op);
  }
  void Apply(Transaction&& txn) {
    for (Op& op : txn.ops) Apply(std::move(op));
  }
  // Applies each transaction in turn, as Apply of each would; each row is
  // looked up in the cache ahead of its apply, so that the cache misses of
  // many applies overlap instead of following one another (replay).
  void ApplyAll(std::vector<Transaction>& txns);
  const Table* Find(std::string_view table) const;
  // A whole table, as a checkpoint holds it: `name` must be new and `table`
  // not empty, with its checksum.
  void AddTable(std::string name, Table table) {
    tables_.emplace(std::move(name), std::move(table));
  }
  // Non-empty tables, sorted by name.
  std::vector<TableChecksum> Checksums() const;
  const std::map<std::string, Table, std::less<>>& tables() const { return tables_; }

 private:
  template <typename OpRef>
  void ApplyOp(OpRef&& op);

  std::map<std::string, Table, std::less<>> tables_;
};

// A TableSet shared between the one thread that applies records and any
// number of readers.
class Tables {
 public:
  explicit Tables(TableSet initial = {}) : set_(std::move(initial)) {}

  // Replaces the whole state (recovery, restore).
  void Reset(TableSet set) {
    std::unique_lock lock(mu_);
    set_ = std::move(set);
  }
  // Moves the whole state out, leaving no rows (a promoted standby's tables
  // go to the master it becomes).
  TableSet Take() {
    std::unique_lock lock(mu_);
    return std::exchange(set_, TableSet{});
  }
  void Apply(const Transaction& txn) {
    std::unique_lock lock(mu_);
    set_.Apply(txn);
  }
  void Apply(Transaction&& txn) {
    std::unique_lock lock(mu_);
    set_.Apply(std::move(txn));
  }
  std::optional<std::string> Get(std::string_view table, std::string_view key) const;
  // Rows of `table` whose keys start with `prefix`, in key order, at most
  // `limit` of them and (past the first) at most `max_bytes` of keys and
  // values; with `after`, only keys greater than it.
  std::vector<std::pair<std::string, std::string>> Scan(
      std::string_view table, std::string_view prefix, size_t limit,
      std::optional<std::string_view> after = std::nullopt, size_t max_bytes = SIZE_MAX) const;
  std::vector<TableChecksum> Checksums() const {
    std::shared_lock lock(mu_);
    return set_.Checksums();
  }
  // True when `table` has at least one row (empty tables do not exist).
  bool HasRows(std::string_view table) const {
    std::shared_lock lock(mu_);
    return set_.Find(table) != nullptr;
  }
  // The checksum of one table (0 when empty): changes whenever its rows do.
  uint64_t ChecksumOf(std::string_view table) const {
    std::shared_lock lock(mu_);
    const Table* t = set_.Find(table);
    return t == nullptr ? 0 : t->checksum;
  }
  // A consistent copy of everything, for checkpoints.
  TableSet Snapshot() const {
    std::shared_lock lock(mu_);
    return set_;
  }

 private:
  mutable std::shared_mutex mu_;
  TableSet set_;
};

}  // namespace tandem
