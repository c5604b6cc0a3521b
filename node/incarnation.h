// One life of a served root, in the role its files give it: a master (an
// Engine, its ReplicationHub and its failover participant) or a standby or
// replica (a DownstreamNode and its StandbyFailover), with the command
// server and the metrics endpoint in front. A failover that promotes a
// standby ends its life; tandem::Node (node/node.cc) then opens the next one,
// as the master, on the same address. tandemd is a Node.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>

#include "failover/master_side.h"
#include "failover/standby_commands.h"
#include "journal/engine.h"
#include "observe/http_endpoint.h"
#include "observe/server_view.h"
#include "replica/downstream_node.h"
#include "replica/hub.h"
#include "transport/dispatcher.h"
#include "transport/server.h"

namespace tandem {

class Incarnation {
 public:
  struct Hooks {
    // Every applied transaction (master: as it becomes durable; downstream:
    // as pull -L applies it), a checkpoint's point (master) and a fence.
    std::function<void(const Transaction&, Position)> applied;
    std::function<void(uint32_t journal)> checkpoint;
    std::function<void(const ServerIdentity&)> fenced;
    // A failover promoted the root: this life ends (its server stops).
    std::function<void()> promoted;
    // Asked while a new master waits for room to finish its failover.
    std::function<bool()> stopping;
  };

  // Opens `root` and serves it on `address` (a failover interrupted by a
  // crash is finished or undone first). Unavailable when `stopping` said so
  // before it could serve.
  struct Where {
    std::string root;
    std::string address;
    std::optional<std::string> metrics_address;  // else the root's metrics.address
    int network_threads = 2;
    int blocking_threads = 8;
  };
  // `handed`: the tables of the standby life before, which a failover
  // promoted (Engine::Open checks they fit the journal).
  static Result<std::unique_ptr<Incarnation>> Open(const Where& where, Hooks hooks,
                                                   std::optional<HandedTables> handed = {});
  ~Incarnation();
  Incarnation(const Incarnation&) = delete;
  Incarnation& operator=(const Incarnation&) = delete;

  // Blocks until the server stops: Stop, `admin stop`, or a promotion.
  void Wait() { server_->Wait(); }
  // Any thread, any number of times: ends Wait.
  void Stop() { server_->Stop(); }
  // After Wait: no handler, thread or failover of this life runs on return.
  void Shutdown();
  // After Shutdown, downstream only: its tables, for the master a failover
  // made of this root (the node keeps no rows).
  std::optional<HandedTables> TakeTables();

  bool downstream() const { return node_ != nullptr; }
  Engine* engine() { return engine_.get(); }                       // master only
  ReplicationHub* hub() { return hub_.get(); }                     // master only
  DownstreamNode* node() { return node_.get(); }                   // downstream only
  StandbyFailover* standby_failover() { return failover_.get(); }  // downstream only
  const Tables& tables() const { return *tables_; }
  const std::string& server_id() const;
  Address bound() const { return server_->bound(); }
  // Where the metrics endpoint listens; empty without one.
  const std::string& metrics_address() const { return metrics_address_; }
  // Where it served from: the master's durable position, or what a
  // downstream server had applied, when it started.
  const Position& started_at() const { return started_at_; }

  bool shut_down() const { return shut_down_.load(); }
  // Held (shared) by a host's failover while it runs: Shutdown waits for it.
  std::shared_mutex& calls() { return calls_; }

 private:
  Incarnation() = default;
  Status OpenMaster(const std::string& root, const Hooks& hooks,
                    std::optional<HandedTables> handed);
  Status OpenDownstream(const std::string& root, const Hooks& hooks);

  // Destroyed in reverse: the server (whose handlers hold raw pointers to
  // everything above it) goes before what it serves.
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<ReplicationHub> hub_;
  std::unique_ptr<DownstreamNode> node_;
  const Tables* tables_ = nullptr;
  Position started_at_;
  std::unique_ptr<Dispatcher> dispatcher_;
  std::unique_ptr<FailoverParticipant> participant_;
  std::unique_ptr<StandbyFailover> failover_;
  std::unique_ptr<ServerView> view_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<HttpEndpoint> monitoring_;
  std::string metrics_address_;
  std::shared_mutex calls_;
  std::atomic<bool> shut_down_{false};
};

}  // namespace tandem
