// How a serving server is watched: `ping` on its own port (no login, as
// pg_isready needs none), and /metrics, /healthz, /readyz over HTTP on the
// address of `tandemd --metrics` or the local setting metrics.address.
#pragma once

#include <memory>
#include <string>

#include "observe/http_endpoint.h"
#include "observe/server_view.h"
#include "transport/dispatcher.h"

namespace tandem {

// `ping`: one row {ready: 1|0, role, reason}. `view` must outlive `d`.
void RegisterPingCommand(const ServerView* view, Dispatcher* d);

// The HTTP routes over `view`, which must outlive the endpoint.
HttpEndpoint::Handler MonitoringRoutes(const ServerView* view);

// Starts the endpoint on `address` ("" for none): tandemd's --metrics, else
// metrics.address in ROOT/config.local.
Result<std::unique_ptr<HttpEndpoint>> StartMonitoring(const std::string& address,
                                                      const ServerView* view);

}  // namespace tandem
