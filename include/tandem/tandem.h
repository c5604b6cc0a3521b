// Tandem's embedding API: replication, journal and failover inside your own
// server. Link with Tandem::tandem (CMake: find_package(Tandem)) or
// `pkg-config --libs tandem`. docs/embedding.md walks through it.
//
// One tandem::Node serves one root directory, in the role its files give it:
// the master, or a standby or replica of the master it follows. It serves
// Tandem's protocol (clients, `tandem` and other servers) on its own threads,
// so a standby of it may be a tandemd or another embedded Node, and
// `tandem -p ADDRESS failover -y` works on it as on tandemd.
//
// Threads and blocking. Every Node call is safe from any thread and blocks
// only where it says so. Callbacks run on Tandem's threads, never inside a
// Node call of yours:
//   on_role_change runs on a thread of its own, one change after another;
//     it may call the node (Status, Rejoin after a fence, even Stop, which
//     from there only asks and returns at once), never destroy it.
//   on_applied and on_checkpoint run on the thread that applies
//     transactions: every commit waits while they run, so they must be quick
//     and must not call Commit, Checkpoint, Failover, Rejoin or Stop.
//
// Errors are values: every call that can fail returns an Outcome (or an
// Expected<T> that holds one). No exception leaves this API.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#define TANDEM_API __attribute__((visibility("default")))

namespace tandem {

// The library's version, "MAJOR.MINOR.PATCH" (the same as `tandemd --version`).
TANDEM_API const char* Version();

// Why something failed. The codes are those of the protocol and of
// `tandem --json` ({"error": {"code": ...}}); decide on the code, never on
// the message, which is for people.
enum class ErrorCode {
  kOk = 0,
  kNotFound,
  kCorruption,       // bytes on disk or on the wire fail validation
  kInvalidArgument,  // the call asked for something malformed
  kIOError,          // the OS refused a read, write or sync
  kNoSpace,          // the disk is full: retry once there is room
  kPermissionDenied,
  kUnauthenticated,
  kUnavailable,         // a peer is unreachable, or the node is stopping
  kFailedPrecondition,  // not in a state that allows this (e.g. not the master)
  kAlreadyExists,
  kTimeout,
  kFenced,       // this node was failed over from: the message names the new master
  kDiverged,     // a peer's journal differs from ours
  kNeedsReseed,  // a peer must start again from a checkpoint
  kInternal,     // a bug in Tandem
  // Durable here, but the mandatory standbys did not confirm it in time
  // (commit.wait=mandatory): NOT acknowledged; after a failover it may or
  // may not be there.
  kUnconfirmed,
};

class TANDEM_API Outcome {
 public:
  Outcome() = default;  // success
  Outcome(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}
  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  // The code's stable lower-case name: "ok", "fenced", "unconfirmed", ...
  std::string_view code_name() const;
  const std::string& message() const { return message_; }

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_ = {};
};

// A value, or why there is none.
template <typename T>
struct Expected {
  Outcome outcome = {};
  T value{};
  bool ok() const { return outcome.ok(); }
};

// A place in the journal history: the byte offset in journal number
// `journal`. Positions order transactions the same way on every server.
struct JournalPosition {
  uint32_t journal = 0;
  uint64_t offset = 0;
  friend bool operator==(const JournalPosition&, const JournalPosition&) = default;
  friend auto operator<=>(const JournalPosition&, const JournalPosition&) = default;
};

// One change of a transaction: a row put or deleted.
struct Write {
  enum class Kind { kPut, kDelete };
  Kind kind = Kind::kPut;
  std::string table{}, key{}, value{};
  static Write Put(std::string table, std::string key, std::string value) {
    return {Kind::kPut, std::move(table), std::move(key), std::move(value)};
  }
  static Write Delete(std::string table, std::string key) {
    return {Kind::kDelete, std::move(table), std::move(key), {}};
  }
};

// A transaction as it is applied, in journal order on every server. Tables
// whose names Tandem uses itself (server, config, users, ...) come through
// too: filter on the table.
struct AppliedTransaction {
  JournalPosition end = {};  // where it ends: the next one starts here
  std::vector<Write> writes = {};
};

enum class Role {
  kMaster,        // takes commits
  kFencedMaster,  // was failed over from: refuses commits, names the new master
  kDownstream,    // a standby or replica: follows a master, read-only
  kStopped,
};
TANDEM_API std::string_view RoleName(Role role);  // "master", "fenced", ...

struct RoleChange {
  Role role = Role::kStopped;
  std::string address = {};          // where it serves now (HOST:PORT)
  std::string metrics_address = {};  // where /metrics is served; empty without
  JournalPosition at = {};           // durable (master) or applied (downstream) position
  uint64_t epoch = 0;
  std::string detail = {};  // for kFencedMaster: why, and where the master is
};

// What a failover does: the options of `tandem failover` (docs/operations.md).
struct FailoverRequest {
  bool execute = false;         // -y; false: check only, and say what it would do
  bool require_master = false;  // -m: planned only
  bool ignore_master = false;   // -i: unplanned even if the master answers
  bool force = false;           // --force: a non-mandatory standby without the master
  std::string master_id = {};   // -s
  int quiesce_secs = 60;        // -w
  int verify_secs = 300;        // -v
  std::string message = {};     // told to the old master's clients
};

struct FailoverMessage {
  std::string kind = {};  // info | warning | error | step | result
  std::string text = {};
};

struct FailoverResult {
  Outcome outcome = {};  // ok: checked (preview), or this node is now the master
  std::vector<FailoverMessage> lines = {};
  uint64_t epoch = 0;  // the new master's epoch (executed)
};

struct NodeStatus {
  Role role = Role::kStopped;
  std::string server_id = {};
  std::string server_type = {};  // from its spec: standby, replica, ...; empty without one
  std::string address = {};
  uint64_t epoch = 0;
  JournalPosition durable = {};  // master: journalled and synced; downstream: journalcopied
  JournalPosition applied = {};  // in the tables
  // Master: whether a commit would be taken now, else why not.
  // Downstream: whether it hears its master, else why not.
  Outcome health = {};
  std::string upstream = {};  // downstream: the server it replicates from
};

// A server a master knows of (`tandem server -i`): its standbys and replicas.
struct ServerDefinition {
  std::string id = {};
  std::string type = "standby";  // standby | replica
  bool mandatory = false;        // a mandatory standby confirms every commit
  std::string address = {};      // where it serves, if it is to be reachable
  std::string user = {};         // the service user it replicates as (secured masters)
};

struct NodeOptions {
  std::string root = {};                // the directory this node owns (created if new)
  std::string address = "127.0.0.1:0";  // [ssl:]HOST:PORT; port 0 picks one
  // The metrics endpoint (HOST:PORT); nullopt: the root's metrics.address
  // setting; "": none.
  std::optional<std::string> metrics_address = {};
  // A new root only (ignored once it has a ServerID): its ServerID, and for a
  // standby or replica the master's address.
  std::string server_id = {};
  std::string master_address = {};
  // The node's own threads: network (sessions; Tandem's protocol is
  // asynchronous) and blocking (commands that wait: commits, failover).
  // Why not the host's io_context: Asio is header-only, and its services
  // do not cross a shared library that keeps its own symbols to itself.
  int network_threads = 2;
  int blocking_threads = 8;
  // Open blocks while a new master waits for disk room to finish its
  // failover (it tries again every second); true from here gives up, and
  // Open fails with kUnavailable (the next Open finishes it).
  std::function<bool()> give_up = {};

