#include "replica/copied_journal.h"

#include <fcntl.h>

#include "journal/file.h"
#include "journal/markers.h"
#include "replica/state_file.h"

namespace tandem {

Result<Position> ReadCopy(const RootLayout& layout, Position from, Position to,
                          const RecordVisitor& visit) {
  Position at = from;
  if (!PathExists(layout.rep_journal(at.journal))) return at;
  TANDEM_ASSIGN_OR_RETURN(JournalReader reader,
                          JournalReader::Open(layout.rep_journal(at.journal), at.offset));
  Record rec;
  while (at < to) {
    TANDEM_ASSIGN_OR_RETURN(JournalReader::Step step, reader.Next(&rec));
    if (step != JournalReader::Step::kRecord) break;  // the copy ends (perhaps mid-record)
    Position end{at.journal, reader.offset()};
    if (end > to) break;
    if (visit) TANDEM_RETURN_IF_ERROR(visit(rec, end));
    at = end;
    if (rec.type == RecordType::kRotation) {
      TANDEM_ASSIGN_OR_RETURN(uint32_t next, DecodeJournalNumber(rec.payload));
      at = Position{next, 0};
      if (!PathExists(layout.rep_journal(next))) break;
      TANDEM_ASSIGN_OR_RETURN(reader, JournalReader::Open(layout.rep_journal(next), 0));
    }
  }
  return at;
}

Result<uint64_t> CutCopyBack(const RootLayout& layout, Position point, const std::string& aside) {
  uint64_t moved = 0;
  TANDEM_ASSIGN_OR_RETURN(std::vector<uint32_t> copied, layout.ListCopied());
  for (uint32_t n : copied) {
    if (n < point.journal) continue;
    std::string path = layout.rep_journal(n);
    uint64_t keep = n == point.journal ? point.offset : 0;
    uint64_t size;
    {
      TANDEM_ASSIGN_OR_RETURN(File f, File::Open(path, O_RDWR));
      TANDEM_ASSIGN_OR_RETURN(size, f.Size());
      if (size > keep) {
        TANDEM_RETURN_IF_ERROR(AppendFileRange(aside, path, keep, size));
        moved += size - keep;
      }
      if (keep > 0) {
        TANDEM_RETURN_IF_ERROR(f.Truncate(keep));
        TANDEM_RETURN_IF_ERROR(f.DataSync());
      }
    }
    if (keep == 0) TANDEM_RETURN_IF_ERROR(RemoveDurably(path));
  }
  TANDEM_RETURN_IF_ERROR(WritePositionFile(layout.statejcopy(), point));
  return moved;
}

}  // namespace tandem
