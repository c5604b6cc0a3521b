// Arbitrary bytes as a frame header, as request/response/journal-stream
// bodies, and as a server spec.
#include <cstdint>
#include <string>
#include <string_view>

#include "journal/address.h"
#include "replica/server_spec.h"
#include "replica/stream_messages.h"
#include "transport/frame.h"
#include "transport/message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  if (size >= tandem::kFrameHeaderSize) {
    (void)tandem::DecodeFrameHeader(in.substr(0, tandem::kFrameHeaderSize), tandem::kMaxFrameBody);
  }
  (void)tandem::DecodeRequest(in);
  (void)tandem::DecodeResponse(in);
  (void)tandem::Address::Parse(std::string(in));
  (void)tandem::DecodeJournalData(in);
  (void)tandem::DecodeJournalAck(in);
  (void)tandem::ServerSpec::Parse(in);
  return 0;
}
