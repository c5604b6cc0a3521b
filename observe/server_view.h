// What monitoring reads of a serving server, in either role: the Prometheus
// metrics, and readiness for /readyz and `tandem ping`.
//
// Ready means "use me for what my role is for":
//   master      not fenced, and no commit is held at the mandatory gate by a
//               standby that is not connected;
//   downstream  heard from its master within rpl.timeout.ms, journalcopy not
//               stopped by a local error, and no more than ready.lag.bytes
//               behind the master's durable position.
#pragma once

#include <string>

#include "journal/engine.h"
#include "replica/downstream_node.h"
#include "replica/hub.h"
#include "transport/dispatcher.h"
#include "transport/server.h"

namespace tandem {

struct Readiness {
  bool ready = false;
  std::string role;    // "master", "fenced", "standby", "replica", ...
  std::string reason;  // why not ready; empty when ready
};

class ServerView {
 public:
  // Both borrowed; they must outlive the view.
  static ServerView OfMaster(const Engine* engine, const ReplicationHub* hub);
  static ServerView OfDownstream(const DownstreamNode* node);

  // Connections and authentication failures too (both borrowed).
  void Watch(const Server* server, const Dispatcher* dispatcher) {
    server_ = server;
    dispatcher_ = dispatcher;
  }

  Readiness Ready() const;
  std::string Metrics() const;  // the Prometheus text format

 private:
  ServerView() = default;
  Readiness MasterReady() const;
  Readiness DownstreamReady() const;
  void MasterMetrics(class PrometheusText* out) const;
  void DownstreamMetrics(class PrometheusText* out) const;

  const Engine* engine_ = nullptr;
  const ReplicationHub* hub_ = nullptr;
  const DownstreamNode* node_ = nullptr;
  const Server* server_ = nullptr;
  const Dispatcher* dispatcher_ = nullptr;
};

}  // namespace tandem
