// Test-only fault points: named places in crash windows (before and after
// each remote call of a failover, around rotations, mid-transfer) where a
// test makes this process crash, fail or pause on purpose.
//
// They exist only in builds configured with TANDEM_FAULT_POINTS (on whenever
// the tests are built); in any other build the macros compile to nothing, so
// a packaged server has no such code path at all.
//
// A process arms them once, from TANDEM_FAULTS, a comma-separated list of
// NAME=ACTION[@N]: the action happens at the N-th time (default the first)
// the point is reached. Actions:
//   crash   SIGKILL this process
//   error   the point returns an IOError naming itself (TANDEM_FAULT_STATUS)
//   sleep   pause for 2 s, then go on
//   stop    SIGSTOP this process (a hung server; the test sends SIGCONT)
#pragma once

#include <string_view>

#include "journal/status.h"

namespace tandem {

#ifdef TANDEM_FAULT_POINTS
// What the point does this time; Ok when it is not armed.
Status HitFaultPoint(std::string_view name);
// For in-process tests: arms (or, with an empty action, disarms) one point.
void ArmFaultPoint(std::string_view name, std::string_view action);
// A point where only crash, sleep or stop make sense.
#define TANDEM_FAULT_POINT(name) (void)::tandem::HitFaultPoint(name)
// A point that may also fail: a Status (Ok unless armed with `error`).
#define TANDEM_FAULT_STATUS(name) ::tandem::HitFaultPoint(name)
#else
#define TANDEM_FAULT_POINT(name) (void)0
#define TANDEM_FAULT_STATUS(name) ::tandem::Status::Ok()
#endif

}  // namespace tandem
