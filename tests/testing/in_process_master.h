// A master in the test's own process: an Engine, its ReplicationHub and a
// Server on a loopback port, for unit tests of downstream code (journalcopy,
// pull -L) that need a real upstream but want their own root on a
// FaultFs.
#pragma once

#include <memory>
#include <string>

#include "journal/address.h"
#include "journal/engine.h"
#include "replica/hub.h"
#include "transport/dispatcher.h"
#include "transport/server.h"

namespace tandem::testing {

class InProcessMaster {
 public:
  // A new master root with ServerID master1; journal.fsync as given.
  static std::unique_ptr<InProcessMaster> Start(const std::string& root, bool fsync = false);
  ~InProcessMaster();

  Engine& engine() { return *engine_; }
  ReplicationHub& hub() { return *hub_; }
  Address address() const { return server_->bound(); }
  // Commits a server spec replicating from master1.
  void AddSpec(const std::string& id, const std::string& type, bool mandatory);
  Position Put(const std::string& key, const std::string& value);
  // The downstream server as the hub sees it (default-constructed if unknown).
  DownstreamStatus Downstream(const std::string& id) const;

 private:
  InProcessMaster() = default;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<ReplicationHub> hub_;
  std::unique_ptr<Dispatcher> dispatcher_;
  std::unique_ptr<Server> server_;
};

}  // namespace tandem::testing
