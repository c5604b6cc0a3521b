// `hello`: what a server says it is, asked without logging in (no password
// goes to whoever answers) and without pinning its key. Enough to find the
// master of the newest epoch among candidates, never enough to trust a
// server with data: streaming from it still logs in as the service user.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "journal/address.h"
#include "journal/status.h"

namespace tandem {

struct HelloAnswer {
  std::string server_id;
  // standard (a master serving writes), fenced (an old master), or a
  // downstream role: standby, forwarding-standby, replica, downstream.
  std::string role;
  uint32_t epoch = 0;  // a master's own; a downstream's highest held
  std::string address;
  // A downstream's: the server it streams from, and how long ago it last
  // heard from it (-1: never, or not a downstream).
  std::string upstream;
  std::string upstream_role;  // as the upstream answered hello; empty if unknown
  int64_t heard_ms_ago = -1;
  std::string new_master;  // a fenced master's word for where the master went
  bool is_master() const { return role == "standard"; }
};

// Bounded: connect, TLS and the answer share `timeout`, each getting at
// least a quarter of it (transport/deadline.h), so a silent peer costs
// about 1.5 × `timeout` at most; each read of the answer has that limit of
// its own, so a peer trickling bytes can stretch it. A server asks
// from its net.source (`source`; empty: any local address), as its streams
// do, so that what it hears is what the link it would use can reach.
Result<HelloAnswer> SayHello(const Address& address, std::chrono::milliseconds timeout,
                             const std::string& source);

}  // namespace tandem