  // Once when the node first serves, then at every change (a failover made
  // it the master, it was fenced, Rejoin made it a standby, it stopped), one
  // at a time and in order, on a thread of its own (so a little after the
  // change: Status() is the state now).
  std::function<void(const RoleChange&)> on_role_change = {};
  // Every transaction applied from now on, in journal order, with its
  // position: on the master as it becomes durable, on a standby or replica
  // as it is applied. Keep the host's own state in step here.
  std::function<void(const AppliedTransaction&)> on_applied = {};
  // Master: the point a checkpoint captures, between the last transaction of
  // journal N-1 and the first of N (every on_applied before it is in it):
  // take the host's own snapshot here (copy-on-write, or a quick copy). When
  // the root's files cannot rebuild that state (no checkpoint verifies and
  // the journals before it are gone), the engine rotates again and copies
  // its tables there, and this runs again for the later journal: keep the
  // snapshot of the journal Checkpoint() returns.
  std::function<void(uint32_t journal)> on_checkpoint = {};
};

class TANDEM_API Node {
 public:
  // Opens the root and serves it; blocks for recovery. Fails with what is
  // wrong (a bad address, a locked or damaged root, a port in use).
  static Expected<std::unique_ptr<Node>> Open(NodeOptions options);
  // Stops it (see Stop).
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Stops serving and lets go of the root; blocks until every thread of the
  // node has finished (a failover in flight rolls back first). Idempotent.
  void Stop();
  // Blocks until the node stops: Stop(), `tandem admin stop`, or a failure
  // to serve again after a failover (the Outcome says which).
  Outcome Wait();

  NodeStatus Status() const;

  // Master only: commits the writes as one transaction. Blocks until it is
  // durable here and, with commit.wait=mandatory, on every mandatory
  // standby; kUnconfirmed if they did not confirm in time, kFenced or
  // kFailedPrecondition on a node that is not the master.
  Expected<JournalPosition> Commit(const std::vector<Write>& writes);
  // Reads, in any role: a downstream node reads what it has applied.
  std::optional<std::string> Get(std::string_view table, std::string_view key) const;
  std::vector<std::pair<std::string, std::string>> Scan(std::string_view table,
                                                        std::string_view prefix = {},
                                                        size_t limit = 1000) const;
  // Master only: saves the spec of a standby or replica (as `tandem server -i`).
  Outcome DefineServer(const ServerDefinition& server);
  // Master only: rotates the journal and writes a checkpoint; blocks.
  Expected<uint32_t> Checkpoint();

  // Standby only: `tandem failover`, with the same checks, steps and lines,
  // each passed to `progress` as it happens. With execute, blocks until this
  // node serves as the master (on_role_change says so too) or the failover
  // failed and rolled back.
  FailoverResult Failover(const FailoverRequest& request,
                          std::function<void(const FailoverMessage&)> progress = nullptr);
  // A fenced master only: becomes a standby of the master at `master_address`
  // (`tandemd --rejoin`); blocks until it serves as one.
  Outcome Rejoin(const std::string& master_address);

 private:
  struct Impl;
  explicit Node(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Log lines of every node in this process go to `sink` instead of stderr
// (the level, the ServerID, the message). Runs on the logging thread, one
// line at a time; it must not call into Tandem. Null restores stderr.
enum class LogSeverity { kDebug, kInfo, kWarning, kError };
TANDEM_API void SetLogSink(
    std::function<void(LogSeverity, std::string_view server_id, std::string_view message)> sink);

}  // namespace tandem
