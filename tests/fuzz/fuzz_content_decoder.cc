// Arbitrary bytes as a stored archive file arriving from upstream (pull -u,
// print): plain or gzip, fed in pieces of varying size. The decoder must
// end in a verdict, never a crash, and the verdict must not depend on how
// the bytes were split.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "journal/archive_store.h"

namespace {

tandem::Status Decode(std::string_view stored, bool compressed, size_t piece,
                      std::string* content) {
  // The digest of "tandem\n", so valid input can also pass.
  tandem::ContentDecoder decoder({"f8aeaf96047e2c0d7cdba6c3f9fabffc", 7}, compressed);
  auto sink = [content](std::string_view data) {
    content->append(data);
    return tandem::Status::Ok();
  };
  for (size_t at = 0; at < stored.size(); at += piece) {
    if (auto st = decoder.Write(stored.substr(at, piece), sink); !st.ok()) return st;
  }
  return decoder.Finish();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  bool compressed = data[0] & 1;
  size_t piece = 1 + data[1];
  std::string_view stored(reinterpret_cast<const char*>(data) + 2, size - 2);
  std::string whole, pieces;
  bool a = Decode(stored, compressed, stored.size() + 1, &whole).ok();
  bool b = Decode(stored, compressed, piece, &pieces).ok();
  if (a != b || (a && whole != pieces)) std::abort();
  return 0;
}
