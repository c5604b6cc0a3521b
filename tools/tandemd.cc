// tandemd: the Tandem server, in the style of p4d.
//
//   tandemd -r ROOT [-p [ssl:]HOST:PORT] [-L LOG] [--metrics HOST:PORT]   serve
//   tandemd -r ROOT -cset [SERVERID#]NAME=VALUE        set a configurable offline
//   tandemd -r ROOT -jc                                 checkpoint offline
//   tandemd -r ROOT -jr CKP [JOURNAL...]                restore into an empty root
//   tandemd -r ROOT -xv                                 validate journals and checkpoints
//   tandemd -r ROOT -xD                                 clear the fence of a failed-over master
//   tandemd -r ROOT --add-user NAME --level LEVEL       add a user (password on stdin)
//   tandemd --settings                                  every setting (docs/settings.md)
//   tandemd -r ROOT --id NAME                           set this server's ServerID
//   tandemd -r ROOT --rejoin MASTER                     failed-over master -> standby of MASTER
#include <malloc.h>
#include <signal.h>

#include <atomic>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "failover/master_side.h"
#include "failover/promote.h"
#include "failover/rejoin.h"
#include "failover/standby_commands.h"
#include "journal/engine.h"
#include "journal/log.h"
#include "observe/monitoring.h"
#include "replica/downstream_node.h"
#include "replica/hub.h"
#include "replica/local_config.h"
#include "replica/master_commands.h"
#include "tools/offline.h"
#include "tools/service_notify.h"
#include "transport/archive_commands.h"
#include "transport/engine_commands.h"
#include "transport/server.h"
#include "transport/submit_command.h"

