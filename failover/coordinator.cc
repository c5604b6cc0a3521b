#include "failover/coordinator.h"

#include "failover/failover_stats.h"

#include <chrono>
#include <future>
#include <thread>

#include "failover/journal_digest.h"
#include "failover/peer_views.h"
#include "failover/promote.h"
#include "failover/stop_resolution.h"
#include "journal/archive_store.h"
#include "journal/fault_point.h"
#include "journal/file.h"
#include "journal/log.h"
#include "journal/numbers.h"
#include "replica/failover_history.h"
#include "replica/server_spec.h"
#include "transport/archive_commands.h"

namespace tandem {
namespace {

using std::chrono::milliseconds;

template <typename Pred>
bool WaitUntil(milliseconds limit, Pred pred) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(milliseconds(1));
  }
  return true;
}

constexpr milliseconds kMasterCallTimeout{5000};
constexpr milliseconds kCopyTimeout{5000};
// How long the master stays paused beyond -w if we neither stop nor resume it
// (we crashed): it covers the steps between pause-master and stop-master.
constexpr milliseconds kLeaseSlack{10000};

int64_t WallMs() {
  return std::chrono::duration_cast<milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

struct Failover::Master {
  std::unique_ptr<Client> client;
  std::string user, ticket;

  // A master that stops answering must fail the step, not hang the failover.
  Result<Row> Call(std::vector<std::string> args, milliseconds timeout) {
    TANDEM_ASSIGN_OR_RETURN(Response resp, client->Call({user, ticket, std::move(args)}, timeout));
    if (!resp.status.ok()) return resp.status;
    return resp.rows.empty() ? Row{} : resp.rows[0];
  }
};

struct Failover::Plan {
  bool ok = true;
  bool planned = false;
  bool mandatory = false;
  std::string master_id;
  std::string master_address;
  Address master_target;  // how we reached it
  Master master;
  std::string digest;         // the master's journal digest up to the point
  uint32_t newest_epoch = 0;  // held here or by any server that answered
};

// How we reach the master at `target`: as our stream does, but there only.
UpstreamOptions Failover::ReachMaster(const Address& target) const {
  UpstreamOptions to_master = node_->upstream();
  to_master.target = target;
  to_master.resolve_target = nullptr;
  return to_master;
}

Failover::Failover(DownstreamNode* node, FailoverOptions options, Observer observer)
    : node_(node), options_(std::move(options)), observer_(std::move(observer)) {}

void Failover::Say(const std::string& kind, const std::string& text) {
  FailoverLine line{kind, text};
  if (kind == "error") {
    LogError() << id_ << ": " << text;
  } else if (kind == "warning") {
    LogWarning() << id_ << ": " << text;
  } else {
    LogInfo() << id_ << ": " << text;
  }
  if (observer_) observer_(line);
  report_.lines.push_back(std::move(line));
}

Failover::Plan Failover::Check() {
  Plan plan;
  auto fail = [&](const std::string& text) {
    Say("error", text);
    plan.ok = false;
  };
  const std::string& id = node_->server_id();
  CopierStatus up = node_->upstream_status();
  if (up.failed) fail(up.last_error);
  // Our own durable copy decides, not only what pull -L has applied: after a
  // restart during an outage our spec may lie in the unapplied tail.
  auto spec_or = node_->SpecAtConsistencyPoint();
  if (!spec_or.ok()) fail("cannot read our journal copy: " + spec_or.status().message());
  std::optional<ServerSpec> spec = spec_or.ok() ? *spec_or : std::nullopt;
  if (!spec) {
    fail("there is no server spec for '" + id +
         "': only a standby or forwarding-standby may fail over");
  } else if (!spec->is_standby()) {
    fail("'" + id + "' is a " + std::string(ServerTypeName(spec->type)) +
         "; only a standby or forwarding-standby may fail over");
  }
  plan.mandatory = spec && spec->mandatory;
  if (PathExists(node_->layout().statefailover())) {
    fail("a failover is already in progress here (" + node_->layout().statefailover() + ")");
  }
  if (options_.quiesce_secs < 0 || options_.quiesce_secs > 3600) fail("-w must be 0..3600");
  if (options_.verify_secs < 0 || options_.verify_secs > 43200) fail("-v must be 0..43200");

  // Epochs must never repeat: the new one begins above every epoch any
  // server holds. Asked meanwhile: a hung master costs each question a
  // whole timeout, and the two need not wait for each other.
  const Address current = node_->current_target();
  std::future<EpochHeard> heard_later = std::async(std::launch::async, [&] {
    return NewestEpochHeard(node_->tables(), id, options_.address, {current.ToString()},
                            RplTimeout(node_->tables(), id), node_->upstream().client.source);
  });

  // Ask the master who it is; that also tells whether it can take part.
  // The current upstream usually is the master: it is asked at once, while
  // every candidate is asked who is (resolve_target), an answer waited for
  // only when the current one is not the master. Both are bounded by one
  // timeout, so a hung master costs one timeout, not two.
  uint32_t master_epoch = 0;  // as the master we reached says
  std::string fenced;         // why the upstream we reached cannot take part
  auto ask = [&](const Address& target) -> Status {
    plan.master_target = target;
    plan.master.client.reset();
    TANDEM_ASSIGN_OR_RETURN(UpstreamConnection conn, ConnectUpstream(ReachMaster(target)));
    plan.master.client = std::move(conn.client);
    plan.master.user = conn.user;
    plan.master.ticket = conn.ticket;
    TANDEM_ASSIGN_OR_RETURN(Row info, plan.master.Call({"info"}, milliseconds(2000)));
    std::string_view role = FieldOf(info, "role");
    if (role == "fenced") {
      // It failed over (to someone else, or it learned of a newer epoch):
      // there is a master, just not there. Never fail over "without" it.
      fenced = "the upstream at " + target.ToString() + " is fenced (" +
               std::string(FieldOf(info, "fence")) + "); the master is now at " +
               std::string(FieldOf(info, "newMaster")) +
               ": replicate from it (its address in this server's target) before failing over";
      return Status::Fenced("the upstream is fenced");
    }
    if (role != "standard") {
      return Status::Unavailable("the upstream at " + target.ToString() + " is " +
                                 std::string(role) + ", not a master");
    }
    TANDEM_ASSIGN_OR_RETURN(
        master_epoch, ParseDecimal<uint32_t>(FieldOf(info, "epoch"), "the master's info epoch"));
    plan.master_id = FieldOf(info, "serverID");
    plan.master_address = target.ToString();
    return Status::Ok();
  };
  // Waited for in any case (it uses this node), but only after the current
  // upstream answered: the two overlap.
  std::future<Result<Address>> resolving;
  if (node_->upstream().resolve_target) {
    resolving = std::async(std::launch::async,
                           [resolve = node_->upstream().resolve_target,
                            cancelled = options_.cancelled] { return resolve(cancelled); });
  }
  Status reach = ask(current);
  if (!reach.ok() && resolving.valid()) {
    Result<Address> resolved = resolving.get();
    if (!resolved.ok() && options_.cancelled && options_.cancelled()) {
      fail("the server is stopping");  // the round was cut short: not silence
      return plan;
    }
    if (resolved.ok() && resolved->ToString() != current.ToString()) {
      fenced.clear();
      reach = ask(*resolved);
    } else if (!resolved.ok() && reach.code() != Code::kFenced) {
      reach = resolved.status();  // no candidate answered: silence
    }
  }
  if (resolving.valid()) resolving.wait();
  if (!fenced.empty()) fail(fenced);
  // Only silence means the master is gone: an answer we cannot use (a login
  // refused, a permission error) says it is there.
  if (!reach.ok() && reach.code() != Code::kUnavailable && reach.code() != Code::kTimeout &&
      reach.code() != Code::kFenced) {
    fail("the master at " + plan.master_target.ToString() +
         " answered, but not as a master "
         "that can take part: " +
         reach.message());
  }
  bool reachable = reach.ok() && !plan.master_id.empty();
  if (reachable && options_.only_without_master) {
    fail("the master '" + plan.master_id + "' at " + plan.master_address +
         " answers again: failover.auto replaces only a master that is gone");
  }
  plan.planned = reachable && !options_.ignore_master;
  if (reachable && !options_.master_id.empty() && options_.master_id != plan.master_id) {
    fail("-s " + options_.master_id + ", but the master at " + plan.master_address + " is '" +
         plan.master_id + "'");
  }
  if (!reachable && !options_.master_id.empty() && spec && !spec->replicating_from.empty() &&
      options_.master_id != spec->replicating_from) {
    fail("-s " + options_.master_id + ", but this standby replicates from '" +
         spec->replicating_from + "'");
  }
  if (!reachable) {
    plan.master.client.reset();
    if (options_.require_master) {
      fail("the master is not reachable (" + reach.message() + ") and -m requires it to take part");
    } else {
      Say("warning",
          "the master is not reachable (" + reach.message() + "): failing over without it");
    }
  } else if (options_.ignore_master) {
    Say("warning", "SPLIT BRAIN RISK: master '" + plan.master_id + "' at " + plan.master_address +
                       " is running and reachable, and -i leaves it running. Stop it first, or "
                       "drop -i to let it take part.");
    if (!options_.execute) fail("with -i and a live master, failover runs only with -y");
    // Kept to fence it once past the point of no return: left running
    // unfenced, a standby still following it could fail over from it
    // into an epoch of the same number as ours.
  }
  if (plan.master_id.empty()) plan.master_id = options_.master_id;
  if (plan.master_id.empty() && spec) plan.master_id = spec->replicating_from;
  if (plan.master_id.empty()) fail("the master's ServerID is unknown: give it with -s MASTERID");
  if (!plan.planned && spec && !spec->mandatory) {
    if (!options_.force) {
      fail("'" + id +
           "' is not a mandatory standby: it may lack writes the master acknowledged, so it may "
           "fail over only with the master taking part (or, if no mandatory standby survives, "
           "with --force)");
    } else {
      std::string behind =
          up.last_data_unix == 0
              ? "unknown: nothing was heard from the master since this server started"
          : up.upstream_durable.journal == up.written.journal
              ? std::to_string(up.upstream_durable.offset -
                               std::min(up.upstream_durable.offset, up.written.offset)) +
                    " bytes"
              : std::to_string(up.upstream_durable.journal - up.written.journal) + " journal(s)";
      Say("warning", "FORCED: '" + id +
                         "' is not mandatory and may lack writes the master acknowledged. The "
                         "last master position it heard of is " +
                         up.upstream_durable.Token() + "; its copy ends at " + up.written.Token() +
                         " (behind by " + behind +
                         "). Whatever it lacks is lost. The new master takes a checkpoint, and "
                         "every downstream server that applied past the failover point "
                         "reseeds itself from it.");
    }
  }
  // A server holding a newer epoch than this standby means a master this
  // standby never followed took writes it lacks.
  const uint32_t ours = node_->highest_epoch().value;
  EpochHeard heard = heard_later.get();
  if (master_epoch > heard.epoch) {
    heard = {master_epoch, "the master at " + plan.master_target.ToString()};
  }
  plan.newest_epoch = std::max(ours, heard.epoch);
  if (heard.epoch > ours) {
    std::string what = heard.who + " holds epoch " + std::to_string(heard.epoch) +
                       ", newer than this standby's " + std::to_string(ours) +
                       ": a newer master exists or existed, and this standby lacks its history";
    if (plan.planned || !options_.force) {
      fail(what + "; let it follow that master first" +
           (plan.planned ? "" : " (or --force, losing what it lacks)"));
    } else {
      Say("warning", "FORCED: " + what + "; the new epoch begins above it");
    }
  }
  if (plan.planned && !up.connected) {
    Say("warning", "journalcopy is not connected to the master (" + up.last_error + ")");
  }
  if (size_t backlog = node_->archive_backlog(); backlog > 0) {
    Say("warning", std::to_string(backlog) + " archive file(s) are still waiting for pull -u");
  }
  Say("info", std::string(plan.planned ? "planned" : "unplanned") + " failover from master '" +
                  plan.master_id + "'" +
                  (plan.master_address.empty() ? "" : " at " + plan.master_address) +
                  " to standby '" + id + "'; journalcopy at " + up.written.Token() +
                  ", applied at " + node_->applied().Token());
  return plan;
}

Status Failover::StopMaster(Plan& plan) {
  FailoverRecord& rec = report_.record;
  auto stopped = plan.master.Call(
      {"failover-master", "stop", rec.standby_id, rec.point.Token(), options_.address},
      kMasterCallTimeout);
  if (stopped.ok()) return Status::Ok();
  Code code = stopped.status().code();
  if (code != Code::kUnavailable && code != Code::kTimeout) return stopped.status();  // an answer
  // The stop may or may not have reached the master: ask it, until its
  // pause lease is surely over.
  Say("warning", "the master did not confirm the stop (" + stopped.status().message() +
                     "); asking it until its pause lease ends");
  UpstreamOptions to_master = ReachMaster(plan.master_target);
  std::string detail;
  auto deadline = std::chrono::system_clock::time_point(milliseconds(rec.lease_end_ms)) +
                  std::chrono::seconds(1);
  switch (ResolveStop({to_master, rec.standby_id, rec.point, options_.address}, true, deadline,
                      &detail)) {
    case StopOutcome::kStopped:
      Say("info", "the master had stopped for us");
      return Status::Ok();
    case StopOutcome::kNotStopped:
      return Status::FailedPrecondition("the master did not stop: " + detail);
    case StopOutcome::kNoAnswer:
      break;
  }
  // A hung master resumes when its lease ends: going on would make two
  // masters. The operator is here to decide; a restart in phase stopping,
  // with nobody watching, decides by itself (SettleInterruptedFailover).
  return Status::Unavailable("the master never answered (" + detail +
                             "); if it is dead, fail over again without it");
}

std::vector<Failover::Step> Failover::PlannedSteps(Plan& plan) {
  FailoverRecord& rec = report_.record;
  const RootLayout& layout = node_->layout();
  std::vector<Step> steps;
  steps.push_back(
      {.name = "pause-master",
       .text = "pausing master '" + plan.master_id + "': refusing new commands, waiting up to " +
               std::to_string(options_.quiesce_secs) + " s for running ones",
       .run = [this, &plan, &rec]() -> Status {
         std::string message =
             options_.message.empty()
                 ? "failover in progress: '" + rec.standby_id + "' is taking over as master"
                 : options_.message;
         milliseconds wait(options_.quiesce_secs * 1000);
         TANDEM_ASSIGN_OR_RETURN(
             Row row, plan.master.Call(
                          {"failover-master", "pause", rec.standby_id, std::to_string(wait.count()),
                           std::to_string((wait + kLeaseSlack).count()), message},
                          wait + kMasterCallTimeout));
         if (!Position::ParseToken(std::string(FieldOf(row, "position")), &rec.point)) {
           return Status::Corruption("the master's pause reply has no position");
         }
         plan.digest = FieldOf(row, "digest");
         rec.lease_end_ms = WallMs() + (wait + kLeaseSlack).count();
         TANDEM_ASSIGN_OR_RETURN(uint32_t epoch,
                                 ParseDecimal<uint32_t>(FieldOf(row, "epoch"), "epoch"));
         rec.old_epoch = std::max(rec.old_epoch, epoch);
         Say("info", "master quiesced at " + rec.point.Token());
         return Status::Ok();
       },
       .undo = [this, &plan, &layout, id = rec.standby_id]() -> Status {
         // The pause may have reached a master we can no longer ask on this
         // connection (it timed out, or the master died): try once afresh,
         // and in any case leave no failover in progress here. A master we
         // could not tell resumes when its lease ends.
         auto resumed = plan.master.Call({"failover-master", "resume", id}, kMasterCallTimeout);
         if (!resumed.ok()) {
           Say("warning",
               "the master did not take the resume (" + resumed.status().message() +
                   "); asked again: " + ResumeMaster(ReachMaster(plan.master_target), id) +
                   ". If it paused and was not told, it takes commits again when its "
                   "pause lease ends, " +
                   std::to_string(options_.quiesce_secs + kLeaseSlack.count() / 1000) +
                   " s after it quiesced");
         }
         if (!PathExists(layout.statefailover())) return Status::Ok();
         return RemoveDurably(layout.statefailover());
       },
       // Recorded before the master may pause: a restart after a crash from
       // here on rolls back and resumes it (SettleInterruptedFailover).
       .phase_before = FailoverPhase::kPrepared});
  steps.push_back(
      {.name = "journalcopy",
       .text = "journalcopying to the master's final position",
       .run = [this, &rec]() -> Status {
         // Written is enough: the apply step syncs the copy itself (with
         // journalcopy.fsync=off, flushed moves only at a rotation).
         if (!WaitUntil(kCopyTimeout,
                        [&] { return node_->upstream_status().written >= rec.point; })) {
           return Status::Unavailable("journalcopy stopped at " +
                                      node_->upstream_status().written.Token());
         }
         if (node_->upstream_status().written != rec.point) {
           return Status::FailedPrecondition("journalcopy went past the master's final position");
         }
         return Status::Ok();
       }});
  steps.push_back(
      {.name = "compare",
       .text = "comparing our journal with the master's up to the final position",
       .run = [&layout, &rec, &plan]() -> Status {
         TANDEM_ASSIGN_OR_RETURN(
             std::string ours,
             JournalPrefixDigest(layout.rep_journal(rec.point.journal), rec.point.offset));
         if (ours != plan.digest) {
           return Status::Corruption("journal " + std::to_string(rec.point.journal) +
                                     " differs: master digest " + plan.digest + ", ours " + ours);
         }
         return Status::Ok();
       }});
  steps.push_back({.name = "apply",
                   .text = "stopping journalcopy; applying everything up to the final position",
                   .run = [this, &rec]() -> Status {
                     TANDEM_RETURN_IF_ERROR(node_->StopJournalcopy());
                     // The copy ran until now: nothing may have come after
                     // the point the master paused at.
                     if (node_->upstream_status().written != rec.point) {
                       return Status::FailedPrecondition(
                           "journalcopy went past the master's final position, to " +
                           node_->upstream_status().written.Token());
                     }
                     return node_->ApplyTo(rec.point);
                   },
                   .undo = [this] { return node_->Restart(); }});
  return steps;
}

std::vector<Failover::Step> Failover::UnplannedSteps(Plan&) {
  FailoverRecord& rec = report_.record;
  return {{.name = "apply",
           .text = "stopping journalcopy; applying everything journalcopied, to the end of its "
                   "last whole record",
           .run = [this, &rec]() -> Status {
             TANDEM_RETURN_IF_ERROR(node_->StopJournalcopy());
             TANDEM_ASSIGN_OR_RETURN(rec.point, node_->ConsistencyPoint());
             Say("info", "consistency point " + rec.point.Token());
             return node_->ApplyTo(rec.point);
           },
           .undo = [this] { return node_->Restart(); }}};
}

std::vector<Failover::Step> Failover::CommonSteps(Plan& plan) {
  FailoverRecord& rec = report_.record;
  const RootLayout& layout = node_->layout();
  std::vector<Step> steps;
  steps.push_back({.name = "archive",
                   .text = "checking archive content submitted in the last " +
                           std::to_string(options_.verify_secs) + " s",
                   .run = [this, &plan, &layout]() -> Status {
                     WaitUntil(milliseconds(3000), [&] { return node_->archive_backlog() == 0; });
                     ArchiveStore archive(layout.root() + "/archive");
                     auto bad = VerifyRecentRevisions(node_->tables(), archive,
                                                      NowSeconds() - options_.verify_secs);
                     size_t backlog = node_->archive_backlog();
                     if (bad.empty() && backlog == 0) return Status::Ok();
                     std::string what = std::to_string(bad.size()) +
                                        " recent revision(s) missing or damaged, " +
                                        std::to_string(backlog) + " pull -u transfer(s) pending";
                     if (!plan.planned) {
                       Say("warning", what + " (unplanned: the master cannot supply them now)");
                       return Status::Ok();
                     }
                     return Status::FailedPrecondition(what);
                   }});
  steps.push_back({.name = "statepullL",
                   .text = "renaming state to statepullL",
                   .run = [&layout]() -> Status {
                     if (!PathExists(layout.state())) return Status::Ok();
                     return RenameDurably(layout.state(), layout.statepullL());
                   },
                   .undo = [&layout]() -> Status {
                     if (!PathExists(layout.statepullL())) return Status::Ok();
                     return RenameDurably(layout.statepullL(), layout.state());
                   }});
  // Without a master to stop, recording the point is the point of no return.
  // With one, the record says we are about to stop it: from here a restart
  // asks it whether it stopped (SettleInterruptedFailover).
  steps.push_back(
      {.name = "statefailover",
       .text = "writing statefailover: the consistency point",
       .run = [] { return Status::Ok(); },  // the phase is the record
       .undo = [&layout] { return RemoveDurably(layout.statefailover()); },
       .phase_after = plan.planned ? FailoverPhase::kStopping : FailoverPhase::kMasterStopped,
       .no_return = !plan.planned});
  if (plan.planned) {
    steps.push_back({.name = "stop-master",
                     .text = "stopping master '" + plan.master_id + "' (the point of no return)",
                     .run = [this, &plan] { return StopMaster(plan); },
                     .phase_after = FailoverPhase::kMasterStopped,
                     .no_return = true});
  }
  if (options_.ignore_master && plan.master.client) {
    steps.push_back(
        {.name = "fence-master",
         .text = "fencing master '" + plan.master_id + "' (-i: without its data)",
         .run = [this, &plan, &rec]() -> Status {
           auto fenced = plan.master.Call(
               {"failover-master", "ignore", rec.standby_id, options_.address}, kMasterCallTimeout);
           if (!fenced.ok()) {
             Say("warning", "the master did not fence itself (" + fenced.status().message() +
                                "); it is told it is stale once this server serves");
           }
           return Status::Ok();  // past the point of no return: on regardless
         }});
  }
  steps.push_back({.name = "promote",
                   .text = "promoting journals.rep to the live journal; taking ServerID '" +
                           plan.master_id + "'",
                   .run = [&layout, &rec] { return PromoteRoot(layout, &rec); }});
  return steps;
}

Status Failover::RunSteps(std::vector<Step>& steps) {
  const RootLayout& layout = node_->layout();
  FailoverRecord& rec = report_.record;
  for (Step& step : steps) {
    std::string text = step.text;
    if (step.name == "journalcopy" || step.name == "compare" || step.name == "statefailover" ||
        step.name == "apply") {
      text += rec.point == Position{} ? "" : " " + rec.point.Token();
    }
    if (!past_no_return_ && options_.cancelled && options_.cancelled()) {
      return Status::Unavailable("the server is stopping");
    }
    Say("step", text);
    if (step.undo) undo_.emplace_back(step.name, step.undo);
    if (step.phase_before) {
      rec.phase = *step.phase_before;
      TANDEM_RETURN_IF_ERROR(WriteFailoverRecord(layout, rec).Annotate(step.name));
    }
    auto started = std::chrono::steady_clock::now();
    Status st = TANDEM_FAULT_STATUS("failover." + step.name);
    if (st.ok()) st = step.run();
    LogInfo() << id_ << ": step " << step.name << (st.ok() ? " done in " : " failed after ")
              << std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now() - started)
                     .count()
              << " ms";
    if (!st.ok()) return st.Annotate(step.name);
    TANDEM_FAULT_POINT("failover." + step.name + ".after");
    if (step.phase_after) {
      rec.phase = *step.phase_after;
      TANDEM_RETURN_IF_ERROR(WriteFailoverRecord(layout, rec).Annotate(step.name));
    }
    if (step.no_return) {
      // Past here a failure is finished at the next start
      // (SettleInterruptedFailover), never rolled back.
      undo_.clear();
      past_no_return_ = true;
    }
  }
  return Status::Ok();
}

