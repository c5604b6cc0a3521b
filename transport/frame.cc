#include "transport/frame.h"

#include "journal/coding.h"

namespace tandem {

bool IsKnownMessageType(uint16_t type) { return type >= 1 && type <= 5; }

Result<FrameHeader> DecodeFrameHeader(std::string_view header, uint32_t max_body) {
  if (header.size() != kFrameHeaderSize) return Status::Corruption("short frame header");
  uint16_t magic = DecodeFixed16(header.data());
  uint16_t type = DecodeFixed16(header.data() + 2);
  uint32_t length = DecodeFixed32(header.data() + 4);
  if (magic != kFrameMagic) return Status::Corruption("bad frame magic (not a tandem peer?)");
  if (length > max_body) {
    return Status::Corruption("frame of " + std::to_string(length) + " bytes exceeds the " +
                              std::to_string(max_body) + "-byte limit");
  }
  if (!IsKnownMessageType(type)) {
    return Status::Corruption("unknown frame type " + std::to_string(type));
  }
  return FrameHeader{static_cast<MessageType>(type), length};
}

std::string EncodeFrame(MessageType type, std::string_view body) {
  std::string out;
  out.reserve(kFrameHeaderSize + body.size());
  PutFixed16(&out, kFrameMagic);
  PutFixed16(&out, static_cast<uint16_t>(type));
  PutFixed32(&out, static_cast<uint32_t>(body.size()));
  out.append(body);
  return out;
}

}  // namespace tandem
