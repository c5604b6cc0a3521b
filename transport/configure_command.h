// configure set [SERVERID#]NAME=VALUE | unset [SERVERID#]NAME | show [-a]:
// the replicated settings, checked against the registry (journal/settings.h).
// `show -a` answers on every kind of server: every setting, the value in
// force here, its default and where the value comes from.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "journal/engine.h"
#include "transport/dispatcher.h"

namespace tandem {

struct ConfigureScope {
  const Tables* tables = nullptr;  // must outlive the command
  std::string server_id;
  // This server's ROOT/config.local; none on a master.
  std::function<std::map<std::string, std::string>()> local;
  // Where set and unset commit. Null on a downstream server, which refuses
  // them with `read_only()`.
  Engine* engine = nullptr;
  std::function<Status()> read_only;
};

void RegisterConfigureCommand(Dispatcher* dispatcher, ConfigureScope scope);

}  // namespace tandem
