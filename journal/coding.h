// All byte encoding lives here: fixed-width little-endian integers, varints
// and length-prefixed strings. Structs are never memcpy'd to disk or wire.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace tandem {

inline void PutFixed16(std::string* dst, uint16_t v) {
  char b[2] = {static_cast<char>(v), static_cast<char>(v >> 8)};
  dst->append(b, 2);
}
inline void PutFixed32(std::string* dst, uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<char>(v >> (8 * i));
  dst->append(b, 4);
}
inline void PutFixed64(std::string* dst, uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(v >> (8 * i));
  dst->append(b, 8);
}
inline void EncodeFixed32(char* dst, uint32_t v) {
  for (int i = 0; i < 4; ++i) dst[i] = static_cast<char>(v >> (8 * i));
}
inline void EncodeFixed64(char* dst, uint64_t v) {
  for (int i = 0; i < 8; ++i) dst[i] = static_cast<char>(v >> (8 * i));
}
inline uint16_t DecodeFixed16(const char* p) {
  auto u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<uint16_t>(u[0] | (u[1] << 8));
}
inline uint32_t DecodeFixed32(const char* p) {
  auto u = reinterpret_cast<const unsigned char*>(p);
  return uint32_t{u[0]} | (uint32_t{u[1]} << 8) | (uint32_t{u[2]} << 16) | (uint32_t{u[3]} << 24);
}
inline uint64_t DecodeFixed64(const char* p) {
  return uint64_t{DecodeFixed32(p)} | (uint64_t{DecodeFixed32(p + 4)} << 32);
}

void PutVarint64(std::string* dst, uint64_t v);
// Lower-case hex of n bytes (digests, salts).
std::string HexEncode(const unsigned char* p, size_t n);
void PutLengthPrefixed(std::string* dst, std::string_view s);
// The same into a buffer with room for s.size() + 10 bytes; returns its end.
char* PutLengthPrefixed(char* dst, std::string_view s);

// A bounds-checked cursor over untrusted bytes. Every Get* returns false and
// leaves the output untouched when the input is too short or malformed, so a
// parser built on it cannot read out of bounds whatever it is fed.
class Decoder {
 public:
  explicit Decoder(std::string_view in) : in_(in) {}

  bool GetFixed16(uint16_t* v);
  bool GetFixed32(uint32_t* v);
  bool GetFixed64(uint64_t* v);
  bool GetVarint64(uint64_t* v);
  bool GetVarint32(uint32_t* v);
  // A varint length followed by that many bytes; the view points into the input.
  bool GetLengthPrefixed(std::string_view* s);
  bool GetBytes(size_t n, std::string_view* s);

  bool empty() const { return in_.empty(); }
  size_t remaining() const { return in_.size(); }

 private:
  std::string_view in_;
};

}  // namespace tandem
