#include "replica/failover_history.h"

#include <cstdio>
#include <sstream>

#include "journal/numbers.h"

namespace tandem {

std::string FailoverId(Epoch began) {
  return "failover (epoch " + std::to_string(began.value) + ")";
}

std::string FailoverHistoryKey(Epoch epoch) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "epoch.%010u", epoch.value);
  return buf;
}

std::string FormatFailoverHistory(const FailoverHistoryEntry& e) {
  return "point=" + e.point.Token() + " master=" + e.master_id + " standby=" + e.standby_id +
         " forced=" + (e.forced ? "yes" : "no") + " planned=" + (e.planned ? "yes" : "no");
}

Result<FailoverHistoryEntry> ParseFailoverHistory(Epoch epoch, std::string_view value) {
  FailoverHistoryEntry e;
  e.epoch = epoch;
  std::istringstream in{std::string(value)};
  std::string word;
  bool has_point = false;
  while (in >> word) {
    if (word.starts_with("point=")) has_point = Position::ParseToken(word.substr(6), &e.point);
    if (word.starts_with("master=")) e.master_id = word.substr(7);
    if (word.starts_with("standby=")) e.standby_id = word.substr(8);
    if (word == "forced=yes") e.forced = true;
    if (word == "planned=yes") e.planned = true;
  }
  if (!has_point || e.master_id.empty() || e.standby_id.empty()) {
    return Status::Corruption("bad failover history row '" + std::string(value) + "'");
  }
  return e;
}

std::optional<FailoverHistoryEntry> FailoverThatBegan(const Tables& tables, Epoch epoch) {
  auto value = tables.Get(kFailoverTable, FailoverHistoryKey(epoch));
  if (!value) return std::nullopt;
  auto e = ParseFailoverHistory(epoch, *value);
  if (!e.ok()) return std::nullopt;
  return *e;
}

std::optional<FailoverHistoryEntry> FailoverAfter(const Tables& tables, Epoch held, Epoch newest) {
  // Keys sort by epoch (zero-padded): the first row after `held`'s key.
  auto rows = tables.Scan(kFailoverTable, "epoch.", 1, FailoverHistoryKey(held));
  if (rows.empty()) return std::nullopt;
  auto epoch = ParseDecimal<uint32_t>(std::string_view(rows[0].first).substr(6));
  if (!epoch || *epoch > newest.value) return std::nullopt;
  auto e = ParseFailoverHistory(Epoch{*epoch}, rows[0].second);
  if (!e.ok()) return std::nullopt;
  return *e;
}

}  // namespace tandem
