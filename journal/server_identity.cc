#include "journal/server_identity.h"

#include "journal/file.h"

namespace tandem {
namespace {

constexpr std::string_view kFencePrefix = "fenced: ";

std::string TrimLine(std::string_view s) {
  while (!s.empty() && (s.back() == '\r' || s.back() == ' ')) s.remove_suffix(1);
  return std::string(s);
}

}  // namespace

Result<ServerIdentity> ReadServerIdentity(const RootLayout& layout) {
  ServerIdentity out;
  if (!PathExists(layout.server_id_file())) return out;
  TANDEM_ASSIGN_OR_RETURN(std::string text, ReadFileToString(layout.server_id_file()));
  std::string_view rest = text;
  size_t nl = rest.find('\n');
  out.id = TrimLine(rest.substr(0, nl));
  if (nl == std::string_view::npos) return out;
  rest.remove_prefix(nl + 1);
  std::string second = TrimLine(rest.substr(0, rest.find('\n')));
  if (second.starts_with(kFencePrefix)) out.fence = second.substr(kFencePrefix.size());
  return out;
}

Status WriteServerIdentity(const RootLayout& layout, const ServerIdentity& identity) {
  std::string text = identity.id + "\n";
  if (!identity.fence.empty()) text += std::string(kFencePrefix) + identity.fence + "\n";
  return WriteFileDurably(layout.server_id_file(), text);
}

}  // namespace tandem
