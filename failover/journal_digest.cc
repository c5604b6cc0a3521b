#include "failover/journal_digest.h"

#include <fcntl.h>
#include <xxhash.h>

#include <memory>

#include "journal/coding.h"
#include "journal/file.h"

namespace tandem {

Result<std::string> JournalPrefixDigest(const std::string& path, uint64_t length) {
  TANDEM_ASSIGN_OR_RETURN(File f, File::Open(path, O_RDONLY));
  std::unique_ptr<XXH3_state_t, decltype(&XXH3_freeState)> state(XXH3_createState(),
                                                                 &XXH3_freeState);
  XXH3_64bits_reset(state.get());
  // Small enough to stay in the cache and not fault in fresh pages: the
  // master computes this while paused.
  constexpr size_t kChunk = 64 << 10;
  std::unique_ptr<char[]> buf(new char[kChunk]);
  for (uint64_t at = 0; at < length;) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(kChunk, length - at));
    TANDEM_ASSIGN_OR_RETURN(size_t n, f.PRead(buf.get(), want, at));
    if (n == 0) {
      return Status::NotFound(path + " ends at " + std::to_string(at) + ", before " +
                              std::to_string(length));
    }
    XXH3_64bits_update(state.get(), buf.get(), n);
    at += n;
  }
  uint64_t h = XXH3_64bits_digest(state.get());
  return HexEncode(reinterpret_cast<const unsigned char*>(&h), sizeof h);
}

}  // namespace tandem
