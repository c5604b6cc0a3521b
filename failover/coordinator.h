// The failover coordinator, run on a standby: checks, then (with `execute`)
// the steps that make it the master, as an explicit sequence of steps with
// an undo for each one taken before the point of no return.
//
// Planned (the master takes part):
//   pause-master    the master refuses new commits and reports its final
//                   durable position P and the digest of its journal up to P
//   journalcopy     our journalcopy reaches P
//   compare         our copy's digest up to P equals the master's
//   apply           journalcopy stops; everything up to P is applied
//   archive         no pending pull -u; content of the last -v seconds verified
//   statepullL      state is renamed to statepullL
//   statefailover   the consistency point P is recorded (phase prepared)
//   stop-master     the master fences its server.id and stops: the point of
//                   no return (phase master-stopped)
//   promote         journals.rep becomes our journal history (promote.h)
// Unplanned (master dead, or -i): only a mandatory standby; apply takes
// everything journalcopied, and the point of no return is statefailover.
//
// A failure before the point of no return undoes the steps taken, in reverse.
// On success the root is a master root; the caller opens it as one (an
// Engine, then FinishFailover) — `tandemd` does this by restarting its
// server in place.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "failover/failover_state.h"
#include "replica/downstream_node.h"

namespace tandem {

struct FailoverOptions {
  bool execute = false;         // -y
  bool require_master = false;  // -m
  bool ignore_master = false;   // -i
  std::string master_id;        // -s, when the master cannot say it itself
  int quiesce_secs = 60;        // -w, 0..3600
  int verify_secs = 300;        // -v, 0..43200
  std::string message;          // what clients of the paused master are told
};

struct FailoverLine {
  std::string kind;  // info | warning | error | step | result
  std::string text;
};

struct FailoverReport {
  bool ok = false;  // preview: -y would run it; execute: the root is promoted
  std::vector<FailoverLine> lines;
  FailoverRecord record;
};

class Failover {
 public:
  // Sees every line as it is produced (steps as they start).
  using Observer = std::function<void(const FailoverLine&)>;

  Failover(DownstreamNode* node, FailoverOptions options, Observer observer = nullptr);
  FailoverReport Run();

 private:
  struct Master;  // what we know of the master, and a connection to it
  struct Plan;

  void Say(const std::string& kind, const std::string& text);
  Plan Check();
  Status Execute(Plan& plan);
  // Runs a step: an injected fault first (TANDEM_FAILOVER_FAULT=step,
  // crash:step or sleep:step, for tests), then `fn`.
  Status Step(const std::string& name, const std::string& text, const std::function<Status()>& fn);
  void RollBack();
  // The stop call failed without an answer: find out whether it happened.
  Status ResolveStop(const Status& failed, std::chrono::steady_clock::time_point lease_end,
                     const std::string& standby_id);

  DownstreamNode* node_;
  FailoverOptions options_;
  Observer observer_;
  FailoverReport report_;
  std::vector<std::pair<std::string, std::function<Status()>>> undo_;
};

}  // namespace tandem
