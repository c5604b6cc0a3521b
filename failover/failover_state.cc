#include "failover/failover_state.h"

#include <charconv>
#include <map>
#include <sstream>

#include "journal/file.h"

namespace tandem {
namespace {

constexpr FailoverPhase kPhases[] = {FailoverPhase::kPrepared, FailoverPhase::kStopping,
                                     FailoverPhase::kMasterStopped, FailoverPhase::kPromoted,
                                     FailoverPhase::kComplete};

template <typename T>
bool ParseNumber(const std::string& s, T* out) {
  auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

}  // namespace

std::string_view FailoverPhaseName(FailoverPhase p) {
  switch (p) {
    case FailoverPhase::kPrepared:
      return "prepared";
    case FailoverPhase::kStopping:
      return "stopping";
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
  rec.mandatory = fields["mandatory"] == "yes";
  rec.master_address = fields["master-address"];
  rec.tell_address = fields["tell"];
  rec.forced = fields["forced"] == "yes";
  if (!ParseNumber(fields["epoch"], &rec.old_epoch)) {
    return Status::Corruption(path + ": bad epoch '" + fields["epoch"] + "'");
  }
  if (!fields["lease-end-ms"].empty() && !ParseNumber(fields["lease-end-ms"], &rec.lease_end_ms)) {
    return Status::Corruption(path + ": bad lease-end-ms '" + fields["lease-end-ms"] + "'");
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
      << "planned: " << (rec.planned ? "yes" : "no") << "\n"
      << "mandatory: " << (rec.mandatory ? "yes" : "no") << "\n";
  if (!rec.master_address.empty()) out << "master-address: " << rec.master_address << "\n";
  if (rec.lease_end_ms > 0) out << "lease-end-ms: " << rec.lease_end_ms << "\n";
  if (!rec.tell_address.empty()) out << "tell: " << rec.tell_address << "\n";
  if (rec.forced) out << "forced: yes\n";
  return WriteFileDurably(layout.statefailover(), out.str());
}

}  // namespace tandem