namespace tandem {
namespace {

constexpr const char* kUsage =
    "usage: tandemd -r ROOT [-p [ssl:]HOST:PORT] [-L LOG] [--metrics HOST:PORT]\n"
    "       tandemd -r ROOT -cset [SERVERID#]NAME=VALUE\n"
    "       tandemd -r ROOT -jc | -xv | -xD\n"
    "       tandemd -r ROOT -jr CHECKPOINT [JOURNAL...]\n"
    "       tandemd -r ROOT --add-user NAME --level read|write|service|super  (password on stdin)\n"
    "       tandemd -r ROOT --id SERVERID\n"
    "       tandemd -r ROOT --rejoin MASTER   (a failed-over master becomes its standby)\n"
    "       tandemd --settings   (every setting, as docs/settings.md)\n"
    "       tandemd --version\n";

struct Args {
  std::string root, address = "127.0.0.1:1666", log;
  std::optional<std::string> metrics;  // else metrics.address in config.local
  std::string mode = "serve";
  std::vector<std::string> operands;
  std::string level;
};

bool Parse(int argc, char** argv, Args* a, std::string* error) {
  std::vector<std::string> v(argv + 1, argv + argc);
  for (size_t i = 0; i < v.size(); ++i) {
    auto value = [&](std::string* out) {
      if (i + 1 >= v.size()) {
        *error = v[i] + " needs a value";
        return false;
      }
      *out = v[++i];
      return true;
    };
    const std::string& f = v[i];
    if (f == "-r") {
      if (!value(&a->root)) return false;
    } else if (f == "-p") {
      if (!value(&a->address)) return false;
    } else if (f == "-L") {
      if (!value(&a->log)) return false;
    } else if (f == "--metrics") {
      if (!value(&a->metrics.emplace())) return false;
    } else if (f == "--level") {
      if (!value(&a->level)) return false;
    } else if (f == "-cset" || f == "--add-user" || f == "--id" || f == "--rejoin") {
      a->mode = f;
      std::string operand;
      if (!value(&operand)) return false;
      a->operands.push_back(operand);
    } else if (f == "-jc" || f == "-xv" || f == "-xD") {
      a->mode = f;
    } else if (f == "-jr") {
      a->mode = f;
      while (i + 1 < v.size() && v[i + 1][0] != '-') a->operands.push_back(v[++i]);
    } else if (f == "-h" || f == "--help") {
      *error = "";
      return false;
    } else {
      *error = "unknown option '" + f + "'";
      return false;
    }
  }
  if (a->root.empty()) {
    if (const char* env = std::getenv("TANDEMROOT")) a->root = env;
  }
  if (a->root.empty()) {
    *error = "no root: give -r ROOT (or set TANDEMROOT)";
    return false;
  }
  return true;
}

std::string ReadPasswordFromStdin() {
  std::string pw;
  std::getline(std::cin, pw);
  if (!pw.empty() && pw.back() == '\r') pw.pop_back();
  return pw;
}

// Fails start-up: logs and prints why.
int CannotStart(const Status& st) {
  LogError() << "cannot start: " << st.message();
  std::cerr << "tandemd: cannot start: " << st.message() << "\n";
  return 1;
}

// Serves until stopped. Returns true when the server must come straight back
// as a master on `*address`: a failover has just promoted its root.
bool ServeOnce(const Args& args, const sigset_t& signal_set, std::string* address_text,
               int* exit_code) {
  auto address = Address::Parse(*address_text);
  if (!address.ok()) {
    std::cerr << "tandemd: " << address.status().message() << "\n";
    *exit_code = 2;
    return false;
  }
  *exit_code = 1;
  // A failover that a crash interrupted is finished or undone before the
  // role is decided.
  if (Status st = SettleInterruptedFailover(RootLayout(args.root), *address_text); !st.ok()) {
    CannotStart(st);
    return false;
  }
  // Uploads and pull -u transfers a crash cut short are never resumed.
  ArchiveStore(args.root + "/archive").RemoveTempFiles();
  // A root with a local `target` is a standby or replica; otherwise a master.
  bool downstream = ReadLocalConfig(RootLayout(args.root)).count("target") > 0;
  std::unique_ptr<Engine> engine;
  std::unique_ptr<ReplicationHub> hub;
  std::unique_ptr<DownstreamNode> node;
  const Tables* tables = nullptr;
  std::string at;
  if (downstream) {
    auto opened = DownstreamNode::Open(args.root);
    if (!opened.ok()) return CannotStart(opened.status()), false;
    node = std::move(opened).value();
    tables = &node->tables();
    at = node->applied().ToString();
  } else {
    auto opened = Engine::Open({args.root, std::nullopt});
    if (!opened.ok()) return CannotStart(opened.status()), false;
    engine = std::move(opened).value();
    const RecoveryReport& rec = engine->recovery_report();
    LogInfo() << "recovered " << args.root << ": checkpoint "
              << (rec.checkpoint ? std::to_string(*rec.checkpoint) : "none") << ", "
              << rec.records_replayed << " records from " << rec.journals_replayed
              << " journal(s), " << rec.torn_bytes_cut << " torn bytes cut";
    hub = std::make_unique<ReplicationHub>(engine.get());
    tables = &engine->tables();
    at = engine->durable().ToString();
  }

  Dispatcher dispatcher(tables, args.root);
  SetLogServerId(node ? node->server_id() : engine->server_id());
  ApplyLogLevel(*tables, node ? node->server_id() : engine->server_id());
  ServerOptions options;
  options.address = *address;
  options.ssl_dir = args.root + "/ssl";
  const std::string& id = node ? node->server_id() : engine->server_id();
  options.max_connections = static_cast<int>(SettingNumber(*tables, id, "server.maxconnections"));
  options.idle_timeout = std::chrono::seconds(SettingNumber(*tables, id, "server.idle.timeout"));
  options.frame_timeout = std::chrono::seconds(SettingNumber(*tables, id, "server.frame.timeout"));
  // Declared before the server, so destroyed after it: the server joins its
  // threads (handlers hold raw pointers to these) before they go.
  std::unique_ptr<FailoverParticipant> participant;
  std::unique_ptr<StandbyFailover> standby_failover;
  // What /metrics, /readyz and `ping` read: it outlives the server (whose
  // handlers use it) and the endpoint, and borrows the engine or node.
  ServerView view =
      node ? ServerView::OfDownstream(node.get()) : ServerView::OfMaster(engine.get(), hub.get());
  Server server(options, &dispatcher);
  auto bound = [&server] { return server.bound().ToString(); };
  auto stop = [&server] { server.Stop(); };
  bool promoted = false;
  if (node) {
    node->RegisterCommands(&dispatcher, bound, stop);
    standby_failover = std::make_unique<StandbyFailover>(node.get(), bound, [&server, &promoted] {
      promoted = true;
      server.Stop();
    });
    standby_failover->Register(&dispatcher);
  } else {
    RegisterEngineCommands(engine.get(), &dispatcher, {bound, stop});
    RegisterMasterReplicationCommands(engine.get(), hub.get(), &dispatcher);
    RegisterArchiveReadCommands(&engine->tables(), args.root, &dispatcher);
    RegisterSubmitCommand(engine.get(), &dispatcher);
    participant = std::make_unique<FailoverParticipant>(engine.get(), hub.get(), bound);
    if (auto fence = engine->fence()) {
      LogWarning() << "serving fenced: " << fence->fence
                   << (fence->new_master.empty() ? ""
                                                 : "; the master is now at " + fence->new_master);
    }
    participant->Register(&dispatcher);
    // Before any client can write: a new master's history opens with its
    // failover record. Past the point of no return there is no other master
    // to go back to, so a full disk is waited out here, not given up on.
    for (;;) {
      Status st = FinishFailover(engine.get(), *address_text);
      if (st.ok()) break;
      if (st.code() != Code::kNoSpace) {
        return CannotStart(st.Annotate("finishing the failover")), false;
      }
      LogError() << "cannot finish the failover yet: " << st.message()
                 << "; not serving until there is room, trying again every second";
      timespec second{1, 0};
      if (int sig = sigtimedwait(&signal_set, nullptr, &second); sig == SIGHUP) {
        (void)ReopenLogFile();
      } else if (sig > 0) {
        LogInfo() << "stopped before the failover finished; it finishes at the next start";
        *exit_code = 0;
        return false;
      }
    }
    // A master that was away while a standby took over learns it here,
    // before its first write.
    participant->ProbeForNewerMaster();
    at = engine->durable().ToString();
  }
  view.Watch(&server, &dispatcher);
  RegisterPingCommand(&view, &dispatcher);
  std::string metrics_address =
      args.metrics.value_or(ReadLocalConfig(RootLayout(args.root))["metrics.address"]);
  // Being watched must never stop a server (a just-promoted master least of
  // all): without its endpoint it serves, and says so.
  std::unique_ptr<HttpEndpoint> monitoring;
  if (auto started = StartMonitoring(metrics_address, &view); !started.ok()) {
    LogError() << "serving without /metrics: " << started.status().message();
  } else if ((monitoring = std::move(started).value())) {
    std::cout << "tandemd: metrics on http://" << monitoring->bound().ToString() << "/metrics"
              << std::endl;
  }
  if (Status st = server.Start(); !st.ok()) return CannotStart(st), false;
  if (node) {
    node->Start();
    node->StartArchive();
    standby_failover->StartAutoWatch();
  }
  if (dispatcher.Unsecured()) {
    LogWarning() << "no users exist: serving loopback clients only, without authentication";
  }
  // The signal thread is joined before the server is destroyed: a detached one
  // could still be inside Stop() when Wait() returns.
  std::atomic<bool> exiting{false};
  std::atomic<bool> signalled{false};
  std::thread signals([&server, &exiting, &signalled, signal_set] {
    int sig = 0;
    for (;;) {
      sigwait(&signal_set, &sig);
      if (exiting.load()) return;
      if (sig != SIGHUP) break;
      // logrotate moved the file: go on in a new one at the same path.
      Status st = ReopenLogFile();
      LogInfo() << "SIGHUP: log reopened" << (st.ok() ? "" : " failed: " + st.message());
    }
    LogInfo() << "signal " << sig << ": stopping";
    signalled = true;
    server.Stop();
  });
  std::cout << "tandemd: serving " << args.root << " on " << server.bound().ToString() << " at "
            << at
            << (node              ? " (downstream)"
                : engine->fence() ? " (fenced)"
                                  : "")
            << std::endl;
  LogInfo() << "listening on " << server.bound().ToString();
  // A promoted server says READY again, with its new role.
  NotifyServiceManager("READY=1\nSTATUS=serving " + server.bound().ToString() + " as " +
                       (node              ? "a standby or replica"
                        : engine->fence() ? "a fenced master"
                                          : "the master"));
  server.Wait();
  monitoring.reset();  // not "ready" while it stops
  NotifyServiceManager(promoted && !signalled.load() ? "STATUS=failover: restarting as the master"
                                                     : "STOPPING=1");
  exiting.store(true);
  pthread_kill(signals.native_handle(), SIGTERM);
  signals.join();
  *address_text = server.bound().ToString();  // a promoted server keeps its address
  if (standby_failover) standby_failover->StopWatching();
  server.Shutdown();  // no handler runs from here on
  if (node) node->Stop();
  if (engine) engine->Close();
  LogInfo() << "stopped";
  *exit_code = 0;
  // Stopped by a signal, it stops, even if a failover promoted the root on
  // the way out: the next start serves it as the master.
  return promoted && !signalled;
}

int Serve(const Args& args) {
  // Signals are taken by one thread with sigwait, so no handler runs inside
  // library code. SIGXFSZ is ignored so a file-size limit shows up as EFBIG.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);  // reopens the -L file
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  LogTerminations();
  signal(SIGPIPE, SIG_IGN);
  signal(SIGXFSZ, SIG_IGN);

  if (!args.log.empty()) {
    if (Status st = SetLogFile(args.log); !st.ok()) {
      std::cerr << "tandemd: " << st.message() << "\n";
      return 1;
    }
  }
  std::string address = args.address;
  int code = 0;
  while (ServeOnce(args, set, &address, &code)) {
    LogWarning() << "failover: serving again on " << address << ", as the master";
  }
  return code;
}

int Main(int argc, char** argv) {
  if (argc == 2 && std::string_view(argv[1]) == "--settings") {
    std::cout << SettingsMarkdown();
    return 0;
  }
  if (argc == 2 && std::string_view(argv[1]) == "--version") {
    std::cout << "tandemd " << TANDEM_VERSION << "\n";
    return 0;
  }
  Args args;
  std::string error;
  if (!Parse(argc, argv, &args, &error)) {
    if (!error.empty()) std::cerr << "tandemd: " << error << "\n";
    std::cerr << kUsage;
    return 2;
  }
  if (args.mode == "serve") return Serve(args);
  SetLogQuiet(true);  // offline modes print their own results
  Status st;
  if (args.mode == "-cset") {
    st = OfflineSetConfig(args.root, args.operands[0]);
  } else if (args.mode == "-jc") {
    st = OfflineCheckpoint(args.root);
  } else if (args.mode == "-jr") {
    if (args.operands.empty()) {
      std::cerr << "tandemd: -jr needs a checkpoint\n" << kUsage;
      return 2;
    }
    st = OfflineRestore(args.root, args.operands[0],
                        std::vector<std::string>(args.operands.begin() + 1, args.operands.end()));
  } else if (args.mode == "-xv") {
    st = OfflineValidate(args.root);
  } else if (args.mode == "-xD") {
    st = OfflineClearFence(args.root);
  } else if (args.mode == "--rejoin") {
    auto rejoined = Rejoin(args.root, args.operands[0]);
    st = rejoined.status();
    if (rejoined.ok()) {
      std::cout << args.root << " is now standby '" << rejoined->server_id << "' of "
                << args.operands[0] << ", from " << rejoined->point.ToString() << "\n";
      if (rejoined->orig_master_bytes > 0) {
        std::cout << rejoined->orig_master_bytes << " bytes of journal past the failover point "
                  << "were never on the new master: kept in " << args.root
                  << "/journal.orig.master, not replayed\n";
      }
    }
  } else if (args.mode == "--add-user") {
    if (args.level.empty()) {
      std::cerr << "tandemd: --add-user needs --level\n";
      return 2;
    }
    st = OfflineAddUser(args.root, args.operands[0], args.level, ReadPasswordFromStdin());
  } else if (args.mode == "--id") {
    st = OfflineSetServerId(args.root, args.operands[0]);
  }
  if (!st.ok()) {
    std::cerr << "tandemd: " << st.message() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace tandem

int main(int argc, char** argv) {
  // Frames, uploads and fetches use transient buffers of a MiB or so. With
  // glibc's default (a threshold that rises after the first such buffer is
  // freed) they come from per-thread arenas and stay resident; a fixed
  // threshold maps and unmaps them, so memory follows the load.
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  tandem::SetLogQuiet(false);
  return tandem::Main(argc, argv);
}
