#include "tools/offline.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>

#include "journal/checkpoint.h"
#include "journal/engine.h"
#include "journal/file.h"
#include "journal/reader.h"
#include "journal/server_identity.h"
#include "replica/downstream_checkpoint.h"
#include "replica/downstream_recovery.h"
#include "replica/local_config.h"
#include "tools/progress.h"
#include "transport/auth.h"

namespace tandem {
namespace {

uint64_t FileSizeOr0(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

// A root with a local target is a standby's or replica's: its data is the
// master's, and a change made here would go into a private journal nobody
// replicates.
Status RefuseDownstream(const std::string& root, const std::string& what) {
  auto local = ReadLocalConfig(RootLayout(root));
  if (local.count("target") == 0) return Status::Ok();
  return Status::FailedPrecondition(root + " is a standby or replica of " + local["target"] + ": " +
                                    what);
}

Result<std::unique_ptr<Engine>> OpenRoot(const std::string& root) {
  TANDEM_RETURN_IF_ERROR(RefuseDownstream(
      root, "make the change on the master ('tandem -p MASTER ...'); it replicates here"));
  auto engine = Engine::Open({root, std::nullopt});
  if (!engine.ok()) return engine.status().Annotate("opening root " + root);
  return engine;
}

Status CopyFile(const std::string& from, const std::string& to) {
  std::error_code ec;
  std::filesystem::copy_file(from, to, std::filesystem::copy_options::overwrite_existing, ec);
  if (ec) return Status::IOError("copy " + from + " -> " + to + ": " + ec.message());
  TANDEM_ASSIGN_OR_RETURN(File f, File::Open(to, O_RDONLY));
  return f.Sync();
}

}  // namespace

Status OfflineSetConfig(const std::string& root, const std::string& assignment) {
  auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) {
    return Status::InvalidArgument("-cset expects [SERVERID#]NAME=VALUE, got '" + assignment + "'");
  }
  std::string name = assignment.substr(0, eq), value = assignment.substr(eq + 1);
  const SettingDef* def = FindSetting(name);
  if (def && def->scope == SettingScope::kLocal) {
    TANDEM_RETURN_IF_ERROR(CheckLocalSetting(name, value));
    TANDEM_RETURN_IF_ERROR(SetLocalConfig(RootLayout(root), name, value));
    std::cout << "set " << name << " in " << RootLayout(root).local_config() << "\n";
    return Status::Ok();
  }
  TANDEM_RETURN_IF_ERROR(CheckReplicatedSetting(name, value));
  TANDEM_ASSIGN_OR_RETURN(auto engine, OpenRoot(root));
  auto pos = engine->Commit({{Op::Put(std::string(kConfigTable), name, value)}});
  if (!pos.ok()) return pos.status();
  std::cout << "set " << assignment << " at " << pos->ToString() << "\n";
  return Status::Ok();
}

Status OfflineCheckpoint(const std::string& root) {
  if (!RefuseDownstream(root, "").ok()) {
    RootLayout layout(root);
    TANDEM_ASSIGN_OR_RETURN(RootLock lock, RootLock::Acquire(layout));
    TANDEM_ASSIGN_OR_RETURN(DownstreamState state, RecoverDownstream(layout));
    TANDEM_ASSIGN_OR_RETURN(CheckpointInfo info, CheckpointDownstream(layout, state.applied));
    std::cout << "checkpoint " << info.path << " (" << info.rows << " rows, " << info.bytes
              << " bytes) of this standby's copies: the state at the start of journal "
              << info.journal << "\n";
    return Status::Ok();
  }
  TANDEM_ASSIGN_OR_RETURN(auto engine, OpenRoot(root));
  Progress progress = Progress::OnStderr("checkpoint", 0);
  TANDEM_ASSIGN_OR_RETURN(CheckpointInfo info, engine->Checkpoint());
  std::cout << "checkpoint " << info.path << " (" << info.rows << " rows, " << info.bytes
            << " bytes); journal " << info.journal << " is now live\n";
  progress.Update(info.bytes);
  progress.Finish();
  return Status::Ok();
}

Status OfflineRestore(const std::string& root, const std::string& checkpoint,
                      const std::vector<std::string>& journals) {
  RootLayout layout(root);
  TANDEM_RETURN_IF_ERROR(layout.EnsureDirs());
  TANDEM_ASSIGN_OR_RETURN(bool empty, layout.IsEmpty());
  if (!empty) {
    return Status::FailedPrecondition("-jr restores into an empty root only; " + root +
                                      " already holds journals or checkpoints");
  }
  // Verify everything before copying anything.
  TANDEM_ASSIGN_OR_RETURN(LoadedCheckpoint ckp, ReadCheckpoint(checkpoint));
  uint32_t next = ckp.meta.journal;
  std::vector<std::pair<std::string, JournalSummary>> checked;
  for (size_t i = 0; i < journals.size(); ++i) {
    bool last = i + 1 == journals.size();
    TANDEM_ASSIGN_OR_RETURN(
        JournalSummary sum,
        ScanJournal(journals[i], last ? TailPolicy::kReportOnly : TailPolicy::kStrict, nullptr));
    if (sum.journal != next) {
      return Status::InvalidArgument(journals[i] + " is journal " + std::to_string(sum.journal) +
                                     ", but journal " + std::to_string(next) + " comes next");
    }
    if (!sum.rotated_to && !last) {
      return Status::InvalidArgument(journals[i] + " is not rotated, so it must be given last");
    }
    next = sum.rotated_to.value_or(next);
    checked.emplace_back(journals[i], sum);
  }
  uint64_t total = FileSizeOr0(checkpoint);
  for (const auto& [path, sum] : checked) total += FileSizeOr0(path);
  Progress progress = Progress::OnStderr("restore", total);
  std::string ckp_dest = layout.checkpoint(ckp.meta.journal);
  TANDEM_RETURN_IF_ERROR(CopyFile(checkpoint, ckp_dest));
  TANDEM_RETURN_IF_ERROR(CopyFile(checkpoint + ".md5", ckp_dest + ".md5"));
  uint64_t done = FileSizeOr0(checkpoint);
  progress.Update(done);
  for (const auto& [path, sum] : checked) {
    TANDEM_RETURN_IF_ERROR(CopyFile(
        path, sum.rotated_to ? layout.rotated_journal(sum.journal) : layout.live_journal()));
    progress.Update(done += FileSizeOr0(path));
  }
  TANDEM_RETURN_IF_ERROR(SyncDir(layout.rotated_dir()));
  TANDEM_RETURN_IF_ERROR(SyncDir(layout.checkpoint_dir()));
  TANDEM_ASSIGN_OR_RETURN(auto engine, OpenRoot(root));
  std::cout << "restored " << checkpoint << " and " << journals.size() << " journal(s) into "
            << root << "; now at " << engine->durable().ToString() << "\n";
  progress.Finish();  // copied, and replayed by opening the root
  return Status::Ok();
}

Status OfflineValidate(const std::string& root) {
  RootLayout layout(root);
  Status first_bad;
  auto report = [&](const std::string& path, const Status& st) {
    if (st.ok()) {
      std::cout << "ok   " << path << "\n";
    } else {
      std::cout << "BAD  " << path << ": " << st.message() << "\n";
      if (first_bad.ok()) first_bad = st;
    }
  };
  TANDEM_ASSIGN_OR_RETURN(auto ckps, layout.ListCheckpoints());
  for (uint32_t n : ckps)
    report(layout.checkpoint(n), ReadCheckpoint(layout.checkpoint(n)).status());
  TANDEM_ASSIGN_OR_RETURN(auto rotated, layout.ListRotated());
  for (uint32_t n : rotated) {
    auto sum = ScanJournal(layout.rotated_journal(n), TailPolicy::kStrict, nullptr);
    Status st = sum.status();
    if (sum.ok() && sum->journal != n) {
      st = Status::Corruption("header says journal " + std::to_string(sum->journal));
    } else if (sum.ok() && !sum->rotated_to) {
      st = Status::Corruption("does not end in a rotation record");
    }
    report(layout.rotated_journal(n), st);
  }
  if (PathExists(layout.live_journal())) {
    auto sum = ScanJournal(layout.live_journal(), TailPolicy::kReportOnly, nullptr);
    report(layout.live_journal(), sum.status());
    if (sum.ok() && sum->torn_bytes > 0) {
      std::cout << "note " << layout.live_journal() << ": torn tail of " << sum->torn_bytes
                << " bytes at offset " << sum->data_end << " will be cut at start-up\n";
    }
  }
  return first_bad;
}

Status OfflineAddUser(const std::string& root, const std::string& name, const std::string& level,
                      const std::string& password) {
  auto parsed = ParseAccessLevel(level);
  if (!parsed) return Status::InvalidArgument("unknown level '" + level + "'");
  TANDEM_ASSIGN_OR_RETURN(auto engine, OpenRoot(root));
  TANDEM_ASSIGN_OR_RETURN(Transaction txn,
                          MakeUserTransaction(engine->tables(), name, *parsed, password));
  auto pos = engine->Commit(std::move(txn));
  if (!pos.ok()) return pos.status();
  std::cout << "user " << name << " (" << level << ") added\n";
  return Status::Ok();
}

Status OfflineSetServerId(const std::string& root, const std::string& id) {
  if (id.empty() || id.find_first_of(" \t\n#") != std::string::npos) {
    return Status::InvalidArgument("bad server id '" + id + "'");
  }
  RootLayout layout(root);
  TANDEM_RETURN_IF_ERROR(layout.EnsureDirs());
  // A new ServerID (rejoining under another name) also clears a fence.
  TANDEM_RETURN_IF_ERROR(WriteServerIdentity(layout, {.id = id}));
  std::cout << "server id " << id << "\n";
  return Status::Ok();
}

Status OfflineClearFence(const std::string& root) {
  RootLayout layout(root);
  TANDEM_ASSIGN_OR_RETURN(ServerIdentity identity, ReadServerIdentity(layout));
  if (identity.fence.empty()) {
    std::cout << root << " is not fenced\n";
    return Status::Ok();
  }
  std::string was = identity.fence;
  identity.fence.clear();
  TANDEM_RETURN_IF_ERROR(WriteServerIdentity(layout, identity));
  std::cout << "fence cleared (it said: " << was << ")\n";
  return Status::Ok();
}

}  // namespace tandem
