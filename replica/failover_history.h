// The replicated `failover` table: where each epoch began. One row per
// failover, keyed by the epoch it began ("epoch.0000000002"), valued
// "point=N/S master=ID standby=[ID] forced=yes|no": the new master took
// ServerID `master` from standby `standby` at consistency point `point`, the
// first position of the new epoch's history. Every server replicates it;
// rejoin reads it, and a master uses it to tell a downstream server that
// copied (or applied) past a failover point what to do.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "journal/position.h"
#include "journal/status.h"
#include "journal/table_set.h"

namespace tandem {

inline constexpr std::string_view kFailoverTable = "failover";

struct FailoverHistoryEntry {
  Epoch epoch;  // the epoch that began here
  Position point;
  std::string master_id;
  std::string standby_id;
  bool forced = false;  // a non-mandatory standby: later writes may be missing
  // The old master took part. Rows written before this field existed
  // read as unplanned.
  bool planned = false;
};

std::string FailoverHistoryKey(Epoch epoch);
// "failover (epoch N)": the id every server's log lines about the failover
// that began epoch N carry (the standby's, the old master's, the others').
std::string FailoverId(Epoch began);
std::string FormatFailoverHistory(const FailoverHistoryEntry& entry);
Result<FailoverHistoryEntry> ParseFailoverHistory(Epoch epoch, std::string_view value);
// The failover that began `epoch`, if the tables record it.
std::optional<FailoverHistoryEntry> FailoverThatBegan(const Tables& tables, Epoch epoch);
// The first failover after `held`, up to `newest` (epochs may be skipped).
std::optional<FailoverHistoryEntry> FailoverAfter(const Tables& tables, Epoch held, Epoch newest);

}  // namespace tandem
