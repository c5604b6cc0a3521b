#include "journal/record.h"

#define XXH_STATIC_LINKING_ONLY  // XXH3_state_t on the stack
#include <xxhash.h>

#include "journal/coding.h"

namespace tandem {

bool IsKnownRecordType(uint8_t type) { return type >= 1 && type <= 6; }

const char* RecordTypeName(RecordType type) {
  switch (type) {
    case RecordType::kTransaction:
      return "transaction";
    case RecordType::kRotation:
      return "rotation";
    case RecordType::kChecksumMarker:
      return "checksum-marker";
    case RecordType::kFailover:
      return "failover";
    case RecordType::kHeartbeat:
      return "heartbeat";
    case RecordType::kJournalHeader:
      return "journal-header";
  }
  return "unknown";
}

namespace {

uint64_t RecordChecksum(const char* header, std::string_view payload) {
  XXH3_state_t state;
  XXH3_64bits_reset(&state);
  XXH3_64bits_update(&state, header, kChecksumCoverage);
  XXH3_64bits_update(&state, payload.data(), payload.size());
  return XXH3_64bits_digest(&state);
}

}  // namespace

void EncodeRecord(RecordType type, uint16_t flags, Epoch epoch, uint64_t txn_id,
                  std::string_view payload, std::string* dst) {
  char h[kRecordHeaderSize];
  EncodeFixed32(h, kRecordMagic);
  h[4] = static_cast<char>(kRecordVersion);
  h[5] = static_cast<char>(type);
  h[6] = static_cast<char>(flags);
  h[7] = static_cast<char>(flags >> 8);
  EncodeFixed32(h + 8, static_cast<uint32_t>(payload.size()));
  EncodeFixed32(h + 12, epoch.value);
  EncodeFixed64(h + 16, txn_id);
  EncodeFixed64(h + 24, RecordChecksum(h, payload));
  dst->append(h, kRecordHeaderSize);
  dst->append(payload);
}

ParseResult ParseRecord(std::string_view in, Record* out) {
  if (in.size() < kRecordHeaderSize) {
    return {ParseOutcome::kIncomplete, kRecordHeaderSize, "short header"};
  }
  const char* h = in.data();
  uint32_t magic = DecodeFixed32(h);
  if (magic == 0) return {ParseOutcome::kIncomplete, kRecordHeaderSize, "zero header"};
  if (magic != kRecordMagic) return {ParseOutcome::kBad, 0, "bad magic"};
  if (static_cast<uint8_t>(h[4]) != kRecordVersion) {
    return {ParseOutcome::kBad, 0, "unsupported version"};
  }
  uint32_t len = DecodeFixed32(h + 8);
  if (len > kMaxPayload) return {ParseOutcome::kBad, 0, "payload length over limit"};
  size_t total = kRecordHeaderSize + len;
  if (in.size() < total) return {ParseOutcome::kIncomplete, total, "record extends past end"};
  std::string_view payload = in.substr(kRecordHeaderSize, len);
  if (RecordChecksum(h, payload) != DecodeFixed64(h + 24)) {
    return {ParseOutcome::kBad, 0, "checksum mismatch"};
  }
  uint8_t type = static_cast<uint8_t>(h[5]);
  uint16_t flags = DecodeFixed16(h + 6);
  if (!IsKnownRecordType(type) && (flags & kFlagSafeToIgnore) == 0) {
    return {ParseOutcome::kBad, 0, "unknown record type"};
  }
  out->type = static_cast<RecordType>(type);
  out->flags = flags;
  out->epoch = Epoch{DecodeFixed32(h + 12)};
  out->txn_id = DecodeFixed64(h + 16);
  out->payload.assign(payload);
  return {ParseOutcome::kRecord, total, ""};
}

}  // namespace tandem
