// Length-prefixed frames, the unit of everything sent over a connection.
//
//   +-------+------+--------+---------+
//   | magic | type | length |  body   |
//   |  u16  | u16  |  u32   | length  |
//   +-------+------+--------+---------+
//    0       2      4        8
//
// magic is 0x4E54 ("TN"). length is checked against the hard maximum before
// any byte of the body is read, so a garbage or hostile length costs nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "journal/status.h"

namespace tandem {

inline constexpr uint16_t kFrameMagic = 0x4E54;
inline constexpr size_t kFrameHeaderSize = 8;
inline constexpr uint32_t kMaxFrameBody = 80u << 20;  // one journal record plus headroom

enum class MessageType : uint16_t {
  kRequest = 1,
  kResponse = 2,
  kJournalData = 3,  // upstream -> downstream: journal bytes and positions
  kJournalAck = 4,   // downstream -> upstream: flushed and applied positions
  kContent = 5,      // client -> server: a chunk of a file being submitted
};

bool IsKnownMessageType(uint16_t type);

struct FrameHeader {
  MessageType type;
  uint32_t length;
};

// Validates magic, type and length (against max_body).
Result<FrameHeader> DecodeFrameHeader(std::string_view header, uint32_t max_body);
std::string EncodeFrame(MessageType type, std::string_view body);

}  // namespace tandem
