#include "failover/coordinator.h"

#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include "failover/journal_digest.h"
#include "failover/promote.h"
#include "journal/archive_store.h"
#include "journal/file.h"
#include "journal/log.h"
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
  std::string master_id;
  std::string master_address;
  Master master;
  Master ignored;  // a live master that -i passed over
};

Failover::Failover(DownstreamNode* node, FailoverOptions options, Observer observer)
    : node_(node), options_(std::move(options)), observer_(std::move(observer)) {}

void Failover::Say(const std::string& kind, const std::string& text) {
  FailoverLine line{kind, text};
  if (kind == "error") {
    LogError() << "failover: " << text;
  } else if (kind == "warning") {
    LogWarning() << "failover: " << text;
  } else {
    LogInfo() << "failover: " << text;
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
  auto spec = LoadServerSpec(node_->tables(), id);
  if (!spec) {
    fail("there is no server spec for '" + id +
         "': only a standby or forwarding-standby may fail over");
  } else if (!spec->is_standby()) {
    fail("'" + id + "' is a " + std::string(ServerTypeName(spec->type)) +
         "; only a standby or forwarding-standby may fail over");
  }
  if (PathExists(node_->layout().statefailover())) {
    fail("a failover is already in progress here (" + node_->layout().statefailover() + ")");
  }
  if (options_.quiesce_secs < 0 || options_.quiesce_secs > 3600) fail("-w must be 0..3600");
  if (options_.verify_secs < 0 || options_.verify_secs > 43200) fail("-v must be 0..43200");

  // Ask the master who it is; that also tells whether it can take part.
  Status reach = Status::Ok();
  auto conn = ConnectUpstream(node_->upstream());
  if (conn.ok()) {
    plan.master.client = std::move(conn->client);
    plan.master.user = node_->upstream().user;
    plan.master.ticket = conn->ticket;
    auto info = plan.master.Call({"info"}, milliseconds(2000));
    if (info.ok() && FieldOf(*info, "role") != "standard") {
      fail("the upstream at " + std::string(FieldOf(*info, "address")) + " is a " +
           std::string(FieldOf(*info, "role")) + ", not the master");
    } else if (info.ok()) {
      plan.master_id = FieldOf(*info, "serverID");
      plan.master_address = FieldOf(*info, "address");
    } else {
      reach = info.status();
    }
  } else {
    reach = conn.status();
  }
  bool reachable = reach.ok() && !plan.master_id.empty();
  plan.planned = reachable && !options_.ignore_master;
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
    plan.ignored = std::move(plan.master);  // told it is stale once we are master
  }
  if (!options_.master_id.empty()) plan.master_id = options_.master_id;
  if (plan.master_id.empty() && spec) plan.master_id = spec->replicating_from;
  if (plan.master_id.empty()) fail("the master's ServerID is unknown: give it with -s MASTERID");
  if (!plan.planned && spec && !spec->mandatory) {
    fail("'" + id +
         "' is not a mandatory standby: it may lack writes the master acknowledged, so it may "
         "fail over only with the master taking part");
  }

  CopierStatus up = node_->upstream_status();
  if (plan.planned && !up.connected) {
    Say("warning", "journalcopy is not connected to the master (" + up.last_error + ")");
  }
  if (size_t backlog = node_->archive_backlog(); backlog > 0) {
    Say("warning", std::to_string(backlog) + " archive file(s) are still waiting for pull -u");
  }
  Say("info", std::string(plan.planned ? "planned" : "unplanned") + " failover from master '" +
                  plan.master_id + "'" +
                  (plan.master_address.empty() ? "" : " at " + plan.master_address) +
                  " to standby '" + id + "'; journalcopy at " + up.flushed.Token() +
                  ", applied at " + node_->applied().Token());
  return plan;
}

Status Failover::Step(const std::string& name, const std::string& text,
                      const std::function<Status()>& fn) {
  Say("step", text);
  if (const char* fault = std::getenv("TANDEM_FAILOVER_FAULT")) {
    std::string f = fault;
    if (f == "crash:" + name) ::raise(SIGKILL);
    if (f == "sleep:" + name) std::this_thread::sleep_for(std::chrono::seconds(2));
    if (f == name) return Status::IOError("fault injected at step '" + name + "'");
  }
  Status st = fn();
  return st.ok() ? st : st.Annotate(name);
}

