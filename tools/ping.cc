#include "tools/ping.h"

#include <algorithm>
#include <iostream>
#include <nlohmann/json.hpp>

#include "journal/address.h"

namespace tandem {
namespace {

constexpr std::chrono::milliseconds kPingTimeout{3000};

struct PingResult {
  int code = kPingNoAnswer;
  std::string role;
  std::string reason;
};

PingResult PingOne(const Address& address, ClientOptions options) {
  options.accept_unknown = true;  // nothing secret is sent: no login, no ticket
  options.connect_timeout = kPingTimeout;
  auto client = Client::Connect(address, options);
  if (!client.ok()) return {kPingNoAnswer, "", client.status().message()};
  auto resp = (*client)->Call({"", "", {"ping"}}, kPingTimeout);
  if (!resp.ok()) return {kPingNoAnswer, "", resp.status().message()};
  if (!resp->status.ok() || resp->rows.empty()) {
    // An older server, or one that refuses: it answered, but not "ready".
    return {kPingNotReady, "", resp->status.ok() ? "no answer row" : resp->status.message()};
  }
  const Row& row = resp->rows[0];
  bool ready = FieldOf(row, "ready") == "1";
  return {ready ? kPingReady : kPingNotReady, std::string(FieldOf(row, "role")),
          std::string(FieldOf(row, "reason"))};
}

}  // namespace

int RunPing(const std::string& address_list, const ClientOptions& options, bool json) {
  auto addresses = ParseAddressList(address_list);
  if (!addresses.ok()) {
    std::cerr << "tandem: " << addresses.status().message() << "\n";
    return 2;
  }
  int worst = kPingReady;
  for (const Address& a : *addresses) {
    PingResult r = PingOne(a, options);
    worst = std::max(worst, r.code);
    if (json) {
      nlohmann::json j = {
          {"address", a.ToString()},
          {"ready", r.code == kPingReady},
          {"answered", r.code != kPingNoAnswer},
          {"role", r.role.empty() ? nlohmann::json() : nlohmann::json(r.role)},
          {"reason", r.reason.empty() ? nlohmann::json() : nlohmann::json(r.reason)}};
      std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    } else if (r.code == kPingReady) {
      std::cout << a.ToString() << ": ready (" << r.role << ")\n";
    } else if (r.code == kPingNotReady) {
      std::cout << a.ToString() << ": not ready (" << (r.role.empty() ? "?" : r.role)
                << "): " << r.reason << "\n";
    } else {
      std::cout << a.ToString() << ": no answer: " << r.reason << "\n";
    }
  }
  return worst;
}

}  // namespace tandem
