// tandem::Node: a root served through one Incarnation after another. A
// supervisor thread waits for the current one to end and decides what comes
// next: nothing (Stop, `admin stop`), the master (a failover promoted the
// root) or a standby (Rejoin).
#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "failover/rejoin.h"
#include "journal/log.h"
#include "journal/server_identity.h"
#include "node/api_types.h"
#include "node/incarnation.h"
#include "replica/local_config.h"
#include "replica/server_spec.h"

namespace tandem {
namespace {

// Exceptions never cross the API: what escapes Tandem's code is a bug.
template <typename F>
auto Guarded(F&& f, decltype(f()) on_exception) -> decltype(f()) {
  try {
    return f();
  } catch (const std::exception& e) {
    LogError() << "internal error in the embedding API: " << e.what();
  } catch (...) {
    LogError() << "internal error in the embedding API";
  }
  return on_exception;
}

// The host's callbacks: what they throw is logged, never passed back into
// Tandem's threads.
template <typename F>
void CallHost(const char* which, F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    LogError() << "the host's " << which << " threw: " << e.what();
  } catch (...) {
    LogError() << "the host's " << which << " threw";
  }
}

Outcome InternalError() { return Outcome(ErrorCode::kInternal, "internal error (see the log)"); }

// A new root gets its identity before its first open; an existing one keeps
// what it has.
Status PrepareRoot(const NodeOptions& o) {
  RootLayout layout(o.root);
  if (o.server_id.empty()) {
    if (o.master_address.empty()) return Status::Ok();
    return Status::InvalidArgument("master_address needs a server_id (a new standby's own)");
  }
  if (auto identity = ReadServerIdentity(layout); identity.ok() && !identity->id.empty()) {
    return Status::Ok();
  }
  if (o.server_id.find_first_of(" \t\n#") != std::string::npos) {
    return Status::InvalidArgument("bad server id '" + o.server_id + "'");
  }
  if (!o.master_address.empty()) {
    TANDEM_RETURN_IF_ERROR(Address::Parse(o.master_address).status());
  }
  TANDEM_RETURN_IF_ERROR(layout.EnsureDirs());
  // The target first: a root with an identity and no target is a master, so
  // a failure between the two must not leave a would-be standby as one.
  if (!o.master_address.empty()) {
    TANDEM_RETURN_IF_ERROR(SetLocalConfig(layout, "target", o.master_address));
  }
  return WriteServerIdentity(layout, {.id = o.server_id});
}

}  // namespace

struct Node::Impl {
  NodeOptions options;

  mutable std::mutex mu;
  std::condition_variable changed;
  std::shared_ptr<Incarnation> current;  // guarded by mu; null between lives
  uint64_t generation = 0;               // guarded by mu: +1 per life
  bool stop_requested = false;           // guarded by mu
  bool promoted = false;                 // guarded by mu
  std::optional<std::string> rejoin_to;  // guarded by mu
  Outcome rejoin_outcome;                // guarded by mu
  bool stopped = false;                  // guarded by mu
  Outcome exit;                          // guarded by mu: why it stopped

  std::mutex role_mu;                    // one role change at a time, in order
  uint64_t announced = 0;                // guarded by role_mu: the life last announced
  Role announced_role = Role::kStopped;  // guarded by role_mu
  // Role changes reach the host on a thread of their own, in order: no
  // thread of the node waits for the host's callback, and the callback may
  // call the node (Rejoin after a fence, Status).
  std::mutex announce_mu;
  std::condition_variable announce_cv;
  std::deque<RoleChange> announcements;  // guarded by announce_mu
  bool announcing_done = false;          // guarded by announce_mu: kStopped is queued
  std::mutex join_mu;                    // Stop from two threads joins once
  std::thread supervisor;
  std::thread announcer;

  std::shared_ptr<Incarnation> Current() const {
    std::lock_guard lock(mu);
    return current;
  }
  Result<std::shared_ptr<Incarnation>> OpenLife(const std::string& address,
                                                std::optional<HandedTables> handed = {});
  // Tells the host what the current life is, unless that was said already.
  void AnnounceCurrent();
  void AnnounceStopped();
  void Announce(RoleChange change);
  void RunAnnouncer();
  void Supervise();
  void SuperviseLives();
  // Lets go of a life that has ended: waits until no call of the host still
  // holds it, then destroys it here (it holds the root's lock and port).
  // With `tables`, takes its tables first (a promotion hands them on).
  void Release(std::shared_ptr<Incarnation> life, std::optional<HandedTables>* tables = nullptr);
};

