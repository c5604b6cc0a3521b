#include "replica/copied_journal.h"

#include "journal/file.h"
#include "journal/markers.h"

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

}  // namespace tandem
