#include "node/incarnation.h"

#include <chrono>
#include <thread>

#include "failover/promote.h"
#include "journal/log.h"
#include "observe/monitoring.h"
#include "replica/local_config.h"
#include "replica/master_commands.h"
#include "transport/archive_commands.h"
#include "transport/engine_commands.h"
#include "transport/submit_command.h"

namespace tandem {

Result<std::unique_ptr<Incarnation>> Incarnation::Open(const Where& where, Hooks hooks,
                                                       std::optional<HandedTables> handed) {
  const std::string& root = where.root;
  const std::string& address = where.address;
  TANDEM_ASSIGN_OR_RETURN(Address listen, Address::Parse(address));
  // A failover that a crash interrupted is finished or undone before the
  // role is decided.
  TANDEM_RETURN_IF_ERROR(SettleInterruptedFailover(RootLayout(root), address));
  // Uploads and pull -u transfers a crash cut short are never resumed.
  ArchiveStore(root + "/archive").RemoveTempFiles();
  auto self = std::unique_ptr<Incarnation>(new Incarnation());
  // A root with a local `target` is a standby or replica; otherwise a master.
  bool downstream = ReadLocalConfig(RootLayout(root)).count("target") > 0;
  TANDEM_RETURN_IF_ERROR(downstream ? self->OpenDownstream(root, hooks)
                                    : self->OpenMaster(root, hooks, std::move(handed)));
  const std::string& id = self->server_id();
  SetLogServerId(id);
  ApplyLogLevel(*self->tables_, id);

  ServerOptions options;
  options.address = listen;
  options.ssl_dir = root + "/ssl";
  options.network_threads = where.network_threads;
  options.blocking_threads = where.blocking_threads;
  options.max_connections =
      static_cast<int>(SettingNumber(*self->tables_, id, "server.maxconnections"));
  options.idle_timeout =
      std::chrono::seconds(SettingNumber(*self->tables_, id, "server.idle.timeout"));
  options.frame_timeout =
      std::chrono::seconds(SettingNumber(*self->tables_, id, "server.frame.timeout"));
  self->server_ = std::make_unique<Server>(options, self->dispatcher_.get());
  Server* server = self->server_.get();
  auto bound = [server] { return server->bound().ToString(); };
  auto stop = [server] { server->Stop(); };
  if (self->node_) {
    self->node_->RegisterCommands(self->dispatcher_.get(), bound, stop);
    self->failover_ = std::make_unique<StandbyFailover>(self->node_.get(), bound,
                                                        [server, promoted = hooks.promoted] {
                                                          if (promoted) promoted();
                                                          server->Stop();
                                                        });
    self->failover_->Register(self->dispatcher_.get());
    self->view_ = std::make_unique<ServerView>(ServerView::OfDownstream(self->node_.get()));
  } else {
    Engine* engine = self->engine_.get();
    RegisterEngineCommands(engine, self->dispatcher_.get(), {bound, stop});
    RegisterMasterReplicationCommands(engine, self->hub_.get(), self->dispatcher_.get());
    RegisterArchiveReadCommands(&engine->tables(), root, self->dispatcher_.get());
    RegisterSubmitCommand(engine, self->dispatcher_.get());
    self->participant_ = std::make_unique<FailoverParticipant>(engine, self->hub_.get(), bound);
    self->participant_->Register(self->dispatcher_.get());
    self->view_ = std::make_unique<ServerView>(ServerView::OfMaster(engine, self->hub_.get()));
    if (auto fence = engine->fence()) {
      LogWarning() << "serving fenced: " << fence->fence
                   << (fence->new_master.empty() ? ""
                                                 : "; the master is now at " + fence->new_master);
    }
    // Before any client can write: a new master's history opens with its
    // failover record. Past the point of no return there is no other master
    // to go back to, so a full disk is waited out here, not given up on.
    for (;;) {
      Status st = FinishFailover(engine, address);
      if (st.ok()) break;
      if (st.code() != Code::kNoSpace) return st.Annotate("finishing the failover");
      LogError() << "cannot finish the failover yet: " << st.message()
                 << "; not serving until there is room, trying again every second";
      for (int i = 0; i < 10; ++i) {
        if (hooks.stopping && hooks.stopping()) {
          LogInfo() << "stopped before the failover finished; it finishes at the next start";
          return Status::Unavailable("stopped before the failover finished");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
    // A master that was away while a standby took over learns it here,
    // before its first write.
    self->participant_->ProbeForNewerMaster();
    self->participant_->Start();
    self->started_at_ = engine->durable();
  }
  self->view_->Watch(server, self->dispatcher_.get());
  RegisterPingCommand(self->view_.get(), self->dispatcher_.get());
  // Being watched must never stop a server (a just-promoted master least of
  // all): without its endpoint it serves, and says so.
  std::string metrics =
      where.metrics_address.value_or(ReadLocalConfig(RootLayout(root))["metrics.address"]);
  if (auto started = StartMonitoring(metrics, self->view_.get()); !started.ok()) {
    LogError() << "serving without /metrics: " << started.status().message();
  } else {
    self->monitoring_ = std::move(started).value();
    if (self->monitoring_) self->metrics_address_ = self->monitoring_->bound().ToString();
  }
  TANDEM_RETURN_IF_ERROR(server->Start());
  if (self->node_) {
    self->node_->Start();
    self->node_->StartArchive();
    self->failover_->StartAutoWatch();
  }
  if (self->dispatcher_->Unsecured()) {
    LogWarning() << "no users exist: serving loopback clients only, without authentication";
  }
  LogInfo() << "listening on " << server->bound().ToString();
  return self;
}

Status Incarnation::OpenDownstream(const std::string& root, const Hooks& hooks) {
  TANDEM_ASSIGN_OR_RETURN(node_, DownstreamNode::Open(root));
  if (hooks.applied) node_->SetApplyObserver(hooks.applied);
  tables_ = &node_->tables();
  started_at_ = node_->applied();
  dispatcher_ = std::make_unique<Dispatcher>(tables_, root);
  return Status::Ok();
}

Status Incarnation::OpenMaster(const std::string& root, const Hooks& hooks,
                               std::optional<HandedTables> handed) {
  TANDEM_ASSIGN_OR_RETURN(engine_, Engine::Open({root, std::nullopt}, std::move(handed)));
  const RecoveryReport& rec = engine_->recovery_report();
  if (rec.handed_over) {
    LogInfo() << "recovered " << root
              << " from the tables the standby had applied: " << rec.records_replayed
              << " records of the live journal verified, not replayed, " << rec.torn_bytes_cut
              << " torn bytes cut";
  } else {
    LogInfo() << "recovered " << root << ": checkpoint "
              << (rec.checkpoint ? std::to_string(*rec.checkpoint) : "none") << ", "
              << rec.records_replayed << " records from " << rec.journals_replayed
              << " journal(s), " << rec.torn_bytes_cut << " torn bytes cut";
  }
  if (hooks.applied) engine_->SetApplyObserver(hooks.applied);
  if (hooks.checkpoint) engine_->SetCheckpointObserver(hooks.checkpoint);
  if (hooks.fenced) engine_->SetFenceObserver(hooks.fenced);
  hub_ = std::make_unique<ReplicationHub>(engine_.get());
  tables_ = &engine_->tables();
  started_at_ = engine_->durable();
  dispatcher_ = std::make_unique<Dispatcher>(tables_, root);
  return Status::Ok();
}

const std::string& Incarnation::server_id() const {
  return node_ ? node_->server_id() : engine_->server_id();
}

void Incarnation::Shutdown() {
  if (shut_down_.exchange(true)) return;
  monitoring_.reset();                       // not "ready" while it stops
  if (failover_) failover_->StopWatching();  // a failover still running rolls back
  server_->Shutdown();                       // no handler runs from here on
  std::unique_lock no_calls(calls_);         // nor a host's failover
  if (node_) node_->Stop();
  participant_.reset();  // its housekeeping may fence and probe: not once closed
  if (engine_) engine_->Close();
  // A host's commit still waiting for the mandatory standbys must not hold
  // the root (and the next life) until it times out.
  if (hub_) hub_->FailWaiting(ReplicationHub::Stopping());
  LogInfo() << "stopped";
}

std::optional<HandedTables> Incarnation::TakeTables() {
  if (!node_ || !shut_down_) return std::nullopt;
  return node_->TakeTables();
}

Incarnation::~Incarnation() {
  if (server_) {
    Stop();
    Shutdown();
  }
}

}  // namespace tandem
