// The systemd notification protocol (sd_notify(3)): under a unit with
// Type=notify, tandemd says READY=1 once it serves, STOPPING=1 when it stops,
// and a STATUS= line with its role. A datagram to $NOTIFY_SOCKET; without
// that variable (not under systemd) nothing is sent.
#pragma once

#include <string_view>

namespace tandem {

// Sends `state` ("READY=1\nSTATUS=...") if the service manager asked for it.
// Failures are ignored: being watched must never stop a server.
void NotifyServiceManager(std::string_view state);

}  // namespace tandem
