#include "journal/reader.h"

#include <fcntl.h>

#include <algorithm>
#include <cstring>
#include <thread>

#include "journal/coding.h"
#include "journal/log.h"
#include "journal/markers.h"

namespace tandem {
namespace {
constexpr size_t kChunk = 1 << 20;
}

Result<JournalReader> JournalReader::Open(const std::string& path, uint64_t start_offset) {
  TANDEM_ASSIGN_OR_RETURN(File f, File::Open(path, O_RDONLY));
  return JournalReader(std::move(f), start_offset);
}

std::string_view JournalReader::Available() const {
  if (offset_ < buf_offset_ || offset_ > buf_offset_ + buf_len_) return {};
  size_t skip = static_cast<size_t>(offset_ - buf_offset_);
  return std::string_view(buf_.data() + skip, buf_len_ - skip);
}

Result<size_t> JournalReader::Fill(size_t n) {
  std::string_view avail = Available();
  if (avail.size() >= n) return avail.size();
  // Keep the unread bytes at the front, then read until n bytes (at least a
  // chunk) are buffered or the file ends. The buffer only ever grows.
  size_t keep = avail.size();
  if (keep > 0) std::memmove(buf_.data(), avail.data(), keep);
  buf_offset_ = offset_;
  buf_len_ = keep;
  // Reads start small and double, so short journals and followers stay cheap
  // while a long replay reaches full-size reads quickly.
  size_t want = std::max(n, chunk_);
  chunk_ = std::min(chunk_ * 2, kChunk);
  if (buf_.size() < want) buf_.resize(want);
  TANDEM_ASSIGN_OR_RETURN(size_t got, file_.PRead(buf_.data() + keep, want - keep, offset_ + keep));
  buf_len_ = keep + got;
  return buf_len_;
}

Result<JournalReader::Step> JournalReader::Next(Record* rec) {
  TANDEM_ASSIGN_OR_RETURN(size_t have, Fill(kRecordHeaderSize));
  if (have == 0) return Step::kEnd;
  ParseResult r = ParseRecord(Available(), rec);
  if (r.outcome == ParseOutcome::kIncomplete && r.size > have) {
    TANDEM_ASSIGN_OR_RETURN(have, Fill(r.size));
    r = ParseRecord(Available(), rec);
  }
  if (r.outcome == ParseOutcome::kRecord) {
    offset_ += r.size;
    return Step::kRecord;
  }
  stop_reason_ = r.why;
  stop_zero_ = r.outcome == ParseOutcome::kIncomplete && std::strcmp(r.why, "zero header") == 0;
  return Step::kStop;
}

Result<JournalReader::Step> JournalReader::Follow(Record* rec, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    TANDEM_ASSIGN_OR_RETURN(Step step, Next(rec));
    if (step == Step::kRecord || std::chrono::steady_clock::now() >= deadline) return step;
    buf_len_ = 0;  // the file has changed underneath: read it afresh
    buf_offset_ = offset_;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
}

Result<JournalReader::AfterScan> JournalReader::ScanAfter(uint64_t from) {
  AfterScan out;
  static constexpr char kMagic[4] = {'T', 'N', 'D', 'J'};
  uint64_t pos = from + 1;
  TANDEM_ASSIGN_OR_RETURN(uint64_t file_size, file_.Size());
  std::string chunk;
  for (;;) {
    if (pos >= file_size) return out;
    chunk.resize(std::min<uint64_t>(kChunk + kRecordHeaderSize, file_size - pos));
    TANDEM_ASSIGN_OR_RETURN(size_t got, file_.PRead(chunk.data(), chunk.size(), pos));
    if (got == 0) return out;
    chunk.resize(got);
    for (size_t i = got; i > 0; --i) {
      if (chunk[i - 1] != 0) {
        out.nonzero_end = std::max(out.nonzero_end, pos + i);
        break;
      }
    }
    size_t scan_limit = got > kChunk ? kChunk : got;
    for (size_t i = 0; i < scan_limit; ++i) {
      // Jump to the next possible first byte of the magic.
      const void* hit = std::memchr(chunk.data() + i, kMagic[0], scan_limit - i);
      if (hit == nullptr) break;
      i = static_cast<size_t>(static_cast<const char*>(hit) - chunk.data());
      if (std::memcmp(chunk.data() + i, kMagic, std::min<size_t>(4, got - i)) != 0) continue;
      // Candidate: parse it straight from the file (it may be longer than the chunk).
      std::string header(kRecordHeaderSize, '\0');
      TANDEM_ASSIGN_OR_RETURN(size_t hn, file_.PRead(header.data(), header.size(), pos + i));
      if (hn < kRecordHeaderSize) continue;
      uint64_t len = DecodeFixed32(header.data() + 8);
      // A record cannot extend past the end of the file.
      if (len > kMaxPayload || pos + i + kRecordHeaderSize + len > file_size) continue;
      std::string whole(kRecordHeaderSize + len, '\0');
      TANDEM_ASSIGN_OR_RETURN(size_t wn, file_.PRead(whole.data(), whole.size(), pos + i));
      Record scratch;
      if (ParseRecord(std::string_view(whole.data(), wn), &scratch).outcome ==
              ParseOutcome::kRecord &&
          (scratch.flags & kFlagBatchStart) != 0) {
        out.next_batch_start = pos + i;
        return out;
      }
    }
    if (got <= kChunk) return out;
    pos += kChunk;
  }
}

Result<JournalSummary> ScanJournal(const std::string& path, TailPolicy policy,
                                   const RecordVisitor& visit, uint64_t acknowledged_end) {
  TANDEM_ASSIGN_OR_RETURN(JournalReader reader, JournalReader::Open(path));
  JournalSummary sum;
  Record rec;
  bool have_header = false;
  for (;;) {
    uint64_t at = reader.offset();
    TANDEM_ASSIGN_OR_RETURN(JournalReader::Step step, reader.Next(&rec));
    if (step == JournalReader::Step::kRecord) {
      if (sum.rotated_to) {
        return Status::Corruption(path + ": data after the rotation record at offset " +
                                  std::to_string(at));
      }
      if (!have_header) {
        if (rec.type != RecordType::kJournalHeader) {
          return Status::Corruption(path + ": offset 0: first record is not a journal header");
        }
        TANDEM_ASSIGN_OR_RETURN(sum.journal, DecodeJournalNumber(rec.payload));
        have_header = true;
        sum.data_end = reader.offset();
        continue;
      }
      ++sum.records;
      sum.last_txn_id = std::max(sum.last_txn_id, rec.txn_id);
      sum.max_epoch = std::max(sum.max_epoch, rec.epoch);
      if (rec.type == RecordType::kRotation) {
        TANDEM_ASSIGN_OR_RETURN(uint32_t next, DecodeJournalNumber(rec.payload));
        sum.rotated_to = next;
      }
      sum.data_end = reader.offset();
      if (visit) {
        Status st = visit(rec, Position{sum.journal, sum.data_end});
        if (!st.ok()) return st.Annotate(path + " at offset " + std::to_string(at));
      }
      continue;
    }
    if (step == JournalReader::Step::kEnd) break;
    // kStop: a zero header, a short record or a bad record at `at`.
    std::string where = path + ": offset " + std::to_string(at) + ": " + reader.stop_reason();
    if (policy == TailPolicy::kStrict) return Status::Corruption(where);
    TANDEM_ASSIGN_OR_RETURN(JournalReader::AfterScan after, reader.ScanAfter(at));
    sum.torn_bytes = after.nonzero_end > at ? after.nonzero_end - at : 0;
    if (reader.stopped_at_zero_header() && sum.torn_bytes == 0 && at >= acknowledged_end) {
      break;  // the clean end of the data (no header is reported below)
    }
    if (at < acknowledged_end) {
      return Status::Corruption(where + " (bytes up to offset " + std::to_string(acknowledged_end) +
                                " were acknowledged, so this is damage to acknowledged data, not "
                                "a torn tail)");
    }
    if (after.next_batch_start && policy != TailPolicy::kCutCopyTail) {
      return Status::Corruption(where + " (a later write batch begins at offset " +
                                std::to_string(*after.next_batch_start) +
                                ", so this batch was synced: this is damage to acknowledged data, "
                                "not a torn tail)");
    }
    if (!have_header) {
      return Status::Corruption(path + ": offset 0: no valid journal header (" +
                                reader.stop_reason() + ")");
    }
    if (policy == TailPolicy::kCutTornTail || policy == TailPolicy::kCutCopyTail) {
      LogWarning() << path << ": torn tail at offset " << at << " (" << reader.stop_reason()
                   << "); cutting " << sum.torn_bytes << " bytes";
      TANDEM_ASSIGN_OR_RETURN(File f, File::Open(path, O_WRONLY));
      TANDEM_RETURN_IF_ERROR(f.Truncate(at));
    }
    break;
  }
  if (!have_header) return Status::Corruption(path + ": empty journal (no header record)");
  if (sum.data_end < acknowledged_end) {
    return Status::Corruption(path + ": data ends at offset " + std::to_string(sum.data_end) +
                              ", but bytes up to " + std::to_string(acknowledged_end) +
                              " were acknowledged");
  }
  if (policy == TailPolicy::kCutTornTail || policy == TailPolicy::kCutCopyTail) {
    TANDEM_ASSIGN_OR_RETURN(File f, File::Open(path, O_WRONLY));
    TANDEM_RETURN_IF_ERROR(f.DataSync().Annotate("making the recovered journal durable"));
  }
  return sum;
}

}  // namespace tandem
