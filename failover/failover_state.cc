#include "failover/failover_state.h"

#include <cstdio>
#include <map>
#include <sstream>

#include "journal/file.h"

namespace tandem {
namespace {

constexpr FailoverPhase kPhases[] = {FailoverPhase::kPrepared, FailoverPhase::kMasterStopped,
                                     FailoverPhase::kPromoted, FailoverPhase::kComplete};

}  // namespace

std::string_view FailoverPhaseName(FailoverPhase p) {
  switch (p) {
    case FailoverPhase::kPrepared:
      return "prepared";
    case FailoverPhase::kMasterStopped:
      return "master-stopped";
    case FailoverPhase::kPromoted:
      return "promoted";
    case FailoverPhase::kComplete:
      return "complete";
  }
  return "unknown";
}

Result<std::optional<FailoverRecord>> ReadFailoverRecord(const RootLayout& layout) {
  const std::string path = layout.statefailover();
  if (!PathExists(path)) return std::optional<FailoverRecord>();
  TANDEM_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  std::istringstream in(text);
  std::string line;
  FailoverRecord rec;
  if (!std::getline(in, line) || !Position::ParseToken(line, &rec.point)) {
    return Status::Corruption(path + ": first line is not a position N/S");
  }
  std::map<std::string, std::string> fields;
  while (std::getline(in, line)) {
    size_t colon = line.find(": ");
    if (colon != std::string::npos) fields[line.substr(0, colon)] = line.substr(colon + 2);
  }
  bool known = false;
  for (FailoverPhase p : kPhases) {
    if (fields["phase"] == FailoverPhaseName(p)) {
      rec.phase = p;
      known = true;
    }
  }
  if (!known) return Status::Corruption(path + ": unknown phase '" + fields["phase"] + "'");
  rec.master_id = fields["master"];
  rec.standby_id = fields["standby"];
  rec.planned = fields["planned"] == "yes";
  try {
    rec.old_epoch = static_cast<uint32_t>(std::stoul(fields["epoch"]));
  } catch (...) {
    return Status::Corruption(path + ": bad epoch '" + fields["epoch"] + "'");
  }
  if (rec.master_id.empty()) return Status::Corruption(path + ": no master ServerID");
  return std::optional<FailoverRecord>(rec);
}

Status WriteFailoverRecord(const RootLayout& layout, const FailoverRecord& rec) {
  std::ostringstream out;
  out << rec.point.Token() << "\n"
      << "phase: " << FailoverPhaseName(rec.phase) << "\n"
      << "master: " << rec.master_id << "\n"
      << "standby: " << rec.standby_id << "\n"
      << "epoch: " << rec.old_epoch << "\n"
      << "planned: " << (rec.planned ? "yes" : "no") << "\n";
  return WriteFileDurably(layout.statefailover(), out.str());
}

std::string FailoverHistoryKey(Epoch epoch) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "epoch.%010u", epoch.value);
  return buf;
}

std::string FormatFailoverHistory(const FailoverRecord& rec) {
  return "point=" + rec.point.Token() + " master=" + rec.master_id + " standby=" + rec.standby_id;
}

Result<FailoverRecord> ParseFailoverHistory(std::string_view value) {
  FailoverRecord rec;
  std::istringstream in{std::string(value)};
  std::string word;
  bool has_point = false;
  while (in >> word) {
    if (word.starts_with("point=")) has_point = Position::ParseToken(word.substr(6), &rec.point);
    if (word.starts_with("master=")) rec.master_id = word.substr(7);
    if (word.starts_with("standby=")) rec.standby_id = word.substr(8);
  }
  if (!has_point || rec.master_id.empty() || rec.standby_id.empty()) {
    return Status::Corruption("bad failover history row '" + std::string(value) + "'");
  }
  return rec;
}

}  // namespace tandem
