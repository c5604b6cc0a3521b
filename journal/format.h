// Constants shared by the journal writer and reader. The layout they describe
// is journal/FORMAT.md; change both together.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tandem {

inline constexpr uint32_t kRecordMagic = 0x4A444E54;  // "TNDJ"
inline constexpr uint8_t kRecordVersion = 1;
inline constexpr size_t kRecordHeaderSize = 32;
inline constexpr size_t kChecksumCoverage = 24;  // header bytes the checksum covers
inline constexpr uint32_t kMaxPayload = 64u << 20;
inline constexpr uint16_t kFlagSafeToIgnore = 1;
// The first record of a write batch: the writer had made every byte before
// it durable before writing it (journal/FORMAT.md, "Reading and damage").
inline constexpr uint16_t kFlagBatchStart = 2;

enum class RecordType : uint8_t {
  kTransaction = 1,
  kRotation = 2,
  kChecksumMarker = 3,
  kFailover = 4,
  kHeartbeat = 5,
  kJournalHeader = 6,
};

bool IsKnownRecordType(uint8_t type);
const char* RecordTypeName(RecordType type);

}  // namespace tandem
