// The master's replication commands: the journal-stream opening request of
// downstream servers, server specs (server -o / -i) and servers -J.
#pragma once

#include "journal/engine.h"
#include "replica/hub.h"
#include "transport/dispatcher.h"

namespace tandem {

// `engine`, `hub` and `dispatcher` must outlive the registered commands.
void RegisterMasterReplicationCommands(Engine* engine, ReplicationHub* hub, Dispatcher* dispatcher);

}  // namespace tandem
