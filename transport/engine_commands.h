// The commands of a single server: data (put/get/del/scan/txn), login and
// users, info, admin (checkpoint/journal/stop), configure and
// journaldbchecksums. Each maps argv to one Engine call.
#pragma once

#include <functional>
#include <string>

#include "journal/engine.h"
#include "transport/dispatcher.h"

namespace tandem {

struct ServerInfo {
  std::function<std::string()> address;  // the bound address, once listening
  std::function<void()> stop;            // asks the server to shut down
};

// `engine` and `dispatcher` must outlive the registered commands.
void RegisterEngineCommands(Engine* engine, Dispatcher* dispatcher, ServerInfo info);

// login, get and scan: what every server answers, master or not. `tables`
// must outlive the commands.
void RegisterReadCommands(const Tables* tables, std::string server_id, Dispatcher* dispatcher);

// Commits and replies with the position once durable.
void CommitAndReply(Engine* engine, Transaction txn, Reply reply);

// Parses one `txn` line: "put TABLE KEY VALUE..." or "del TABLE KEY".
Result<Op> ParseOpLine(std::string_view line);

}  // namespace tandem
