#include "journal/position.h"

#include <charconv>

namespace tandem {

std::string Position::ToString() const {
  return "Journal " + std::to_string(journal) + ", Sequence " + std::to_string(offset);
}

std::string Position::Token() const {
  return std::to_string(journal) + "/" + std::to_string(offset);
}

bool Position::ParseToken(const std::string& token, Position* out) {
  auto slash = token.find('/');
  if (slash == std::string::npos) return false;
  Position p;
  const char* begin = token.data();
  const char* end = begin + token.size();
  auto r1 = std::from_chars(begin, begin + slash, p.journal);
  if (r1.ec != std::errc() || r1.ptr != begin + slash) return false;
  auto r2 = std::from_chars(begin + slash + 1, end, p.offset);
  if (r2.ec != std::errc() || r2.ptr != end) return false;
  *out = p;
  return true;
}

}  // namespace tandem
