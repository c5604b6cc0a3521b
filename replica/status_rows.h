// Rows for the replication status commands (pull -lj, servers -J,
// journaldbchecksums -s), shared by master and downstream servers.
#pragma once

#include <string>
#include <vector>

#include "replica/hub.h"
#include "replica/journal_copier.h"
#include "replica/pull_applier.h"
#include "transport/message.h"

namespace tandem {

Row PullStatusRow(const std::string& server_id, const CopierStatus& up, Position applied);
std::vector<Row> ChecksumRows(const ChecksumReport& report);
Row DownstreamRow(const DownstreamStatus& d, Position durable, Position release);

}  // namespace tandem
