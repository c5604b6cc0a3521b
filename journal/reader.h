// Sequential reading of one journal file, with the damage rules of
// journal/FORMAT.md ("Reading and damage").
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "journal/file.h"
#include "journal/position.h"
#include "journal/record.h"

namespace tandem {

class JournalReader {
 public:
  static Result<JournalReader> Open(const std::string& path, uint64_t start_offset = 0);

  enum class Step {
    kRecord,  // *rec holds the next record; offset() moved past it
    kEnd,     // exactly at the end of the file
    kStop,    // a zero header, a short record or a bad one at offset(); see stop_reason()
  };

  // Reads the record at offset(). I/O errors come back as a Status.
  Result<Step> Next(Record* rec);

  // Like Next, but when the data ends (or the last record is still being
  // written) it re-reads the file until a whole record appears or `timeout`
  // passes; then it returns kEnd or kStop as Next would.
  Result<Step> Follow(Record* rec, std::chrono::milliseconds timeout);

  uint64_t offset() const { return offset_; }
  // Moves to `offset` and forgets buffered bytes (the file may have changed).
  void Seek(uint64_t offset) {
    offset_ = offset;
    buf_len_ = 0;
    buf_offset_ = offset;
  }
  const char* stop_reason() const { return stop_reason_; }
  bool stopped_at_zero_header() const { return stop_zero_; }
  const std::string& path() const { return file_.path(); }

  struct AfterScan {
    // Offset of the first valid batch-start record after `from`.
    std::optional<uint64_t> next_batch_start;
    uint64_t nonzero_end = 0;  // end of the last non-zero byte seen
  };
  // Looks for a valid batch-start record starting after `from`; used to tell
  // a torn tail (the last batch, never acknowledged) from damage to
  // acknowledged data (a later batch exists, so this one was synced).
  Result<AfterScan> ScanAfter(uint64_t from);

 private:
  explicit JournalReader(File file, uint64_t offset) : file_(std::move(file)), offset_(offset) {}
  // Makes at least `n` bytes from offset_ available in the buffer, or as many
  // as the file has. Returns the count available.
  Result<size_t> Fill(size_t n);
  std::string_view Available() const;

  File file_;
  uint64_t offset_;
  std::vector<char> buf_;  // buf_[0, buf_len_) holds file bytes from buf_offset_
  size_t buf_len_ = 0;
  size_t chunk_ = 64 * 1024;  // next read size, doubling up to 1 MiB
  uint64_t buf_offset_ = 0;
  const char* stop_reason_ = "";
  bool stop_zero_ = false;
};

// What damage at the end of a journal means (journal/FORMAT.md, "Reading and
// damage"). In every policy but kStrict, damage before `acknowledged_end`
// (ScanJournal) is corruption whatever follows it.
enum class TailPolicy {
  kStrict,  // a rotated journal: any damage is corruption
  // The live journal, or a downstream server's copy: truncate a torn tail,
  // refuse damage before it, then sync the file before the caller trusts a
  // byte of it — a process killed between write and sync left its last
  // bytes in the page cache, where a power loss can still drop them.
  kCutTornTail,
  kReportOnly,  // like kCutTornTail but never modifies the file (validation)
  // A downstream server's copy: its syncs need not fall on the master's batch
  // boundaries, so everything from the first damage on is cut (and synced),
  // whatever follows; the upstream still holds those bytes.
  kCutCopyTail,
};

struct JournalSummary {
  uint32_t journal = 0;     // from the journal-header record
  uint64_t data_end = 0;    // offset just past the last valid record
  uint64_t torn_bytes = 0;  // bytes cut (or that would be cut) from the tail
  uint64_t records = 0;
  uint64_t last_txn_id = 0;
  Epoch max_epoch;
  std::optional<uint32_t> rotated_to;  // set when the journal ends with a rotation record
};

using RecordVisitor = std::function<Status(const Record& rec, Position end)>;

// Reads a whole journal, calling `visit` for each record after the header.
// Errors name the file and the offset. Bytes before `acknowledged_end` are
// known to have been acknowledged (a clean stop, or a downstream server's
// last recorded sync): damage there is never a torn tail.
Result<JournalSummary> ScanJournal(const std::string& path, TailPolicy policy,
                                   const RecordVisitor& visit, uint64_t acknowledged_end = 0);

}  // namespace tandem
