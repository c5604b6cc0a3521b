// A master that was hung, partitioned or down while a standby took over does
// not know that it is old. It asks the standbys in its specs (at their
// Address:) what they are: one answering as a master of our ServerID at a
// higher epoch is the new master, and this one must fence itself. Asked at
// start-up, before the first write, and every rpl.timeout.ms while serving.
#pragma once

#include <chrono>
#include <optional>

#include "journal/engine.h"
#include "journal/server_identity.h"

namespace tandem {

// The fence to apply, naming the newest master found, or nothing. Every
// standby is asked at once, from `source` (our net.source); each answer is
// bounded by `timeout`. Servers listening at `own_address` (this one) are
// not asked.
std::optional<ServerIdentity> FindNewerMaster(const Engine& engine, const std::string& own_address,
                                              std::chrono::milliseconds timeout,
                                              const std::string& source);

}  // namespace tandem
