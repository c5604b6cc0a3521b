#include "replica/status_rows.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>

#include "journal/markers.h"
#include "transport/dispatcher.h"

namespace tandem {
namespace {

std::optional<uint64_t> FileSize(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return static_cast<uint64_t>(st.st_size);
}

std::string Bytes(std::optional<uint64_t> bytes) { return bytes ? std::to_string(*bytes) : "-"; }

// More journals than this between two positions is not measured: it costs a
// stat each, and the answer would be "far behind" anyway.
constexpr uint32_t kMaxJournalsMeasured = 1000;

}  // namespace

JournalSizes RotatedJournalSizes(const RootLayout& layout) {
  return [layout](uint32_t n) { return FileSize(layout.rotated_journal(n)); };
}

JournalSizes NoJournalSizes() {
  return [](uint32_t) { return std::nullopt; };
}

uint32_t JournalsBetween(Position ahead, Position behind) {
  return ahead.journal > behind.journal ? ahead.journal - behind.journal : 0;
}

std::optional<uint64_t> BytesBetween(Position ahead, Position behind, const JournalSizes& sizes) {
  if (ahead <= behind) return 0;
  if (ahead.journal == behind.journal) return ahead.offset - behind.offset;
  if (behind.journal == 0 || ahead.journal - behind.journal > kMaxJournalsMeasured) {
    return std::nullopt;  // never heard from, or far behind
  }
  auto first = sizes(behind.journal);
  if (!first) return std::nullopt;
  uint64_t bytes = *first > behind.offset ? *first - behind.offset : 0;
  for (uint32_t n = behind.journal + 1; n < ahead.journal; ++n) {
    auto size = sizes(n);
    if (!size) return std::nullopt;
    bytes += *size;
  }
  return bytes + ahead.offset;
}

Row PullStatusRow(const std::string& server_id, const CopierStatus& up, Position applied) {
  int64_t age = up.last_data_unix > 0 ? NowSeconds() - up.last_data_unix : -1;
  return {
      {"serverID", server_id},
      {"role", up.role},
      {"connected", up.connected ? "1" : "0"},
      {"replicaJournal", std::to_string(applied.journal)},
      {"replicaSequence", std::to_string(applied.offset)},
      {"masterJournal", up.last_data_unix > 0 ? std::to_string(up.upstream_durable.journal) : "-1"},
      {"masterSequence", up.last_data_unix > 0 ? std::to_string(up.upstream_durable.offset) : "-1"},
      {"journalcopy", up.flushed.Token()},
      {"journalcopyWritten", up.written.Token()},
      {"applied", applied.Token()},
      {"release", up.release.Token()},
      {"bytesBehind", Bytes(BytesBetween(up.upstream_durable, applied, NoJournalSizes()))},
      {"journalsBehind", std::to_string(JournalsBetween(up.upstream_durable, applied))},
      {"secondsSinceData", std::to_string(age)},
      {"lastError", up.last_error}};
}

std::vector<Row> ChecksumRows(const ChecksumReport& report) {
  std::vector<Row> rows;
  for (const auto& v : report.tables) {
    rows.push_back({{"table", v.table},
                    {"verdict", v.match ? "match" : "DIFFER"},
                    {"expected", FormatChecksum(v.expected)},
                    {"actual", FormatChecksum(v.actual)},
                    {"rows", std::to_string(v.actual_rows)},
                    {"journal", std::to_string(report.at.journal)},
                    {"sequence", std::to_string(report.at.offset)}});
  }
  return rows;
}

std::optional<uint32_t> LagPercentileUs(std::vector<uint32_t> v, double p) {
  if (v.empty()) return std::nullopt;
  size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<ptrdiff_t>(i), v.end());
  return v[i];
}

namespace {

std::string PercentileUs(const std::vector<uint32_t>& v, double p) {
  auto us = LagPercentileUs(v, p);
  return us ? std::to_string(*us) : "-";
}

}  // namespace

Row MasterSelfRow(const std::string& server_id, Position durable, Position release) {
  return {{"serverID", server_id},
          {"type", "standard"},
          {"mandatory", "-"},
          {"alive", "1"},
          {"journalcopy", durable.Token()},
          {"journalcopyWritten", durable.Token()},
          {"applied", durable.Token()},
          {"lagBytes", "0"},
          {"lagJournals", "0"},
          {"lastSeenSecondsAgo", "0"},
          {"release", release.Token()},
          {"pullUFiles", "0"},
          {"pullUBytes", "0"},
          {"flushLagP50us", "-"},
          {"flushLagP99us", "-"},
          {"applyLagP50us", "-"},
          {"applyLagP99us", "-"}};
}

Row DownstreamRow(const DownstreamStatus& d, Position durable, Position release,
                  const JournalSizes& sizes) {
  int64_t age = d.last_seen > 0 ? NowSeconds() - d.last_seen : -1;
  return {{"serverID", d.id},
          {"type", std::string(ServerTypeName(d.type))},
          {"mandatory", d.mandatory ? "mandatory" : "nomandatory"},
          {"alive", d.connected ? "1" : "0"},
          {"journalcopy", d.flushed.Token()},
          {"journalcopyWritten", d.written.Token()},
          {"applied", d.applied.Token()},
          {"lagBytes", Bytes(BytesBetween(durable, d.applied, sizes))},
          {"lagJournals", std::to_string(JournalsBetween(durable, d.applied))},
          {"lastSeenSecondsAgo", std::to_string(age)},
          {"release", release.Token()},
          {"pullUFiles", std::to_string(d.backlog_files)},
          {"pullUBytes", std::to_string(d.backlog_bytes)},
          {"flushLagP50us", PercentileUs(d.lag.flushed_us, 0.50)},
          {"flushLagP99us", PercentileUs(d.lag.flushed_us, 0.99)},
          {"applyLagP50us", PercentileUs(d.lag.applied_us, 0.50)},
          {"applyLagP99us", PercentileUs(d.lag.applied_us, 0.99)}};
}

}  // namespace tandem
