// Rows for the replication status commands (pull -lj, servers -J,
// journaldbchecksums -s), shared by master and downstream servers.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "replica/hub.h"
#include "replica/journal_copier.h"
#include "replica/pull_applier.h"
#include "transport/message.h"

namespace tandem {

// The size of the master's journal N, if it is known. Only the master knows
// them all: a downstream server's copy of a journal may be partial, and the
// journals it has not copied yet are not there.
using JournalSizes = std::function<std::optional<uint64_t>(uint32_t)>;
JournalSizes RotatedJournalSizes(const RootLayout& layout);  // a master's journals/
JournalSizes NoJournalSizes();                               // a downstream server

// Bytes from `behind` to `ahead`; nullopt when a journal between them cannot
// be measured (then only the journal count says how far).
std::optional<uint64_t> BytesBetween(Position ahead, Position behind, const JournalSizes& sizes);
uint32_t JournalsBetween(Position ahead, Position behind);
// The p-th percentile of lag samples (LagStats), in µs; nullopt without samples.
std::optional<uint32_t> LagPercentileUs(std::vector<uint32_t> samples, double p);

// "-" (null in --json) when BytesBetween does not know.
Row PullStatusRow(const std::string& server_id, const CopierStatus& up, Position applied);
std::vector<Row> ChecksumRows(const ChecksumReport& report);
// servers -J: the master's own row, then one per downstream server, all
// with the same keys.
Row MasterSelfRow(const std::string& server_id, Position durable, Position release);
Row DownstreamRow(const DownstreamStatus& d, Position durable, Position release,
                  const JournalSizes& sizes);

}  // namespace tandem