Result<std::shared_ptr<Incarnation>> Node::Impl::OpenLife(const std::string& address,
                                                          std::optional<HandedTables> handed) {
  uint64_t next;
  {
    std::lock_guard lock(mu);
    next = generation + 1;
  }
  Incarnation::Hooks hooks;
  if (options.on_applied) {
    hooks.applied = [this](const Transaction& txn, Position end) {
      CallHost("on_applied", [&] { options.on_applied(ToPublic(txn, end)); });
    };
  }
  if (options.on_checkpoint) {
    hooks.checkpoint = [this](uint32_t journal) {
      CallHost("on_checkpoint", [&] { options.on_checkpoint(journal); });
    };
  }
  // A fence while the life is still opening is part of its first
  // announcement (it is not current yet).
  hooks.fenced = [this](const ServerIdentity&) { AnnounceCurrent(); };
  hooks.promoted = [this] {
    std::lock_guard lock(mu);
    promoted = true;
  };
  hooks.stopping = [this] {
    {
      std::lock_guard lock(mu);
      if (stop_requested) return true;
    }
    bool give_up = false;
    if (options.give_up) CallHost("give_up", [&] { give_up = options.give_up(); });
    return give_up;
  };
  TANDEM_ASSIGN_OR_RETURN(std::unique_ptr<Incarnation> life,
                          Incarnation::Open({options.root, address, options.metrics_address,
                                             std::clamp(options.network_threads, 1, 64),
                                             std::clamp(options.blocking_threads, 1, 256)},
                                            std::move(hooks), std::move(handed)));
  std::shared_ptr<Incarnation> shared = std::move(life);
  std::lock_guard lock(mu);
  current = shared;
  generation = next;
  rejoin_to.reset();                   // a request was for the life before
  if (stop_requested) shared->Stop();  // Stop found no life to stop
  return shared;
}

namespace {

RoleChange Describe(Incarnation* life) {
  RoleChange change;
  change.address = life->bound().ToString();
  change.metrics_address = life->metrics_address();
  if (DownstreamNode* node = life->node()) {
    change.role = Role::kDownstream;
    change.at = ToPublic(node->applied());
    change.epoch = node->highest_epoch().value;
    return change;
  }
  Engine* engine = life->engine();
  change.role = engine->fence() ? Role::kFencedMaster : Role::kMaster;
  change.at = ToPublic(engine->durable());
  change.epoch = engine->epoch().value;
  if (change.role == Role::kFencedMaster) {
    change.detail = ToOutcome(engine->AcceptingCommits()).message();
  }
  return change;
}

}  // namespace

void Node::Impl::AnnounceCurrent() {
  std::shared_ptr<Incarnation> life;
  uint64_t life_generation;
  {
    std::lock_guard lock(mu);
    life = current;
    life_generation = generation;
  }
  if (!life) return;
  std::lock_guard lock(role_mu);
  RoleChange change = Describe(life.get());
  life.reset();  // a handler's or housekeeping's thread must never be the last holder
  if (life_generation < announced) return;
  if (life_generation == announced && change.role == announced_role) return;
  announced = life_generation;
  announced_role = change.role;
  Announce(std::move(change));
}

void Node::Impl::AnnounceStopped() {
  {
    std::lock_guard lock(role_mu);
    announced_role = Role::kStopped;
    Announce(RoleChange{});
  }
  std::lock_guard lock(announce_mu);
  announcing_done = true;
  announce_cv.notify_all();
}

void Node::Impl::Announce(RoleChange change) {
  std::lock_guard lock(announce_mu);
  announcements.push_back(std::move(change));
  announce_cv.notify_all();
}

void Node::Impl::RunAnnouncer() {
  for (;;) {
    RoleChange change;
    {
      std::unique_lock lock(announce_mu);
      announce_cv.wait(lock, [this] { return !announcements.empty() || announcing_done; });
      if (announcements.empty()) return;  // done, and everything was said
      change = std::move(announcements.front());
      announcements.pop_front();
    }
    if (options.on_role_change) {
      CallHost("on_role_change", [&] { options.on_role_change(change); });
    }
  }
}

