// Feeds arbitrary bytes to the record parser and the transaction/marker
// payload decoders, and as a whole journal file to ScanJournal.
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <string>
#include <string_view>

#include "journal/markers.h"
#include "journal/reader.h"
#include "journal/record.h"
#include "journal/transaction.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  tandem::Record rec;
  while (!in.empty()) {
    auto r = tandem::ParseRecord(in, &rec);
    if (r.outcome != tandem::ParseOutcome::kRecord) break;
    (void)tandem::DecodeTransaction(rec.payload);
    (void)tandem::DecodeChecksumMarker(rec.payload);
    (void)tandem::DecodeJournalNumber(rec.payload);
    in.remove_prefix(r.size);
  }
  (void)tandem::DecodeTransaction(std::string_view(reinterpret_cast<const char*>(data), size));

  static const std::string path = "/tmp/fuzz-journal-" + std::to_string(::getpid());
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  (void)tandem::ScanJournal(path, tandem::TailPolicy::kReportOnly, nullptr);
  return 0;
}