void Failover::RollBack() {
  for (auto it = undo_.rbegin(); it != undo_.rend(); ++it) {
    Say("step", "rollback: " + it->first);
    if (Status st = it->second(); !st.ok()) Say("error", "rollback: " + st.message());
  }
  undo_.clear();
}

FailoverReport Failover::Run() {
  report_ = {};
  id_ = "failover";
  Plan plan = Check();
  if (!options_.execute || !plan.ok) {
    report_.ok = plan.ok;
    Say("result", plan.ok ? std::string("failover ") + (options_.force ? "--force " : "") +
                                "-y would run these steps"
                          : "failover cannot run until the errors above are addressed");
    return std::move(report_);
  }
  FailoverRecord& rec = report_.record;
  rec.master_id = plan.master_id;
  rec.standby_id = node_->server_id();
  rec.planned = plan.planned;
  rec.mandatory = plan.mandatory;
  rec.forced = !plan.planned && !plan.mandatory;
  rec.old_epoch = std::max(node_->highest_epoch().value, plan.newest_epoch);
  // The epoch it begins: the old master's lines for it carry the same id.
  id_ = tandem::FailoverId(Epoch{rec.old_epoch + 1});
  rec.master_address = plan.master_address;
  // Without the old master's word that it stopped (unplanned, or -i), the new
  // master keeps telling its address that it is stale until it hears it.
  rec.tell_address = plan.planned ? "" : plan.master_target.ToString();
  std::vector<Step> steps = plan.planned ? PlannedSteps(plan) : UnplannedSteps(plan);
  for (Step& s : CommonSteps(plan)) steps.push_back(std::move(s));
  auto started = std::chrono::steady_clock::now();
  Status st = RunSteps(steps);
  FailoverStats& stats = ProcessFailoverStats();
  if (!st.ok()) {
    stats.runs[plan.planned][past_no_return_ ? 2 : 1].Add();
    Say("error", st.message());
    if (!past_no_return_) {
      RollBack();
      Say("result", "failover did not succeed and was rolled back: " + st.message());
    } else {
      Say("result", "failover passed the point of no return but did not finish (" + st.message() +
                        "); it finishes when this server restarts");
    }
    return std::move(report_);
  }
  report_.ok = true;
  stats.runs[plan.planned][0].Add();
  stats.seconds.ObserveSince(started);
  if (!rec.tell_address.empty()) {
    Say("info", "the old master at " + rec.tell_address +
                    " will be told it is stale as soon as this server serves as master, and "
                    "again until it hears it");
  }
  Say("result",
      "failover complete: '" + rec.standby_id + "' is now master '" + rec.master_id + "'");
  return std::move(report_);
}

}  // namespace tandem
