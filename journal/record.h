// Encoding and parsing of single journal records (journal/FORMAT.md).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "journal/format.h"
#include "journal/position.h"

namespace tandem {

struct Record {
  RecordType type = RecordType::kTransaction;
  uint16_t flags = 0;
  Epoch epoch;
  uint64_t txn_id = 0;
  std::string payload;
};

// Appends the encoded record to *dst.
void EncodeRecord(RecordType type, uint16_t flags, Epoch epoch, uint64_t txn_id,
                  std::string_view payload, std::string* dst);

enum class ParseOutcome {
  kRecord,      // a whole valid record
  kIncomplete,  // too few bytes, or a zero header: the data may end here
  kBad,         // bytes present but invalid
};

struct ParseResult {
  ParseOutcome outcome;
  size_t size = 0;       // bytes consumed when kRecord; bytes needed when kIncomplete
  const char* why = "";  // reason when not kRecord
};

// Parses the record at the start of `in`. Never reads outside `in`.
ParseResult ParseRecord(std::string_view in, Record* out);

}  // namespace tandem
