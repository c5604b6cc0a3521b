#include "failover/rejoin.h"

#include <fcntl.h>
#include <unistd.h>

#include <map>

#include "failover/failover_state.h"
#include "journal/file.h"
#include "journal/log.h"
#include "journal/numbers.h"
#include "journal/reader.h"
#include "journal/root_layout.h"
#include "journal/server_identity.h"
#include "replica/failover_history.h"
#include "replica/journal_copier.h"
#include "replica/local_config.h"
#include "replica/state_file.h"

namespace tandem {
namespace {

// The failover that ended this root's history, as the new master records
// it: the first that took over from `id` after `ours`, the newest epoch this
// root wrote or copied. (Later ones took over from servers that carried the
// same ServerID after it, at points past anything it holds.)
Result<FailoverHistoryEntry> AskFailoverPoint(const RootLayout& layout, const std::string& target,
                                              const std::string& id, Epoch ours) {
  TANDEM_ASSIGN_OR_RETURN(Address address, Address::Parse(target));
  UpstreamOptions up = UpstreamFor(layout, address);
  TANDEM_ASSIGN_OR_RETURN(UpstreamConnection conn, ConnectUpstream(up));
  TANDEM_ASSIGN_OR_RETURN(Response info, conn.client->Call({up.user, conn.ticket, {"info"}}));
  if (!info.status.ok()) return info.status;
  if (info.rows.empty() || FieldOf(info.rows[0], "role") != "standard") {
    return Status::FailedPrecondition(target + " is not a master");
  }
  TANDEM_ASSIGN_OR_RETURN(
      Response rows,
      conn.client->Call({up.user, conn.ticket, {"scan", std::string(kFailoverTable)}}));
  if (!rows.status.ok()) return rows.status;
  std::optional<FailoverHistoryEntry> ended;
  for (const Row& r : rows.rows) {  // keys sort by epoch
    std::string_view key = FieldOf(r, "key");
    auto epoch = ParseDecimal<uint32_t>(key.substr(std::min<size_t>(key.size(), 6)));
    auto entry = ParseFailoverHistory(Epoch{epoch.value_or(0)}, FieldOf(r, "value"));
    if (entry.ok() && entry->master_id == id && entry->epoch.value > ours.value &&
        (!ended || entry->epoch.value < ended->epoch.value)) {
      ended = *entry;
    }
  }
  if (!ended) {
    return Status::NotFound("the master at " + target + " has no record of a failover from '" + id +
                            "' after epoch " + std::to_string(ours.value) +
                            ", the newest this root holds");
  }
  return *ended;
}

// The ServerID this root rejoins as: that of the standby that took over
// from it. Usually the failover that ended its history says so. But a
// forced failover may begin above epochs its standby never held (another
// standby had taken over meanwhile, tandem-chaos seed 21): then the master's
// history jumps past ours, and the standby that took over from this root is
// the one of the skipped epoch, which only this root's fence can name;
// taking the later one's ID would give two servers one ServerID, and the
// mandatory standby's ID to none.
Result<std::string> RejoinedId(const ServerIdentity& identity, Epoch ours,
                               const FailoverHistoryEntry& ended, const std::string& target) {
  if (ended.epoch.value <= ours.value + 1) return ended.standby_id;
  // The one that fenced us began that epoch itself (a failover that started
  // above epochs it heard of): as without a gap.
  if (identity.fenced_for == ended.standby_id) return ended.standby_id;
  // A fence written before fenced-epoch existed came only from a stop or an
  // ignore, at the epoch after ours.
  const uint32_t fenced_epoch = identity.fenced_epoch == 0 ? ours.value + 1 : identity.fenced_epoch;
  if (!identity.fenced_for.empty() && fenced_epoch > ours.value &&
      fenced_epoch < ended.epoch.value) {
    LogWarning() << "rejoin: the master's history goes from epoch " << ours.value << " to "
                 << ended.epoch.value << " (a forced failover above epochs it never held); '"
                 << identity.fenced_for << "' took over from this root at epoch " << fenced_epoch
                 << ", so this root rejoins as '" << identity.fenced_for << "'";
    return identity.fenced_for;
  }
  return Status::FailedPrecondition(
      "the master at " + target + " records no failover from epoch " + std::to_string(ours.value) +
      ", the newest this root holds, but one into epoch " + std::to_string(ended.epoch.value) +
      " (a forced failover above epochs it never held), and " +
      "this root's server.id does not say which standby took over from it: rejoining as '" +
      ended.standby_id + "' could give two servers one ServerID. Reseed this root as a new " +
      "standby instead (a fresh root with target=" + target + ")");
}

}  // namespace

Result<RejoinReport> Rejoin(const std::string& root, const std::string& target) {
  RootLayout layout(root);
  TANDEM_ASSIGN_OR_RETURN(RootLock lock, RootLock::Acquire(layout));
  TANDEM_ASSIGN_OR_RETURN(ServerIdentity identity, ReadServerIdentity(layout));
  if (identity.id.empty()) return Status::FailedPrecondition(root + " has no ServerID");
  // This root's journals by number (the live one's number is in its header).
  std::map<uint32_t, std::string> journals;
  TANDEM_ASSIGN_OR_RETURN(auto rotated, layout.ListRotated());
  for (uint32_t n : rotated) journals[n] = layout.rotated_journal(n);
  if (PathExists(layout.live_journal())) {
    TANDEM_ASSIGN_OR_RETURN(JournalSummary live,
                            ScanJournal(layout.live_journal(), TailPolicy::kReportOnly, nullptr));
    journals[live.journal] = layout.live_journal();
  }
  // Epochs only grow: the newest journal with records holds ours.
  Epoch ours{0};
  for (auto it = journals.rbegin(); it != journals.rend(); ++it) {
    TANDEM_ASSIGN_OR_RETURN(JournalSummary sum,
                            ScanJournal(it->second, TailPolicy::kReportOnly, nullptr));
    ours = sum.max_epoch;
    if (sum.records > 0) break;
  }
  TANDEM_ASSIGN_OR_RETURN(FailoverHistoryEntry rec,
                          AskFailoverPoint(layout, target, identity.id, ours));
  TANDEM_ASSIGN_OR_RETURN(std::string new_id, RejoinedId(identity, ours, rec, target));
  const Position p = rec.point;

  TANDEM_RETURN_IF_ERROR(CreateDirs(layout.rep_dir()));
  RejoinReport report{p, new_id, 0};
  const std::string orig = root + "/journal.orig.master";
  for (const auto& [n, path] : journals) {
    TANDEM_ASSIGN_OR_RETURN(JournalSummary sum,
                            ScanJournal(path, TailPolicy::kReportOnly, nullptr));
    if (n < p.journal) {
      TANDEM_RETURN_IF_ERROR(RenameDurably(path, layout.rep_journal(n)));
      continue;
    }
    uint64_t keep = n == p.journal ? p.offset : 0;
    if (sum.data_end > keep) {
      TANDEM_RETURN_IF_ERROR(AppendFileRange(orig, path, keep, sum.data_end));
      report.orig_master_bytes += sum.data_end - keep;
    }
    if (keep == 0) {
      TANDEM_RETURN_IF_ERROR(RemoveDurably(path));
      continue;
    }
    {
      TANDEM_ASSIGN_OR_RETURN(File f, File::Open(path, O_RDWR));
      TANDEM_RETURN_IF_ERROR(f.Truncate(keep));
      TANDEM_RETURN_IF_ERROR(f.DataSync());
    }
    TANDEM_RETURN_IF_ERROR(RenameDurably(path, layout.rep_journal(n)));
  }
  // A checkpoint of a journal after the point holds history the new master lacks.
  TANDEM_ASSIGN_OR_RETURN(auto ckps, layout.ListCheckpoints());
  for (uint32_t n : ckps) {
    if (n <= p.journal) continue;
    for (const std::string& f : {layout.checkpoint(n), layout.checkpoint(n) + ".md5"}) {
      if (PathExists(f)) TANDEM_RETURN_IF_ERROR(RenameDurably(f, f + ".orig.master"));
    }
  }
  TANDEM_RETURN_IF_ERROR(WritePositionFile(layout.statejcopy(), p));
  TANDEM_RETURN_IF_ERROR(WritePositionFile(layout.state(), p));
  TANDEM_RETURN_IF_ERROR(RemoveDurably(root + "/staterelease"));
  TANDEM_RETURN_IF_ERROR(RemoveDurably(layout.clean_end()));  // its live journal is gone
  TANDEM_RETURN_IF_ERROR(RemoveDurably(layout.statefailover()));
  TANDEM_RETURN_IF_ERROR(WriteServerIdentity(layout, {.id = new_id}));
  TANDEM_RETURN_IF_ERROR(SetLocalConfig(layout, "target", target));
  if (report.orig_master_bytes > 0) {
    LogWarning() << "rejoin: " << report.orig_master_bytes << " bytes of journal past the failover "
                 << "point " << p.Token() << " were never on the new master; kept in " << orig;
  }
  return report;
}

}  // namespace tandem
