#include "replica/state_file.h"

#include "journal/file.h"

namespace tandem {

Result<Position> ReadPositionFile(const std::string& path) {
  TANDEM_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  Position pos;
  if (!Position::ParseToken(text, &pos)) {
    return Status::Corruption(path + ": expected 'JOURNAL/SEQUENCE', found '" + text + "'");
  }
  return pos;
}

Status WritePositionFile(const std::string& path, Position pos) {
  return WriteFileDurably(path, pos.Token() + "\n");
}

}  // namespace tandem
