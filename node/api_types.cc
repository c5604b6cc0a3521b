#include "node/api_types.h"

#include "journal/log.h"

namespace tandem {

static_assert(static_cast<int>(ErrorCode::kUnconfirmed) == static_cast<int>(kLastCode),
              "ErrorCode mirrors Code, value for value");
static_assert(static_cast<int>(LogSeverity::kError) == static_cast<int>(LogLevel::kError),
              "LogSeverity mirrors LogLevel, value for value");

const char* Version() { return TANDEM_VERSION; }

std::string_view Outcome::code_name() const { return CodeName(static_cast<Code>(code_)); }

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kMaster:
      return "master";
    case Role::kFencedMaster:
      return "fenced";
    case Role::kDownstream:
      return "downstream";
    case Role::kStopped:
      return "stopped";
  }
  return "?";
}

Outcome ToOutcome(const Status& status) {
  if (status.ok()) return {};
  return Outcome(static_cast<ErrorCode>(status.code()), status.message());
}

JournalPosition ToPublic(Position position) { return {position.journal, position.offset}; }

AppliedTransaction ToPublic(const Transaction& txn, Position end) {
  AppliedTransaction out;
  out.end = ToPublic(end);
  out.writes.reserve(txn.ops.size());
  for (const Op& op : txn.ops) {
    out.writes.push_back(op.kind == Op::Kind::kPut ? Write::Put(op.table, op.key, op.value)
                                                   : Write::Delete(op.table, op.key));
  }
  return out;
}

Transaction ToTransaction(const std::vector<Write>& writes) {
  Transaction txn;
  txn.ops.reserve(writes.size());
  for (const Write& w : writes) {
    txn.ops.push_back(w.kind == Write::Kind::kPut ? Op::Put(w.table, w.key, w.value)
                                                  : Op::Delete(w.table, w.key));
  }
  return txn;
}

void SetLogSink(
    std::function<void(LogSeverity, std::string_view server_id, std::string_view message)> sink) {
  if (!sink) return RedirectLog(nullptr);
  RedirectLog([sink = std::move(sink)](LogLevel level, std::string_view id, std::string_view line) {
    // The host's logger may throw; nothing may leave the logging call.
    try {
      sink(static_cast<LogSeverity>(level), id, line);
    } catch (...) {
    }
  });
}

}  // namespace tandem
