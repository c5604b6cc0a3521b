// Arbitrary requests, at every access level, against a real master: an
// engine on a scratch root with every command a master serves registered
// (data, users, configuration, replication, archive, submit, failover). No
// handler may throw or crash the process, whatever the arguments.
//
// Input: byte 0 picks who asks (read, write, service, super user, no
// ticket, a forged ticket); the rest, split at '\n', is the argv.
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "failover/master_side.h"
#include "journal/engine.h"
#include "journal/log.h"
#include "journal/server_identity.h"
#include "observe/monitoring.h"
#include "replica/hub.h"
#include "replica/master_commands.h"
#include "tests/fuzz/fuzz_request.h"
#include "transport/archive_commands.h"
#include "transport/auth.h"
#include "transport/dispatcher.h"
#include "transport/engine_commands.h"
#include "transport/submit_command.h"

namespace {

using namespace tandem;

struct Master {
  std::unique_ptr<Engine> engine;
  std::unique_ptr<ReplicationHub> hub;
  std::unique_ptr<Dispatcher> dispatcher;
  std::unique_ptr<FailoverParticipant> participant;
  std::unique_ptr<ServerView> view;
  std::vector<std::pair<std::string, std::string>> who;  // user, ticket

  Master() {
    SetLogQuiet(true);
    char dir[] = "/tmp/tandem-fuzz-dispatch-XXXXXX";
    std::string root = std::string(mkdtemp(dir)) + "/root";
    (void)WriteServerIdentity(RootLayout(root), {.id = "master1"});
    (void)RootLayout(root).EnsureDirs();
    engine = std::move(Engine::Open({root, false})).value();
    for (auto [name, level] : {std::pair{"reader", AccessLevel::kRead},
                               {"writer", AccessLevel::kWrite},
                               {"svc", AccessLevel::kService},
                               {"admin", AccessLevel::kSuper}}) {
      (void)engine->Commit(
          std::move(MakeUserTransaction(engine->tables(), name, level, "pw")).value());
      who.emplace_back(name, IssueTicket(engine->tables(), name, NowSeconds(), 86400).value());
    }
    who.emplace_back("writer", "");
    who.emplace_back("admin", "admin:9999999999:00");
    hub = std::make_unique<ReplicationHub>(engine.get());
    dispatcher = std::make_unique<Dispatcher>(&engine->tables());
    RegisterEngineCommands(engine.get(), dispatcher.get(), {[] { return "127.0.0.1:1"; }, [] {}});
    RegisterMasterReplicationCommands(engine.get(), hub.get(), dispatcher.get());
    RegisterArchiveReadCommands(&engine->tables(), root, dispatcher.get());
    RegisterSubmitCommand(engine.get(), dispatcher.get());
    participant = std::make_unique<FailoverParticipant>(engine.get(), hub.get(),
                                                        [] { return "127.0.0.1:1"; });
    participant->Register(dispatcher.get());
    view = std::make_unique<ServerView>(ServerView::OfMaster(engine.get(), hub.get()));
    RegisterPingCommand(view.get(), dispatcher.get());
  }
};

Master& TheMaster() {
  static Master* master = new Master();  // lives until the process ends
  return *master;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  Master& m = TheMaster();
  const auto& [user, ticket] = m.who[data[0] % m.who.size()];
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  fuzzing::DispatchAndWait(m.dispatcher.get(), fuzzing::RequestOf(user, ticket, rest));
  return 0;
}
