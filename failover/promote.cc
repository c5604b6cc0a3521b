#include "failover/promote.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <thread>

#include "failover/stop_resolution.h"
#include "journal/file.h"
#include "journal/log.h"
#include "journal/server_identity.h"
#include "replica/failover_history.h"
#include "replica/journal_copier.h"
#include "replica/local_config.h"
#include "replica/server_spec.h"

extern char** environ;

namespace tandem {
namespace {

Status MakeLive(const RootLayout& layout, uint32_t n, uint64_t end, DirectoryBatch* dirs) {
  std::string from = layout.rep_journal(n);
  {
    TANDEM_ASSIGN_OR_RETURN(File f, File::Open(from, O_RDWR));
    TANDEM_RETURN_IF_ERROR(f.Truncate(end));
    TANDEM_RETURN_IF_ERROR(f.DataSync());
  }
  return dirs->Rename(from, layout.live_journal());
}

// Runs the failed-over trigger without waiting for it (a DNS update may be slow).
void RunTrigger(const std::string& command, std::vector<std::string> env) {
  for (char** e = environ; *e; ++e) env.emplace_back(*e);
  std::vector<char*> envp;
  for (auto& s : env) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string sh = "/bin/sh", c = "-c", cmd = command;
  char* argv[] = {sh.data(), c.data(), cmd.data(), nullptr};
  pid_t pid;
  if (int err = posix_spawn(&pid, "/bin/sh", nullptr, nullptr, argv, envp.data()); err != 0) {
    LogError() << "failed-over trigger '" << command << "' did not start: " << strerror(err);
    return;
  }
  std::thread([pid, command] {
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      LogWarning() << "failed-over trigger '" << command << "' failed (status " << status << ")";
    } else {
      LogInfo() << "failed-over trigger '" << command << "' done";
    }
  }).detach();
}

}  // namespace

Status PromoteRoot(const RootLayout& layout, FailoverRecord* rec) {
  TANDEM_RETURN_IF_ERROR(layout.EnsureDirs());
  const Position p = rec->point;
  // Every step below is done again if a crash cuts them short (the phase
  // stays master-stopped until the end), so they become durable together,
  // before the phase says promoted.
  DirectoryBatch dirs;
  TANDEM_ASSIGN_OR_RETURN(std::vector<uint32_t> copied, layout.ListCopied());
  for (uint32_t n : copied) {
    std::string from = layout.rep_journal(n);
    if (n < p.journal) {
      TANDEM_RETURN_IF_ERROR(dirs.Rename(from, layout.rotated_journal(n)));
    } else if (n == p.journal && p.offset > 0) {
      TANDEM_RETURN_IF_ERROR(MakeLive(layout, n, p.offset, &dirs));
    } else {
      // Past the consistency point: never part of the new history.
      std::string aside = layout.root() + "/journal." + std::to_string(n) + ".past-failover";
      LogWarning() << "promote: " << from << " lies past the failover point " << p.Token()
                   << "; kept aside as " << aside;
      TANDEM_RETURN_IF_ERROR(dirs.Rename(from, aside));
    }
  }
  TANDEM_RETURN_IF_ERROR(WriteServerIdentity(layout, {.id = rec->master_id}, &dirs));
  TANDEM_RETURN_IF_ERROR(SetLocalConfig(layout, "target", "", &dirs));
  TANDEM_RETURN_IF_ERROR(dirs.Remove(layout.statejcopy()));
  TANDEM_RETURN_IF_ERROR(dirs.Remove(layout.clean_end()));  // it described another journal
  TANDEM_RETURN_IF_ERROR(dirs.Sync());
  rec->phase = FailoverPhase::kPromoted;
  TANDEM_RETURN_IF_ERROR(WriteFailoverRecord(layout, *rec));
  LogWarning() << "promote: " << layout.root() << " is now master '" << rec->master_id << "' from "
               << p.Token();
  return Status::Ok();
}

