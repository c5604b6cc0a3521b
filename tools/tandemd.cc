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

#include <tandem/tandem.h>

#include <atomic>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "failover/rejoin.h"
#include "journal/address.h"
#include "journal/log.h"
#include "journal/position.h"
#include "journal/settings.h"
#include "tools/offline.h"
#include "tools/service_notify.h"

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
int CannotStart(const std::string& why) {
  LogError() << "cannot start: " << why;
  std::cerr << "tandemd: cannot start: " << why << "\n";
  return 1;
}

// What tandemd says each time it serves in a new role: the lines on stdout
// that scripts (and the tests) wait for, and READY for systemd.
void SayServing(const std::string& root, const RoleChange& change) {
  if (change.role == Role::kStopped) {
    NotifyServiceManager("STOPPING=1");
    return;
  }
  if (!change.metrics_address.empty()) {
    std::cout << "tandemd: metrics on http://" << change.metrics_address << "/metrics" << std::endl;
  }
  std::string at = Position{change.at.journal, change.at.offset}.ToString();
  std::cout << "tandemd: serving " << root << " on " << change.address << " at " << at
            << (change.role == Role::kDownstream     ? " (downstream)"
                : change.role == Role::kFencedMaster ? " (fenced)"
                                                     : "")
            << std::endl;
  // A promoted server says READY again, with its new role.
  NotifyServiceManager("READY=1\nSTATUS=serving " + change.address + " as " +
                       (change.role == Role::kDownstream     ? "a standby or replica"
                        : change.role == Role::kFencedMaster ? "a fenced master"
                                                             : "the master"));
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
  if (auto address = Address::Parse(args.address); !address.ok()) {
    std::cerr << "tandemd: " << address.status().message() << "\n";
    return 2;
  }
  // The signal thread runs from before the root is opened (a new master may
  // wait there for disk room) until after it is let go, and is joined
  // before the node goes.
  std::mutex node_mu;
  Node* node = nullptr;  // guarded by node_mu
  std::atomic<bool> signalled{false};
  std::atomic<bool> exiting{false};
  std::thread signals([&] {
    int sig = 0;
    for (;;) {
      sigwait(&set, &sig);
      if (exiting.load()) return;
      if (sig != SIGHUP) break;
      // logrotate moved the file: go on in a new one at the same path.
      Status st = ReopenLogFile();
      LogInfo() << "SIGHUP: log reopened" << (st.ok() ? "" : " failed: " + st.message());
    }
    LogInfo() << "signal " << sig << ": stopping";
    signalled = true;
    std::lock_guard lock(node_mu);
    if (node != nullptr) node->Stop();
  });
  auto stop_signals = [&] {
    exiting.store(true);
    pthread_kill(signals.native_handle(), SIGTERM);
    signals.join();
  };

  NodeOptions options;
  options.root = args.root;
  options.address = args.address;
  options.metrics_address = args.metrics;
  options.give_up = [&signalled] { return signalled.load(); };
  options.on_role_change = [&args](const RoleChange& change) { SayServing(args.root, change); };
  auto opened = Node::Open(std::move(options));
  if (!opened.ok()) {
    stop_signals();
    // Stopped while a new master waited for room: it finishes next time.
    if (signalled.load() && opened.outcome.code() == ErrorCode::kUnavailable) return 0;
    return CannotStart(opened.outcome.message());
  }
  {
    std::lock_guard lock(node_mu);
    node = opened.value.get();
  }
  if (signalled.load()) node->Stop();  // a signal that came while it opened
  Outcome served = node->Wait();
  stop_signals();
  opened.value.reset();
  if (!served.ok()) {  // the node has logged why
    std::cerr << "tandemd: cannot start: " << served.message() << "\n";
    return 1;
  }
  return 0;
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
