// The failover coordinator, run on a standby: checks, then (with `execute`)
// the steps that make it the master. The steps are a table: each has an
// action, an undo, and the phase statefailover records around it
// (failover_state.h), so that a failure rolls back what was done and a crash
// at any moment is finished or undone by the next start.
//
// Planned (the master takes part):
//   pause-master    phase prepared is recorded (so a restart resumes the
//                   master); the master refuses new commits and reports its
//                   final durable position P and the digest of its journal
//                   up to P
//   journalcopy     our journalcopy reaches P (synced)
//   compare         our copy's digest up to P equals the master's
//   apply           journalcopy stops; everything up to P is applied
//   archive         no pending pull -u; content of the last -v seconds verified
//   statepullL      state is renamed to statepullL
//   statefailover   the consistency point P is recorded (phase prepared again)
//   stop-master     phase stopping, then the master fences itself for us at
//                   P and refuses every commit: the point of no return
//                   (phase master-stopped)
//   promote         journals.rep becomes our journal history (promote.h)
// Unplanned (master dead, or -i; only a mandatory standby):
//   apply           journalcopy stops; P is the end of the last whole record
//                   journalcopied; everything up to P is applied
//   archive, statepullL as above
//   statefailover   phase master-stopped: the point of no return
//   promote
//
// Every step is also a pair of test-only fault points, failover.<step> and
// failover.<step>.after (journal/fault_point.h). On success the root is a
// master root; the caller opens it as one (an Engine, then FinishFailover)
// — `tandemd` does this by restarting its server in place.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "failover/failover_state.h"
#include "replica/downstream_node.h"

namespace tandem {

struct FailoverOptions {
  bool execute = false;         // -y
  bool require_master = false;  // -m
  bool ignore_master = false;   // -i
  // --force: a non-mandatory standby may fail over without the master. It
  // may lack writes the master acknowledged; downstream servers ahead of it
  // reseed themselves from the checkpoint the new master takes.
  bool force = false;
  // failover.auto: replace only a master that is gone. One that answers by
  // the time the failover asks (it was restarting, or another server became
  // master meanwhile) is left serving.
  bool only_without_master = false;
  std::string master_id;  // -s, when the master cannot say it itself
  int quiesce_secs = 60;  // -w, 0..3600
  int verify_secs = 300;  // -v, 0..43200
  std::string message;    // what clients of the paused master are told
  std::string address;    // where this server serves (for the old master's fence)
  // Asked before each step until the point of no return: true rolls the
  // failover back (the server is stopping).
  std::function<bool()> cancelled;
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
  struct Step {
    std::string name = {};
    std::string text = {};  // what the operator sees as it starts
    std::function<Status()> run = nullptr;
    // Undoes `run`, whether it finished or not; registered before it runs.
    std::function<Status()> undo = nullptr;
    std::optional<FailoverPhase> phase_before = std::nullopt;  // persisted before run
    std::optional<FailoverPhase> phase_after = std::nullopt;   // persisted once run succeeded
    bool no_return = false;                                    // after it, only forward
  };

  void Say(const std::string& kind, const std::string& text);
  Plan Check();
  UpstreamOptions ReachMaster(const Address& target) const;
  std::vector<Step> PlannedSteps(Plan& plan);
  std::vector<Step> UnplannedSteps(Plan& plan);
  std::vector<Step> CommonSteps(Plan& plan);
  Status RunSteps(std::vector<Step>& steps);
  Status StopMaster(Plan& plan);
  void RollBack();

  DownstreamNode* node_;
  FailoverOptions options_;
  Observer observer_;
  FailoverReport report_;
  std::string id_ = "failover";  // "failover (epoch N)" once the epoch is known
  std::vector<std::pair<std::string, std::function<Status()>>> undo_;
  bool past_no_return_ = false;
};

}  // namespace tandem