void Node::Impl::Release(std::shared_ptr<Incarnation> life, std::optional<HandedTables>* tables) {
  {
    std::lock_guard lock(mu);
    current.reset();
  }
  // A host's Get or Commit may still hold it; those end quickly once it is
  // shut down (commits fail as the server stops). Bounded all the same.
  for (int i = 0; i < 2000 && life.use_count() > 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (life.use_count() > 1) LogWarning() << "a call still holds the root after 10 s";
  // Only once no host call reads them: taken, they are gone from this life.
  if (tables && life.use_count() == 1) *tables = life->TakeTables();
  life.reset();
}

void Node::Impl::Supervise() {
  try {
    SuperviseLives();
    return;
  } catch (const std::exception& e) {
    LogError() << "internal error in the node's supervisor: " << e.what();
  } catch (...) {
    LogError() << "internal error in the node's supervisor";
  }
  std::shared_ptr<Incarnation> life = Current();
  if (life) {
    life->Stop();
    life->Shutdown();
    Release(std::move(life));
  }
  {
    std::lock_guard lock(mu);
    stopped = true;
    exit = InternalError();
  }
  AnnounceStopped();
  changed.notify_all();
}

void Node::Impl::SuperviseLives() {
  std::shared_ptr<Incarnation> life = Current();
  AnnounceCurrent();
  for (;;) {
    life->Wait();
    std::string address = life->bound().ToString();  // a new life keeps the address
    // Decided once the life has shut down: a failover still running (past
    // its point of no return, say) finishes first and may promote the root.
    life->Shutdown();
    bool stop, promote;
    std::optional<std::string> rejoin;
    {
      std::lock_guard lock(mu);
      stop = stop_requested;
      // Stopped while a failover promoted the root, it stops: the next
      // open serves the root as the master.
      promote = promoted && !stop;
      promoted = false;
      rejoin = stop ? std::nullopt : rejoin_to;
      rejoin_to.reset();
    }
    // The master opens with what the standby applied, not a replay of it.
    std::optional<HandedTables> handed;
    Release(std::move(life), promote ? &handed : nullptr);
    // (Inside Node, Status, Rejoin and Failover name its own members.)
    tandem::Status next;  // why there is no next life, if there is none
    if (rejoin) {
      auto rejoined = tandem::Rejoin(options.root, *rejoin);
      std::lock_guard lock(mu);
      rejoin_outcome = ToOutcome(rejoined.status());
      if (!rejoined.ok()) LogError() << "rejoin failed: " << rejoined.status().message();
    }
    if (promote || rejoin) {
      if (promote) LogWarning() << "failover: serving again on " << address << ", as the master";
      auto opened = OpenLife(address, std::move(handed));
      if (opened.ok()) {
        life = std::move(opened).value();
      } else {
        next = opened.status();
        std::lock_guard lock(mu);
        if (!stop_requested) LogError() << "cannot start: " << next.message();
      }
    }
    if (life) {
      AnnounceCurrent();
      changed.notify_all();
      continue;
    }
    {
      std::lock_guard lock(mu);
      stopped = true;
      // Stopped while a new master waited for room: it finishes next time.
      exit = next.code() == Code::kUnavailable && stop_requested ? Outcome() : ToOutcome(next);
    }
    AnnounceStopped();
    changed.notify_all();
    return;
  }
}

Node::Node(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Node::~Node() { Stop(); }

Expected<std::unique_ptr<Node>> Node::Open(NodeOptions options) {
  return Guarded(
      [&]() -> Expected<std::unique_ptr<Node>> {
        if (tandem::Status st = PrepareRoot(options); !st.ok()) return {ToOutcome(st), nullptr};
        auto impl = std::make_unique<Impl>();
        impl->options = std::move(options);
        auto opened = impl->OpenLife(impl->options.address);
        if (!opened.ok()) return {ToOutcome(opened.status()), nullptr};
        Impl* raw = impl.get();
        raw->announcer = std::thread([raw] { raw->RunAnnouncer(); });
        raw->supervisor = std::thread([raw] { raw->Supervise(); });
        return {Outcome(), std::unique_ptr<Node>(new Node(std::move(impl)))};
      },
      {InternalError(), nullptr});
}

void Node::Stop() {
  if (!impl_) return;
  std::shared_ptr<Incarnation> life;
  {
    std::lock_guard lock(impl_->mu);
    impl_->stop_requested = true;
    life = impl_->current;
  }
  if (life) life->Stop();
  life.reset();  // the supervisor waits for every holder to let go of it
  // From a callback it only asks: the thread cannot wait for itself.
  auto self = std::this_thread::get_id();
  if (self == impl_->supervisor.get_id() || self == impl_->announcer.get_id()) return;
  std::lock_guard lock(impl_->join_mu);
  if (impl_->supervisor.joinable()) impl_->supervisor.join();
  if (impl_->announcer.joinable()) impl_->announcer.join();
}

Outcome Node::Wait() {
  std::unique_lock lock(impl_->mu);
  impl_->changed.wait(lock, [this] { return impl_->stopped; });
  return impl_->exit;
}

NodeStatus Node::Status() const {
  return Guarded(
      [&] {
        NodeStatus out;
        std::shared_ptr<Incarnation> life = impl_->Current();
        if (!life) return out;
        out.server_id = life->server_id();
        out.address = life->bound().ToString();
        if (auto spec = LoadServerSpec(life->tables(), out.server_id)) {
          out.server_type = std::string(ServerTypeName(spec->type));
        }
        if (DownstreamNode* node = life->node()) {
          CopierStatus up = node->upstream_status();
          out.role = Role::kDownstream;
          out.epoch = node->highest_epoch().value;
          out.durable = ToPublic(up.flushed);
          out.applied = ToPublic(node->applied());
          out.upstream = up.upstream;
          if (!up.connected) {
            out.health = Outcome(ErrorCode::kUnavailable,
                                 "not connected to its master at " + up.upstream +
                                     (up.last_error.empty() ? "" : ": " + up.last_error));
          }
        } else {
          Engine* engine = life->engine();
          out.role = engine->fence() ? Role::kFencedMaster : Role::kMaster;
          out.epoch = engine->epoch().value;
          out.durable = out.applied = ToPublic(engine->durable());
          out.health = ToOutcome(engine->AcceptingCommits());
        }
        return out;
      },
      NodeStatus{});
}

namespace {

Status NotTheMaster(Incarnation* life) {
  if (!life) return Status::Unavailable("the node is stopping or changing role");
  return Status::FailedPrecondition(
      "this node is a standby or replica, not the master; "
      "its master is at " +
      life->node()->upstream_status().upstream);
}

}  // namespace

Expected<JournalPosition> Node::Commit(const std::vector<Write>& writes) {
  return Guarded(
      [&]() -> Expected<JournalPosition> {
        std::shared_ptr<Incarnation> life = impl_->Current();
        if (!life || life->downstream()) return {ToOutcome(NotTheMaster(life.get())), {}};
        auto pos = life->engine()->Commit(ToTransaction(writes));
        if (!pos.ok()) return {ToOutcome(pos.status()), {}};
        return {Outcome(), ToPublic(*pos)};
      },
      {InternalError(), {}});
}

std::optional<std::string> Node::Get(std::string_view table, std::string_view key) const {
  return Guarded(
      [&]() -> std::optional<std::string> {
        std::shared_ptr<Incarnation> life = impl_->Current();
        if (!life) return std::nullopt;
        return life->tables().Get(table, key);
      },
      std::nullopt);
}

std::vector<std::pair<std::string, std::string>> Node::Scan(std::string_view table,
                                                            std::string_view prefix,
                                                            size_t limit) const {
  using Rows = std::vector<std::pair<std::string, std::string>>;
  return Guarded(
      [&]() -> Rows {
        std::shared_ptr<Incarnation> life = impl_->Current();
        if (!life) return {};
        return life->tables().Scan(table, prefix, limit);
      },
      Rows{});
}

Outcome Node::DefineServer(const ServerDefinition& server) {
  return Guarded(
      [&] {
        std::shared_ptr<Incarnation> life = impl_->Current();
        if (!life || life->downstream()) return ToOutcome(NotTheMaster(life.get()));
        ServerSpec spec;
        spec.id = server.id;
        auto type = ParseServerType(server.type);
        if (server.id.empty() || !type) {
          return Outcome(
              ErrorCode::kInvalidArgument,
              "a server needs an id and a type (standby or replica), not '" + server.type + "'");
        }
        spec.type = *type;
        spec.mandatory = server.mandatory;
        spec.address = server.address;
        spec.user = server.user;
        spec.replicating_from = life->server_id();
        // As `server -i`: not gated on the mandatory standbys (this may be
        // what takes a dead one's flag away).
        auto pos = life->engine()->Commit({{ServerSpecOp(spec)}}, Engine::Wait::kLocal);
        if (pos.ok() && life->hub()) life->hub()->Recompute();
        return ToOutcome(pos.status());
      },
      InternalError());
}

Expected<uint32_t> Node::Checkpoint() {
  return Guarded(
      [&]() -> Expected<uint32_t> {
        std::shared_ptr<Incarnation> life = impl_->Current();
        if (!life || life->downstream()) return {ToOutcome(NotTheMaster(life.get())), 0};
        auto info = life->engine()->Checkpoint();
        if (!info.ok()) return {ToOutcome(info.status()), 0};
        return {Outcome(), info->journal};
      },
      {InternalError(), 0});
}

FailoverResult Node::Failover(const FailoverRequest& request,
                              std::function<void(const FailoverMessage&)> progress) {
  return Guarded(
      [&] {
        FailoverResult result;
        std::shared_ptr<Incarnation> life = impl_->Current();
        if (!life || !life->downstream()) {
          result.outcome = Outcome(ErrorCode::kFailedPrecondition,
                                   "only a standby fails over; this node is not one");
          return result;
        }
        FailoverOptions o;
        o.execute = request.execute;
        o.require_master = request.require_master;
        o.ignore_master = request.ignore_master;
        o.force = request.force;
        o.master_id = request.master_id;
        o.quiesce_secs = request.quiesce_secs;
        o.verify_secs = request.verify_secs;
        o.message = request.message;
        if (o.require_master && (o.ignore_master || !o.master_id.empty())) {
          result.outcome = Outcome(ErrorCode::kInvalidArgument,
                                   "require_master cannot be combined with ignore_master "
                                   "or master_id");
          return result;
        }
        uint64_t before;
        {
          std::lock_guard lock(impl_->mu);
          before = impl_->generation;
        }
        std::optional<FailoverReport> report;
        {
          // Shutdown waits for a failover that holds this; one that began
          // shutting down first is not run on.
          std::shared_lock running(life->calls());
          if (life->shut_down()) {
            result.outcome =
                Outcome(ErrorCode::kUnavailable, "the node is stopping or changing role");
            return result;
          }
          report = life->standby_failover()->Run(o, [&](const FailoverLine& line) {
            if (progress) CallHost("failover progress", [&] { progress({line.kind, line.text}); });
          });
        }
        life.reset();
        if (!report) {
          result.outcome = Outcome(ErrorCode::kFailedPrecondition,
                                   "another failover is already running on this node");
          return result;
        }
        for (const FailoverLine& line : report->lines)
          result.lines.push_back({line.kind, line.text});
        if (!report->ok) {
          result.outcome =
              Outcome(ErrorCode::kFailedPrecondition,
                      report->lines.empty() ? "failover failed" : report->lines.back().text);
          return result;
        }
        if (!request.execute) return result;
        // Promoted: wait for the next life, as the master.
        std::unique_lock lock(impl_->mu);
        impl_->changed.wait(lock, [&] { return impl_->stopped || impl_->generation > before; });
        if (impl_->stopped) {
          result.outcome = impl_->exit.ok()
                               ? Outcome(ErrorCode::kUnavailable,
                                         "the root was promoted, but the node stopped before "
                                         "serving it; it serves as the master when opened again")
                               : impl_->exit;
          return result;
        }
        if (impl_->current && impl_->current->engine()) {
          result.epoch = impl_->current->engine()->epoch().value;
        }
        return result;
      },
      FailoverResult{InternalError(), {}, 0});
}

Outcome Node::Rejoin(const std::string& master_address) {
  return Guarded(
      [&] {
        std::shared_ptr<Incarnation> life = impl_->Current();
        if (!life || life->downstream() || !life->engine()->fence()) {
          return Outcome(ErrorCode::kFailedPrecondition,
                         "only a fenced (failed-over) master rejoins as a standby");
        }
        if (auto addr = Address::Parse(master_address); !addr.ok()) return ToOutcome(addr.status());
        uint64_t before;
        {
          std::lock_guard lock(impl_->mu);
          if (impl_->stop_requested || impl_->current != life || impl_->rejoin_to) {
            return Outcome(ErrorCode::kUnavailable, "the node is stopping or changing role");
          }
          before = impl_->generation;
          impl_->rejoin_to = master_address;
          impl_->rejoin_outcome = Outcome();
        }
        life->Stop();
        life.reset();
        std::unique_lock lock(impl_->mu);
        impl_->changed.wait(lock, [&] { return impl_->stopped || impl_->generation > before; });
        if (!impl_->rejoin_outcome.ok()) return impl_->rejoin_outcome;
        if (impl_->stopped)
          return impl_->exit.ok() ? Outcome(ErrorCode::kUnavailable, "stopped") : impl_->exit;
        return Outcome();
      },
      InternalError());
}

}  // namespace tandem
