// Arbitrary requests against a real standby: a downstream node on a scratch
// root (its master unreachable) with every command a standby serves
// registered (reads, pull -l/-lj, configure, admin reseed, failover,
// heartbeat, hello, ping). No handler may throw or crash the process,
// whatever the arguments. fuzz_dispatch does the same for a master.
//
// Input: byte 0 picks who asks (a downstream with no users yet serves its
// loopback clients without authentication, as a new standby does; the byte
// still chooses between no ticket and a forged one); the rest, split at
// '\n', is the argv.
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "failover/standby_commands.h"
#include "journal/log.h"
#include "journal/server_identity.h"
#include "observe/monitoring.h"
#include "replica/downstream_node.h"
#include "replica/local_config.h"
#include "tests/fuzz/fuzz_request.h"
#include "transport/dispatcher.h"

namespace {

using namespace tandem;

struct Standby {
  std::unique_ptr<DownstreamNode> node;
  std::unique_ptr<Dispatcher> dispatcher;
  std::unique_ptr<StandbyFailover> failover;
  std::unique_ptr<ServerView> view;

  Standby() {
    SetLogQuiet(true);
    char dir[] = "/tmp/tandem-fuzz-downstream-XXXXXX";
    std::string root = std::string(mkdtemp(dir)) + "/root";
    RootLayout layout(root);
    (void)layout.EnsureDirs();
    (void)WriteServerIdentity(layout, {.id = "sb1"});
    (void)SetLocalConfig(layout, "target", "127.0.0.1:1");  // nobody listens there
    node = std::move(DownstreamNode::Open(root)).value();
    dispatcher = std::make_unique<Dispatcher>(&node->tables(), root);
    auto address = [] { return std::string("127.0.0.1:2"); };
    node->RegisterCommands(dispatcher.get(), address, [] {});
    failover = std::make_unique<StandbyFailover>(node.get(), address, [] {});
    failover->Register(dispatcher.get());
    view = std::make_unique<ServerView>(ServerView::OfDownstream(node.get()));
    RegisterPingCommand(view.get(), dispatcher.get());
  }
};

Standby& TheStandby() {
  static Standby* standby = new Standby();  // lives until the process ends
  return *standby;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  Standby& s = TheStandby();
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  fuzzing::DispatchAndWait(
      s.dispatcher.get(),
      fuzzing::RequestOf("admin", data[0] % 2 == 0 ? "" : "admin:9999999999:00", rest));
  return 0;
}
