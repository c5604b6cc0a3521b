#include "observe/monitoring.h"

#include "journal/log.h"
#include "observe/prometheus_text.h"

namespace tandem {

void RegisterPingCommand(const ServerView* view, Dispatcher* d) {
  d->Register("ping",
              {AccessLevel::kNone, false, /*needs_ticket=*/false,
               [view](const RequestContext&, const auto&, Reply reply) {
                 Readiness r = view->Ready();
                 reply(Response::Rows(
                     {{{"ready", r.ready ? "1" : "0"}, {"role", r.role}, {"reason", r.reason}}}));
               },
               0, "ping"});
}

HttpEndpoint::Handler MonitoringRoutes(const ServerView* view) {
  return [view](const std::string& path) -> HttpAnswer {
    if (path == "/metrics") {
      return {200, std::string(PrometheusText::kContentType), view->Metrics()};
    }
    if (path == "/healthz") return {200, "text/plain; charset=utf-8", "ok\n"};
    if (path == "/readyz") {
      Readiness r = view->Ready();
      if (r.ready) return {200, "text/plain; charset=utf-8", "ready: " + r.role + "\n"};
      return {503, "text/plain; charset=utf-8", "not ready: " + r.role + ": " + r.reason + "\n"};
    }
    return {404, "text/plain; charset=utf-8", "not found: /metrics, /healthz, /readyz\n"};
  };
}

Result<std::unique_ptr<HttpEndpoint>> StartMonitoring(const std::string& address,
                                                      const ServerView* view) {
  if (address.empty()) return std::unique_ptr<HttpEndpoint>();
  TANDEM_ASSIGN_OR_RETURN(Address parsed, Address::Parse(address));
  TANDEM_ASSIGN_OR_RETURN(auto endpoint, HttpEndpoint::Start(parsed, MonitoringRoutes(view)));
  LogInfo() << "metrics on http://" << endpoint->bound().ToString() << "/metrics";
  return endpoint;
}

}  // namespace tandem
