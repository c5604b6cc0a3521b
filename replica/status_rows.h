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

// The size of journal N (rotated, or copied), if it is known.
using JournalSizes = std::function<std::optional<uint64_t>(uint32_t)>;
JournalSizes RotatedJournalSizes(const RootLayout& layout);  // a master's journals/
JournalSizes CopiedJournalSizes(const RootLayout& layout);   // a standby's journals.rep/

// Bytes from `behind` to `ahead`, counting whole journals between them
// (a size not known counts as 0).
uint64_t BytesBetween(Position ahead, Position behind, const JournalSizes& sizes);

Row PullStatusRow(const std::string& server_id, const CopierStatus& up, Position applied,
                  const JournalSizes& sizes);
std::vector<Row> ChecksumRows(const ChecksumReport& report);
// servers -J: the master's own row, then one per downstream server, all
// with the same keys.
Row MasterSelfRow(const std::string& server_id, Position durable, Position release);
Row DownstreamRow(const DownstreamStatus& d, Position durable, Position release,
                  const JournalSizes& sizes);

}  // namespace tandem
