#include "journal/markers.h"

#include <cstdio>

#include "journal/coding.h"

namespace tandem {

std::string EncodeJournalNumber(uint32_t journal) {
  std::string out;
  PutFixed32(&out, journal);
  return out;
}

Result<uint32_t> DecodeJournalNumber(std::string_view payload) {
  Decoder d(payload);
  uint32_t n;
  if (!d.GetFixed32(&n) || !d.empty()) return Status::Corruption("bad journal-number payload");
  return n;
}

std::string FormatChecksum(uint64_t checksum) {
  char buf[19];
  std::snprintf(buf, sizeof buf, "0x%016llx", static_cast<unsigned long long>(checksum));
  return buf;
}

std::string EncodeChecksumMarker(const std::vector<TableChecksum>& sums) {
  std::string out;
  PutFixed32(&out, static_cast<uint32_t>(sums.size()));
  for (const auto& s : sums) {
    PutLengthPrefixed(&out, s.table);
    PutFixed64(&out, s.rows);
    PutFixed64(&out, s.checksum);
  }
  return out;
}

Result<std::vector<TableChecksum>> DecodeChecksumMarker(std::string_view payload) {
  Decoder d(payload);
  uint32_t count;
  if (!d.GetFixed32(&count) || count > payload.size() / 17) {
    return Status::Corruption("checksum marker: bad table count");
  }
  std::vector<TableChecksum> sums;
  for (uint32_t i = 0; i < count; ++i) {
    std::string_view name;
    TableChecksum s;
    if (!d.GetLengthPrefixed(&name) || !d.GetFixed64(&s.rows) || !d.GetFixed64(&s.checksum)) {
      return Status::Corruption("checksum marker: truncated entry " + std::to_string(i));
    }
    s.table = name;
    sums.push_back(std::move(s));
  }
  if (!d.empty()) return Status::Corruption("checksum marker: trailing bytes");
  return sums;
}

std::string EncodeFailoverMarker(const FailoverMarker& m) {
  std::string out;
  PutFixed32(&out, m.new_epoch);
  PutLengthPrefixed(&out, m.old_server_id);
  PutLengthPrefixed(&out, m.new_server_id);
  return out;
}

Result<FailoverMarker> DecodeFailoverMarker(std::string_view payload) {
  Decoder d(payload);
  FailoverMarker m;
  std::string_view old_id, new_id;
  if (!d.GetFixed32(&m.new_epoch) || !d.GetLengthPrefixed(&old_id) ||
      !d.GetLengthPrefixed(&new_id) || !d.empty()) {
    return Status::Corruption("bad failover marker");
  }
  m.old_server_id = old_id;
  m.new_server_id = new_id;
  return m;
}

}  // namespace tandem
