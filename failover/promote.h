// The half of a failover that turns a standby's root into a master's root,
// after the point of no return, and what a restarted server does with a
// failover that a crash interrupted (see failover_state.h).
#pragma once

#include <memory>
#include <string>

#include "failover/failover_state.h"
#include "journal/engine.h"

namespace tandem {

// Moves journals.rep into place (journal N at the consistency point becomes
// the live journal; nothing past the point is kept), takes the master's
// ServerID and drops the local `target`. Safe to run again after a crash.
Status PromoteRoot(const RootLayout& layout, FailoverRecord* record);

// Called before a server decides its role: rolls back a failover that had not
// passed the point of no return, finishes the promotion of one that had, and
// for one interrupted while stopping the master asks the master (see
// failover_state.h). `address` is where this server will serve.
Status SettleInterruptedFailover(const RootLayout& layout, const std::string& address);

// On the new master's engine, once: the failover record that opens the next
// epoch, the old standby spec set nomandatory, the master's spec given our
// `address` (unless its port is 0), then the `trigger.failed-over` command
// (if configured). Runs before the server takes commands. A no-op on a root
// that did not fail over.
Status FinishFailover(Engine* engine, const std::string& address);

}  // namespace tandem
