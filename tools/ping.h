// tandem ping: is the server ready for its role? Like pg_isready, an answer
// a script or a load balancer can act on without logging in.
#pragma once

#include <string>

#include "transport/client.h"

namespace tandem {

inline constexpr int kPingReady = 0;
inline constexpr int kPingNotReady = 1;  // it answered: the reason is printed
inline constexpr int kPingNoAnswer = 2;  // nothing answered in time

// Asks every server of `address_list` ("A[,B...]"), one line each (or one
// JSON object each); returns the worst of their codes.
int RunPing(const std::string& address_list, const ClientOptions& options, bool json);

}  // namespace tandem
