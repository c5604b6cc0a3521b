#include "journal/row_index.h"

#include <xxhash.h>

#include <memory>
#include <random>

#include "journal/coding.h"

namespace tandem {

uint64_t RowHash(std::string_view key, std::string_view value) {
  // Every apply hashes the row it writes: most rows fit a buffer on the
  // stack (a length prefix takes at most 10 bytes).
  char small[512];
  std::unique_ptr<char[]> large;
  size_t need = key.size() + value.size() + 20;
  char* buf = need <= sizeof small ? small : (large = std::make_unique<char[]>(need)).get();
  char* end = PutLengthPrefixed(buf, key);
  end = PutLengthPrefixed(end, value);
  return XXH3_64bits(buf, static_cast<size_t>(end - buf));
}

uint64_t RowIndex::Tag(std::string_view key) {
  // Seeded per process: keys chosen to collide would make every apply a
  // long probe. The index is never stored, so nothing depends on the seed.
  static const uint64_t seed = (uint64_t{std::random_device{}()} << 32) | std::random_device{}();
  return XXH3_64bits_withSeed(key.data(), key.size(), seed) | (uint64_t{1} << 63);
}

uint64_t RowIndex::Build(TableRows& rows) {
  Clear();
  size_t capacity = 16;
  while (capacity * 3 < rows.size() * 4) capacity *= 2;
  slots_.assign(capacity, Slot{});
  uint64_t checksum = 0;
  for (auto it = rows.begin(); it != rows.end(); ++it) {
    uint64_t row_hash = RowHash(it->first, it->second);
    checksum += row_hash;
    Place({Tag(it->first), it, row_hash});
  }
  size_ = rows.size();
  return checksum;
}

size_t RowIndex::SlotOf(std::string_view key) const {
  if (slots_.empty()) return kNone;
  uint64_t tag = Tag(key);
  size_t mask = slots_.size() - 1;
  for (size_t i = tag & mask; slots_[i].tag != 0; i = (i + 1) & mask) {
    if (slots_[i].tag == tag && slots_[i].row->first == key) return i;
  }
  return kNone;
}

std::optional<RowIndex::Hit> RowIndex::Find(std::string_view key) const {
  size_t i = SlotOf(key);
  if (i == kNone) return std::nullopt;
  return Hit{i, slots_[i].row, slots_[i].row_hash};
}

uint64_t RowIndex::Prefetch(std::string_view key) const {
  if (slots_.empty()) return 0;
  uint64_t tag = Tag(key);
  __builtin_prefetch(&slots_[tag & (slots_.size() - 1)]);
  return tag;
}

void RowIndex::PrefetchRow(uint64_t tag) const {
  if (slots_.empty() || tag == 0) return;
  size_t mask = slots_.size() - 1;
  // Only the slots are read (a key compare would be the miss this avoids),
  // and a probe that is long is not worth following.
  for (size_t i = tag & mask, n = 0; slots_[i].tag != 0 && n < 4; i = (i + 1) & mask, ++n) {
    if (slots_[i].tag == tag) {
      __builtin_prefetch(&*slots_[i].row);
      return;
    }
  }
}

void RowIndex::Insert(TableRows::iterator row, uint64_t row_hash) {
  if ((size_ + 1) * 4 > slots_.size() * 3) Grow();
  Place({Tag(row->first), row, row_hash});
  ++size_;
}

void RowIndex::Place(const Slot& slot) {
  size_t mask = slots_.size() - 1;
  size_t i = slot.tag & mask;
  while (slots_[i].tag != 0) i = (i + 1) & mask;
  slots_[i] = slot;
}

void RowIndex::Grow() {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(old.empty() ? 16 : old.size() * 2, Slot{});
  for (const Slot& s : old) {
    if (s.tag != 0) Place(s);
  }
}

void RowIndex::Erase(const Hit& hit) {
  size_t i = hit.slot;
  size_t mask = slots_.size() - 1;
  // Pull back each later slot of the run that the hole would cut off from
  // its home, so every key stays reachable from its home by probing.
  for (size_t j = (i + 1) & mask; slots_[j].tag != 0; j = (j + 1) & mask) {
    size_t home = slots_[j].tag & mask;
    bool between = i <= j ? (i < home && home <= j) : (i < home || home <= j);
    if (!between) {
      slots_[i] = slots_[j];
      i = j;
    }
  }
  slots_[i] = Slot{};
  --size_;
}

void RowIndex::Clear() {
  slots_.clear();
  size_ = 0;
}

}  // namespace tandem
