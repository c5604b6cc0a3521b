// A hash index over the nodes of a table's ordered rows, so that the point
// lookup of every apply costs a hash and about one cache miss instead of a
// walk down log2(rows) nodes of the tree (with a string compare at each).
// Open addressing with linear probing: slots of (hash, row), backward-shift
// deletion (no tombstones), grown at three quarters full; 21-43 bytes a row.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tandem {

using TableRows = std::map<std::string, std::string, std::less<>>;

class RowIndex {
 public:
  // Indexes every row of `rows`.
  void Build(TableRows& rows);
  // The row whose key is `key`, if indexed.
  std::optional<TableRows::iterator> Find(std::string_view key) const;
  // `row`'s key must not be indexed yet.
  void Insert(TableRows::iterator row);
  // `key` must be indexed.
  void Erase(std::string_view key);
  void Clear();
  size_t size() const { return size_; }

 private:
  struct Slot {
    uint64_t tag = 0;  // 0: empty; else the key's hash with the top bit set
    TableRows::iterator row;
  };
  static constexpr size_t kNone = SIZE_MAX;
  static uint64_t Tag(std::string_view key);
  size_t SlotOf(std::string_view key) const;  // kNone when not indexed
  void Place(uint64_t tag, TableRows::iterator row);
  void Grow();

  std::vector<Slot> slots_;  // a power of two in size, or empty
  size_t size_ = 0;
};

}  // namespace tandem
