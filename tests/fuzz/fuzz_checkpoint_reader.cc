// Arbitrary bytes as a decompressed checkpoint stream, and as a gzip file.
#include <cstdint>
#include <string_view>

#include "journal/checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  (void)tandem::ParseCheckpoint(in);
  auto raw = tandem::Gunzip(in, 1 << 24);
  if (raw.ok()) (void)tandem::ParseCheckpoint(*raw);
  return 0;
}
