// A hash index over the nodes of a table's ordered rows, so that the point
// lookup of every apply costs a hash and about one cache miss instead of a
// walk down log2(rows) nodes of the tree (with a string compare at each).
// Open addressing with linear probing: slots of (key hash, row, row hash),
// backward-shift deletion (no tombstones), grown at three quarters full;
// 32-64 bytes a row. The row hash is kept so that replacing a row need not
// read the old value (another cache miss) to take it out of the checksum.
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

// XXH3-64 of (lpstr key ++ lpstr value): a row's share of its table's
// checksum (journal/FORMAT.md, "Table checksums").
uint64_t RowHash(std::string_view key, std::string_view value);

class RowIndex {
 public:
  // A found row; good until the next Insert or Erase.
  struct Hit {
    size_t slot;
    TableRows::iterator row;
    uint64_t row_hash;
  };

  // Indexes every row of `rows`; returns the sum of their RowHash (the
  // table's checksum), which it computes anyway.
  uint64_t Build(TableRows& rows);
  // The row whose key is `key`, if indexed.
  std::optional<Hit> Find(std::string_view key) const;
  // `row`'s key must not be indexed yet; `row_hash` is RowHash of it.
  void Insert(TableRows::iterator row, uint64_t row_hash);
  // After the row of `hit` was given a new value.
  void SetRowHash(const Hit& hit, uint64_t row_hash) { slots_[hit.slot].row_hash = row_hash; }
  void Erase(const Hit& hit);
  // Hints for applying many rows in a row (TableSet::ApplyAll): Prefetch
  // brings `key`'s home slots into the cache and returns its tag; a while
  // later, PrefetchRow brings in the row node that the tag's slot points to,
  // so the Find after finds both in the cache. Neither changes anything.
  uint64_t Prefetch(std::string_view key) const;
  void PrefetchRow(uint64_t tag) const;
  void Clear();
  size_t size() const { return size_; }

 private:
  struct Slot {
    uint64_t tag = 0;  // 0: empty; else the key's hash with the top bit set
    TableRows::iterator row;
    uint64_t row_hash = 0;
  };
  static constexpr size_t kNone = SIZE_MAX;
  static uint64_t Tag(std::string_view key);
  size_t SlotOf(std::string_view key) const;  // kNone when not indexed
  void Place(const Slot& slot);
  void Grow();

  std::vector<Slot> slots_;  // a power of two in size, or empty
  size_t size_ = 0;
};

}  // namespace tandem
