#include "journal/coding.h"

#include <cstring>

namespace tandem {

void PutVarint64(std::string* dst, uint64_t v) {
  while (v >= 0x80) {
    dst->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  dst->push_back(static_cast<char>(v));
}

std::string HexEncode(const unsigned char* p, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kHex[p[i] >> 4]);
    out.push_back(kHex[p[i] & 15]);
  }
  return out;
}

void PutLengthPrefixed(std::string* dst, std::string_view s) {
  PutVarint64(dst, s.size());
  dst->append(s);
}

char* PutLengthPrefixed(char* dst, std::string_view s) {
  uint64_t v = s.size();
  while (v >= 0x80) {
    *dst++ = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  *dst++ = static_cast<char>(v);
  if (!s.empty()) std::memcpy(dst, s.data(), s.size());
  return dst + s.size();
}

bool Decoder::GetFixed16(uint16_t* v) {
  if (in_.size() < 2) return false;
  *v = DecodeFixed16(in_.data());
  in_.remove_prefix(2);
  return true;
}

bool Decoder::GetFixed32(uint32_t* v) {
  if (in_.size() < 4) return false;
  *v = DecodeFixed32(in_.data());
  in_.remove_prefix(4);
  return true;
}

bool Decoder::GetFixed64(uint64_t* v) {
  if (in_.size() < 8) return false;
  *v = DecodeFixed64(in_.data());
  in_.remove_prefix(8);
  return true;
}

bool Decoder::GetVarint64(uint64_t* v) {
  uint64_t result = 0;
  for (size_t i = 0; i < in_.size() && i < 10; ++i) {
    auto byte = static_cast<unsigned char>(in_[i]);
    result |= uint64_t{byte & 0x7fu} << (7 * i);
    if ((byte & 0x80) == 0) {
      in_.remove_prefix(i + 1);
      *v = result;
      return true;
    }
  }
  return false;
}

bool Decoder::GetVarint32(uint32_t* v) {
  uint64_t wide;
  Decoder probe = *this;
  if (!probe.GetVarint64(&wide) || wide > UINT32_MAX) return false;
  *this = probe;
  *v = static_cast<uint32_t>(wide);
  return true;
}

bool Decoder::GetBytes(size_t n, std::string_view* s) {
  if (in_.size() < n) return false;
  *s = in_.substr(0, n);
  in_.remove_prefix(n);
  return true;
}

bool Decoder::GetLengthPrefixed(std::string_view* s) {
  Decoder probe = *this;
  uint64_t len;
  if (!probe.GetVarint64(&len) || len > probe.remaining()) return false;
  if (!probe.GetBytes(static_cast<size_t>(len), s)) return false;
  *this = probe;
  return true;
}

}  // namespace tandem