Status Failover::ResolveStop(const Status& failed, std::chrono::steady_clock::time_point lease_end,
                             const std::string& standby_id) {
  // The stop may or may not have reached the master. Ask again on a new
  // connection until its lease is surely over (after which a late stop is
  // refused): "resumed" means roll back, "already failed over" means the
  // master did stop for us.
  Say("warning", "the master did not confirm the stop (" + failed.message() +
                     "); asking it again until its pause lease ends");
  auto deadline = lease_end + std::chrono::seconds(1);
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto conn = ConnectUpstream(node_->upstream()); conn.ok()) {
      auto r = conn->client->Call(
          {node_->upstream().user, conn->ticket, {"failover-master", "resume", standby_id}},
          milliseconds(1000));
      if (r.ok() && r->status.ok()) return failed;  // it resumed: roll back
      if (r.ok() && r->status.message().find("already failed over") != std::string::npos) {
        Say("info", "the master had stopped for us");
        return Status::Ok();
      }
    }
    std::this_thread::sleep_for(milliseconds(200));
  }
  Say("warning", "the master never answered: if it is dead, fail over again without it");
  return failed;
}

void Failover::RollBack() {
  for (auto it = undo_.rbegin(); it != undo_.rend(); ++it) {
    Say("step", "rollback: " + it->first);
    if (Status st = it->second(); !st.ok()) Say("error", "rollback: " + st.message());
  }
  undo_.clear();
}

