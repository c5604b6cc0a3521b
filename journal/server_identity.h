// ROOT/server.id: the server's name on its first line and, after this server
// was failed over from, a fence on the second ("fenced: <why>"). A fenced root
// never opens as a master again; `tandemd -r ROOT -xD` or rejoining as a
// standby clears the fence.
#pragma once

#include <string>

#include "journal/root_layout.h"
#include "journal/status.h"

namespace tandem {

struct ServerIdentity {
  std::string id;     // empty when the file is missing
  std::string fence;  // why this root may not serve as master; empty if it may
};

Result<ServerIdentity> ReadServerIdentity(const RootLayout& layout);
// Writes the file durably; an empty `fence` clears it.
Status WriteServerIdentity(const RootLayout& layout, const ServerIdentity& identity);

}  // namespace tandem
