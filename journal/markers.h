// Payloads of the non-transaction record types (journal/FORMAT.md).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "journal/status.h"

namespace tandem {

std::string EncodeJournalNumber(uint32_t journal);  // journal-header and rotation
Result<uint32_t> DecodeJournalNumber(std::string_view payload);

struct TableChecksum {
  std::string table;
  uint64_t rows = 0;
  uint64_t checksum = 0;
  bool operator==(const TableChecksum&) const = default;
};

// "0x" and 16 hex digits, as journaldbchecksums prints a table checksum.
std::string FormatChecksum(uint64_t checksum);

std::string EncodeChecksumMarker(const std::vector<TableChecksum>& sums);
Result<std::vector<TableChecksum>> DecodeChecksumMarker(std::string_view payload);

// The record that opens a new epoch: written by a standby that has just
// become master, at the consistency point it took over from.
struct FailoverMarker {
  uint32_t new_epoch = 0;
  std::string old_server_id;  // the standby's own ServerID before failover
  std::string new_server_id;  // the ServerID it carries now (the old master's)
};
std::string EncodeFailoverMarker(const FailoverMarker& m);
Result<FailoverMarker> DecodeFailoverMarker(std::string_view payload);

}  // namespace tandem
