// Server addresses in the p4 style: [ssl:]host:port, or a bare port meaning
// localhost.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "journal/status.h"

namespace tandem {

struct Address {
  bool tls = false;
  std::string host = "127.0.0.1";
  uint16_t port = 0;

  static Result<Address> Parse(const std::string& text);
  std::string ToString() const;  // canonical form, also the key in trust and ticket files
};

// "A,B,C": the servers that may be master (a downstream `target`, `tandem -p`).
Result<std::vector<Address>> ParseAddressList(const std::string& text);

}  // namespace tandem
