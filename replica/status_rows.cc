#include "replica/status_rows.h"

#include <algorithm>
#include <cstdio>

#include "journal/markers.h"
#include "transport/dispatcher.h"

namespace tandem {
namespace {

// Bytes between two positions when they are in the same journal; otherwise
// "-" with the journal count.
std::string BytesBehind(Position ahead, Position behind) {
  if (ahead <= behind) return "0";
  if (ahead.journal == behind.journal) return std::to_string(ahead.offset - behind.offset);
  return "journals:" + std::to_string(ahead.journal - behind.journal);
}

}  // namespace

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
      {"bytesBehind", BytesBehind(up.upstream_durable, applied)},
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

std::string PercentileUs(std::vector<uint32_t> v, double p) {
  if (v.empty()) return "-";
  size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<ptrdiff_t>(i), v.end());
  return std::to_string(v[i]);
}

Row DownstreamRow(const DownstreamStatus& d, Position durable, Position release) {
  int64_t age = d.last_seen > 0 ? NowSeconds() - d.last_seen : -1;
  return {{"serverID", d.id},
          {"type", std::string(ServerTypeName(d.type))},
          {"mandatory", d.mandatory ? "mandatory" : "nomandatory"},
          {"alive", d.connected ? "1" : "0"},
          {"journalcopy", d.flushed.Token()},
          {"journalcopyWritten", d.written.Token()},
          {"applied", d.applied.Token()},
          {"lagBytes", BytesBehind(durable, d.applied)},
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
