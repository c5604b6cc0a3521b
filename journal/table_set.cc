#include "journal/table_set.h"

namespace tandem {

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
  auto hit = table.index.Find(op.key);
  if (hit) table.checksum -= hit->row_hash;
  if (op.kind == Op::Kind::kPut) {
    uint64_t row_hash = RowHash(op.key, op.value);
    table.checksum += row_hash;
    if (hit) {
      hit->row->second = std::forward<OpRef>(op).value;
      table.index.SetRowHash(*hit, row_hash);
    } else {
      auto [added, _] =
          table.rows.emplace(std::forward<OpRef>(op).key, std::forward<OpRef>(op).value);
      table.index.Insert(added, row_hash);
    }
  } else if (hit) {
    table.index.Erase(*hit);
    table.rows.erase(hit->row);
    if (table.rows.empty()) tables_.erase(t);
  }
}

void TableSet::ApplyAll(std::vector<Transaction>& txns) {
  std::vector<Op*> ops;
  for (Transaction& txn : txns) {
    for (Op& op : txn.ops) ops.push_back(&op);
  }
  // Two stages ahead of the apply: the slots of op i + kSlots, then the row
  // of op i + kRows, each far enough ahead for its miss to land. Only
  // indexes that are up to date are looked at; a hint that an earlier apply
  // made stale costs a wasted fetch, nothing else.
  constexpr size_t kSlots = 16, kRows = 8;
  uint64_t tags[kSlots] = {};
  auto index_of = [this](const Op& op) -> const RowIndex* {
    auto t = tables_.find(op.table);
    if (t == tables_.end() || t->second.index.size() != t->second.rows.size()) return nullptr;
    return &t->second.index;
  };
  for (size_t i = 0; i < ops.size() + kSlots; ++i) {
    if (i < ops.size()) {
      const RowIndex* index = index_of(*ops[i]);
      tags[i % kSlots] = index ? index->Prefetch(ops[i]->key) : 0;
    }
    if (i >= kSlots - kRows && i - (kSlots - kRows) < ops.size()) {
      size_t j = i - (kSlots - kRows);
      if (const RowIndex* index = index_of(*ops[j])) index->PrefetchRow(tags[j % kSlots]);
    }
    if (i >= kSlots) ApplyOp(std::move(*ops[i - kSlots]));
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
