#include "journal/server_identity.h"

#include "journal/file.h"
#include "journal/numbers.h"

namespace tandem {
namespace {

constexpr std::string_view kFence = "fenced: ";
constexpr std::string_view kFencedFor = "fenced-for: ";
constexpr std::string_view kFencedEpoch = "fenced-epoch: ";
constexpr std::string_view kNewMaster = "new-master: ";
constexpr std::string_view kPoint = "point: ";

std::string_view TrimLine(std::string_view s) {
  while (!s.empty() && (s.back() == '\r' || s.back() == ' ')) s.remove_suffix(1);
  return s;
}

}  // namespace

Result<ServerIdentity> ReadServerIdentity(const RootLayout& layout) {
  ServerIdentity out;
  if (!PathExists(layout.server_id_file())) return out;
  TANDEM_ASSIGN_OR_RETURN(std::string text, ReadFileToString(layout.server_id_file()));
  std::string_view rest = text;
  bool first = true;
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    std::string_view line = TrimLine(rest.substr(0, nl));
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
    if (first) {
      out.id = line;
      first = false;
    } else if (line.starts_with(kFence)) {
      out.fence = line.substr(kFence.size());
    } else if (line.starts_with(kFencedFor)) {
      out.fenced_for = line.substr(kFencedFor.size());
    } else if (line.starts_with(kFencedEpoch)) {
      // A hint for rejoin: a damaged line counts as unknown.
      out.fenced_epoch = ParseDecimal<uint32_t>(line.substr(kFencedEpoch.size())).value_or(0);
    } else if (line.starts_with(kNewMaster)) {
      out.new_master = line.substr(kNewMaster.size());
    } else if (line.starts_with(kPoint)) {
      Position::ParseToken(std::string(line.substr(kPoint.size())), &out.point);
    }
  }
  return out;
}

Status WriteServerIdentity(const RootLayout& layout, const ServerIdentity& identity,
                           DirectoryBatch* dirs) {
  std::string text = identity.id + "\n";
  if (identity.fenced()) {
    text += std::string(kFence) + identity.fence + "\n";
    if (!identity.fenced_for.empty()) text += std::string(kFencedFor) + identity.fenced_for + "\n";
    if (identity.fenced_epoch > 0) {
      text += std::string(kFencedEpoch) + std::to_string(identity.fenced_epoch) + "\n";
    }
    if (!identity.new_master.empty()) text += std::string(kNewMaster) + identity.new_master + "\n";
    if (identity.point != Position{}) text += std::string(kPoint) + identity.point.Token() + "\n";
  }
  if (dirs) return dirs->WriteFile(layout.server_id_file(), text);
  return WriteFileDurably(layout.server_id_file(), text);
}

}  // namespace tandem