namespace {

Status RollBackInterrupted(const RootLayout& layout, const FailoverRecord* rec) {
  if (PathExists(layout.statepullL())) {
    TANDEM_RETURN_IF_ERROR(RenameDurably(layout.statepullL(), layout.state()));
  }
  if (rec) {
    TANDEM_RETURN_IF_ERROR(RemoveDurably(layout.statefailover()));
    LogWarning() << "a failover to this server was interrupted before the point of no return: "
                    "rolled back; this server stays a standby of '"
                 << rec->master_id << "'";
    // A planned one may have paused the master: it need not wait for its
    // lease (quiesce + 10 s) to take commits again.
    if (auto target = Address::Parse(rec->master_address); rec->planned && target.ok()) {
      LogWarning() << "told the master at " << rec->master_address
                   << " to resume: " << ResumeMaster(UpstreamFor(layout, *target), rec->standby_id);
    }
  }
  return Status::Ok();
}

// Phase stopping: the stop may have reached the master. Ask it.
Status SettleStopping(const RootLayout& layout, FailoverRecord* rec, const std::string& address) {
  std::string target = rec->master_address;
  if (target.empty()) target = ReadLocalConfig(layout)["target"];
  auto parsed = Address::Parse(target);
  if (!parsed.ok()) return parsed.status().Annotate("the old master's address in statefailover");
  LogWarning() << "a failover to this server was interrupted while stopping master '"
               << rec->master_id << "'; asking it at " << target << " whether it stopped";
  // Until the lease is surely over, and for a few seconds in any case: a
  // restart can come long after it.
  auto deadline =
      std::max(std::chrono::system_clock::time_point(std::chrono::milliseconds(rec->lease_end_ms)) +
                   std::chrono::seconds(1),
               std::chrono::system_clock::now() + std::chrono::seconds(5));
  std::string detail;
  StopOutcome outcome =
      ResolveStop({UpstreamFor(layout, *parsed), rec->standby_id, rec->point, address},
                  /*send_stop=*/false, deadline, &detail);
  if (outcome == StopOutcome::kNotStopped) {
    LogWarning() << "the old master did not stop (" << detail << ")";
    return RollBackInterrupted(layout, rec);
  }
  if (outcome == StopOutcome::kNoAnswer && !rec->mandatory) {
    LogError() << "the old master '" << rec->master_id << "' did not answer (" << detail
               << "). This standby is not mandatory, so it cannot tell whether the master "
                  "acknowledged writes it lacks: it stays a standby. If the master is stopped "
                  "(its server.id says it failed over to '"
               << rec->standby_id
               << "'), fail over here again with 'tandem failover --force -y' (as it is not "
                  "mandatory, it may lack writes the master acknowledged).";
    return RollBackInterrupted(layout, rec);
  }
  LogWarning() << (outcome == StopOutcome::kStopped
                       ? "the old master had stopped for this server"
                       : "the old master did not answer (" + detail +
                             "); as a mandatory standby this server holds everything it "
                             "acknowledged, so the failover goes on without it");
  if (outcome == StopOutcome::kNoAnswer) rec->tell_address = target;  // if it comes back
  rec->phase = FailoverPhase::kMasterStopped;
  return WriteFailoverRecord(layout, *rec);
}

}  // namespace

Status SettleInterruptedFailover(const RootLayout& layout, const std::string& address) {
  TANDEM_ASSIGN_OR_RETURN(auto rec, ReadFailoverRecord(layout));
  if (!rec || rec->phase == FailoverPhase::kPrepared) {
    return RollBackInterrupted(layout, rec ? &*rec : nullptr);
  }
  if (rec->phase == FailoverPhase::kStopping) {
    TANDEM_RETURN_IF_ERROR(SettleStopping(layout, &*rec, address));
    if (rec->phase != FailoverPhase::kMasterStopped) return Status::Ok();
  }
  if (rec->phase == FailoverPhase::kMasterStopped) {
    LogWarning() << "finishing a failover interrupted after the point of no return";
    return PromoteRoot(layout, &*rec);
  }
  return Status::Ok();
}

Status FinishFailover(Engine* engine, const std::string& address) {
  const RootLayout& layout = engine->layout();
  TANDEM_ASSIGN_OR_RETURN(auto rec, ReadFailoverRecord(layout));
  if (!rec || rec->phase != FailoverPhase::kPromoted) return Status::Ok();
  if (engine->epoch().value <= rec->old_epoch) {
    // Above every epoch the failover heard of, not only those held here.
    TANDEM_ASSIGN_OR_RETURN(Position at,
                            engine->RaiseEpoch(rec->standby_id, Epoch{rec->old_epoch + 1}));
    LogWarning() << "failover: epoch " << engine->epoch().value << " begins at " << at.Token();
  }
  // History every server replicates: where each epoch began, and who took
  // over from whom (rejoin reads it).
  Transaction specs;
  specs.ops.push_back(Op::Put(std::string(kFailoverTable), FailoverHistoryKey(engine->epoch()),
                              FormatFailoverHistory({engine->epoch(), rec->point, rec->master_id,
                                                     rec->standby_id, rec->forced, rec->planned})));
  if (auto old = LoadServerSpec(engine->tables(), rec->standby_id); old && old->mandatory) {
    old->mandatory = false;  // it is this server now; nobody waits for it
    specs.ops.push_back(ServerSpecOp(*old));
  }
  if (auto self = LoadServerSpec(engine->tables(), rec->master_id);
      self && !address.empty() && self->address != address && !address.ends_with(":0")) {
    self->address = address;
    specs.ops.push_back(ServerSpecOp(*self));
  }
  // Before the server listens, so no standby can have confirmed it yet.
  TANDEM_RETURN_IF_ERROR(engine->Commit(std::move(specs), Engine::Wait::kLocal).status());
  if (rec->forced) {
    // Downstream servers that applied past the point reseed from this.
    TANDEM_ASSIGN_OR_RETURN(CheckpointInfo ckp, engine->Checkpoint());
    LogWarning() << "forced failover: checkpoint " << ckp.path
                 << " taken for downstream servers that applied past " << rec->point.Token();
  }
  rec->phase = FailoverPhase::kComplete;
  TANDEM_RETURN_IF_ERROR(WriteFailoverRecord(layout, *rec));
  std::string trigger = engine->Setting("trigger.failed-over");
  if (!trigger.empty()) {
    RunTrigger(
        trigger,
        {"TANDEM_OLD_MASTER=" + rec->master_id, "TANDEM_NEW_MASTER_WAS=" + rec->standby_id,
         "TANDEM_NEW_ADDRESS=" + address, "TANDEM_EPOCH=" + std::to_string(engine->epoch().value)});
  }
  return Status::Ok();
}

}  // namespace tandem
