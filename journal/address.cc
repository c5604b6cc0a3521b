#include "journal/address.h"

#include <algorithm>

#include <charconv>

namespace tandem {

Result<Address> Address::Parse(const std::string& text) {
  Address a;
  std::string rest = text;
  if (rest.rfind("ssl:", 0) == 0) {
    a.tls = true;
    rest = rest.substr(4);
  } else if (rest.rfind("tcp:", 0) == 0) {
    rest = rest.substr(4);
  }
  std::string port = rest;
  if (auto colon = rest.rfind(':'); colon != std::string::npos) {
    a.host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
    if (a.host.size() >= 2 && a.host.front() == '[' && a.host.back() == ']') {
      a.host = a.host.substr(1, a.host.size() - 2);
    }
    if (a.host.empty() || a.host == "localhost") a.host = "127.0.0.1";
  }
  unsigned value = 0;
  auto r = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || r.ec != std::errc() || r.ptr != port.data() + port.size() || value > 65535) {
    return Status::InvalidArgument("bad address '" + text + "': expected [ssl:]host:port");
  }
  a.port = static_cast<uint16_t>(value);
  return a;
}

std::string Address::ToString() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return (tls ? "ssl:" : "") + h + ":" + std::to_string(port);
}

Result<std::vector<Address>> ParseAddressList(const std::string& text) {
  std::vector<Address> out;
  for (size_t from = 0; from <= text.size();) {
    size_t comma = std::min(text.find(',', from), text.size());
    TANDEM_ASSIGN_OR_RETURN(Address a, Address::Parse(text.substr(from, comma - from)));
    out.push_back(std::move(a));
    from = comma + 1;
  }
  return out;
}

}  // namespace tandem