Status Failover::Execute(Plan& plan) {
  const RootLayout& layout = node_->layout();
  FailoverRecord& rec = report_.record;
  rec.master_id = plan.master_id;
  rec.standby_id = node_->server_id();
  rec.planned = plan.planned;
  rec.old_epoch = node_->highest_epoch().value;
  std::string digest;
  // When the master's pause lease is over at the latest (our clock).
  std::chrono::steady_clock::time_point lease_end;

  if (plan.planned) {
    TANDEM_RETURN_IF_ERROR(Step(
        "pause-master",
        "pausing master '" + plan.master_id + "': refusing new commands, waiting up to " +
            std::to_string(options_.quiesce_secs) + " s for running ones",
        [&]() -> Status {
          std::string message =
              options_.message.empty()
                  ? "failover in progress: '" + rec.standby_id + "' is taking over as master"
                  : options_.message;
          milliseconds wait(options_.quiesce_secs * 1000);
          TANDEM_ASSIGN_OR_RETURN(
              Row row, plan.master.Call({"failover-master", "pause", rec.standby_id,
                                         std::to_string(wait.count()),
                                         std::to_string((wait + kLeaseSlack).count()), message},
                                        wait + kMasterCallTimeout));
          undo_.emplace_back("master accepts commands again", [&plan, id = rec.standby_id] {
            return plan.master.Call({"failover-master", "resume", id}, kMasterCallTimeout).status();
          });
          if (!Position::ParseToken(std::string(FieldOf(row, "position")), &rec.point)) {
            return Status::Corruption("the master's pause reply has no position");
          }
          digest = FieldOf(row, "digest");
          lease_end = std::chrono::steady_clock::now() + wait + kLeaseSlack;
          rec.old_epoch = std::max<uint32_t>(
              rec.old_epoch, static_cast<uint32_t>(std::stoul(std::string(FieldOf(row, "epoch")))));
          Say("info", "master quiesced at " + rec.point.Token());
          return Status::Ok();
        }));
    TANDEM_RETURN_IF_ERROR(
        Step("journalcopy", "journalcopying to the master's final position " + rec.point.Token(),
             [&]() -> Status {
               if (!WaitUntil(kCopyTimeout,
                              [&] { return node_->upstream_status().flushed >= rec.point; })) {
                 return Status::Unavailable("journalcopy stopped at " +
                                            node_->upstream_status().flushed.Token());
               }
               if (node_->upstream_status().flushed != rec.point) {
                 return Status::FailedPrecondition(
                     "journalcopy went past the master's final "
                     "position");
               }
               return Status::Ok();
             }));
    TANDEM_RETURN_IF_ERROR(
        Step("compare", "comparing our journal with the master's up to " + rec.point.Token(),
             [&]() -> Status {
               TANDEM_ASSIGN_OR_RETURN(
                   std::string ours,
                   JournalPrefixDigest(layout.rep_journal(rec.point.journal), rec.point.offset));
               if (ours != digest) {
                 return Status::Corruption("journal " + std::to_string(rec.point.journal) +
                                           " differs: master digest " + digest + ", ours " + ours);
               }
               return Status::Ok();
             }));
  } else {
    rec.point = node_->upstream_status().flushed;
  }

  TANDEM_RETURN_IF_ERROR(
      Step("apply", "stopping journalcopy; applying everything up to " + rec.point.Token(),
           [&]() -> Status {
             undo_.emplace_back("replication restarted", [this] { return node_->Restart(); });
             Position applied = node_->StopAndApplyTo(rec.point);
             if (applied < rec.point) {
               return Status::IOError("applied only to " + applied.Token() + " (see the log)");
             }
             return Status::Ok();
           }));
  TANDEM_RETURN_IF_ERROR(Step(
      "archive",
      "checking archive content submitted in the last " + std::to_string(options_.verify_secs) +
          " s",
      [&]() -> Status {
        WaitUntil(milliseconds(3000), [&] { return node_->archive_backlog() == 0; });
        ArchiveStore archive(layout.root() + "/archive");
        auto bad =
            VerifyRecentRevisions(node_->tables(), archive, NowSeconds() - options_.verify_secs);
        size_t backlog = node_->archive_backlog();
        if (bad.empty() && backlog == 0) return Status::Ok();
        std::string what = std::to_string(bad.size()) + " recent revision(s) missing or damaged, " +
                           std::to_string(backlog) + " pull -u transfer(s) pending";
        if (!plan.planned) {
          Say("warning", what + " (unplanned: the master cannot supply them now)");
          return Status::Ok();
        }
        return Status::FailedPrecondition(what);
      }));
  auto rename_state = [&]() -> Status {
    if (!PathExists(layout.state())) return Status::Ok();
    TANDEM_RETURN_IF_ERROR(RenameDurably(layout.state(), layout.statepullL()));
    undo_.emplace_back("statepullL renamed back to state",
                       [&layout] { return RenameDurably(layout.statepullL(), layout.state()); });
    return Status::Ok();
  };
  TANDEM_RETURN_IF_ERROR(Step("statepullL", "renaming state to statepullL", rename_state));
  // Without a master to stop, recording the point is the point of no return.
  rec.phase = plan.planned ? FailoverPhase::kPrepared : FailoverPhase::kMasterStopped;
  auto write_point = [&]() -> Status {
    TANDEM_RETURN_IF_ERROR(WriteFailoverRecord(layout, rec));
    undo_.emplace_back("statefailover removed",
                       [&layout] { return RemoveDurably(layout.statefailover()); });
    return Status::Ok();
  };
  TANDEM_RETURN_IF_ERROR(Step("statefailover",
                              "writing statefailover: consistency point " + rec.point.Token(),
                              write_point));
  if (plan.planned) {
    TANDEM_RETURN_IF_ERROR(
        Step("stop-master", "stopping master '" + plan.master_id + "' (the point of no return)",
             [&]() -> Status {
               Status st = plan.master
                               .Call({"failover-master", "stop", rec.standby_id, rec.point.Token()},
                                     kMasterCallTimeout)
                               .status();
               return st.ok() || st.code() == Code::kFailedPrecondition
                          ? st
                          : ResolveStop(st, lease_end, rec.standby_id);
             }));
    rec.phase = FailoverPhase::kMasterStopped;
    undo_.clear();
    // Past the point of no return: a failure from here on is finished at
    // the next start (SettleInterruptedFailover), never rolled back.
    TANDEM_RETURN_IF_ERROR(WriteFailoverRecord(layout, rec));
  }
  undo_.clear();
  TANDEM_RETURN_IF_ERROR(
      Step("promote",
           "promoting journals.rep to the live journal; taking ServerID '" + rec.master_id + "'",
           [&] { return PromoteRoot(layout, &rec); }));
  if (plan.ignored.client) {
    // Split brain by request: at least make the old master stop writing.
    auto told = plan.ignored.Call(
        {"failover-master", "newer", std::to_string(rec.old_epoch + 1), rec.standby_id},
        kMasterCallTimeout);
    Say(told.ok() ? "info" : "warning",
        told.ok() ? "the old master was told it is stale and refuses writes"
                  : "the old master could not be told it is stale: " + told.status().message());
  }
  return Status::Ok();
}

FailoverReport Failover::Run() {
  report_ = {};
  Plan plan = Check();
  if (!options_.execute || !plan.ok) {
    report_.ok = plan.ok;
    Say("result", plan.ok ? "failover -y would run these steps"
                          : "failover cannot run until the errors above are addressed");
    return std::move(report_);
  }
  Status st = Execute(plan);
  if (!st.ok()) {
    Say("error", st.message());
    bool rolled_back = !undo_.empty() || report_.record.phase == FailoverPhase::kPrepared;
    RollBack();
    Say("result", rolled_back || report_.record.phase < FailoverPhase::kMasterStopped
                      ? "failover did not succeed and was rolled back: " + st.message()
                      : "failover passed the point of no return but did not finish (" +
                            st.message() + "); it finishes when this server restarts");
    return std::move(report_);
  }
  report_.ok = true;
  Say("result", "failover complete: '" + report_.record.standby_id + "' is now master '" +
                    report_.record.master_id + "'");
  return std::move(report_);
}

}  // namespace tandem
