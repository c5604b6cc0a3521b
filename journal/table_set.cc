#include "journal/table_set.h"

#include <xxhash.h>

#include <memory>

#include "journal/coding.h"

namespace tandem {

uint64_t RowHash(std::string_view key, std::string_view value) {
  // Every apply hashes the row it replaces and the new one: most rows fit a
  // buffer on the stack (a length prefix takes at most 10 bytes).
  char small[512];
  std::unique_ptr<char[]> large;
  size_t need = key.size() + value.size() + 20;
  char* buf = need <= sizeof small ? small : (large = std::make_unique<char[]>(need)).get();
  char* end = PutLengthPrefixed(buf, key);
  end = PutLengthPrefixed(end, value);
  return XXH3_64bits(buf, static_cast<size_t>(end - buf));
}

// One body for both: a const op's strings are copied into the table, a
// moved one's are moved.
template <typename OpRef>
void TableSet::ApplyOp(OpRef&& op) {
  auto t = tables_.find(op.table);
  if (t == tables_.end()) {
    if (op.kind == Op::Kind::kDelete) return;
    t = tables_.emplace(op.table, Table{}).first;
  }
  Table& table = t->second;
  if (table.index.size() != table.rows.size()) table.index.Build(table.rows);
  auto row = table.index.Find(op.key);
  if (row) table.checksum -= RowHash((*row)->first, (*row)->second);
  if (op.kind == Op::Kind::kPut) {
    table.checksum += RowHash(op.key, op.value);
    if (row) {
      (*row)->second = std::forward<OpRef>(op).value;
    } else {
      auto [added, _] =
          table.rows.emplace(std::forward<OpRef>(op).key, std::forward<OpRef>(op).value);
      table.index.Insert(added);
    }
  } else if (row) {
    table.index.Erase(op.key);
    table.rows.erase(*row);
    if (table.rows.empty()) tables_.erase(t);
  }
}

void TableSet::Apply(Op&& op) { ApplyOp(std::move(op)); }
void TableSet::Apply(const Op& op) { ApplyOp(op); }

const Table* TableSet::Find(std::string_view table) const {
  auto it = tables_.find(table);
  return it == tables_.end() ? nullptr : &it->second;
}

std::vector<TableChecksum> TableSet::Checksums() const {
  std::vector<TableChecksum> out;
  for (const auto& [name, table] : tables_) {
    if (!table.rows.empty()) out.push_back({name, table.rows.size(), table.checksum});
  }
  return out;
}

std::optional<std::string> Tables::Get(std::string_view table, std::string_view key) const {
  std::shared_lock lock(mu_);
  const Table* t = set_.Find(table);
  if (t == nullptr) return std::nullopt;
  auto it = t->rows.find(key);
  if (it == t->rows.end()) return std::nullopt;
  return it->second;
}

std::vector<std::pair<std::string, std::string>> Tables::Scan(std::string_view table,
                                                              std::string_view prefix, size_t limit,
                                                              std::optional<std::string_view> after,
                                                              size_t max_bytes) const {
  std::vector<std::pair<std::string, std::string>> out;
  std::shared_lock lock(mu_);
  const Table* t = set_.Find(table);
  if (t == nullptr) return out;
  auto it = after && *after >= prefix ? t->rows.upper_bound(*after) : t->rows.lower_bound(prefix);
  size_t bytes = 0;
  for (; it != t->rows.end() && out.size() < limit; ++it) {
    if (it->first.compare(0, prefix.size(), prefix) != 0) break;
    bytes += it->first.size() + it->second.size();
    if (!out.empty() && bytes > max_bytes) break;
    out.emplace_back(it->first, it->second);
  }
  return out;
}

}  // namespace tandem
