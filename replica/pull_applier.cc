#include "replica/pull_applier.h"

#include <map>

#include "journal/fault_point.h"
#include "journal/log.h"
#include "journal/markers.h"
#include "journal/reader.h"
#include "journal/recovery.h"
#include "replica/state_file.h"

namespace tandem {

std::vector<ChecksumVerdict> CompareChecksums(const std::vector<TableChecksum>& expected,
                                              const std::vector<TableChecksum>& actual) {
  std::map<std::string, ChecksumVerdict> by_table;
  for (const auto& e : expected) {
    auto& v = by_table[e.table];
    v.table = e.table;
    v.expected = e.checksum;
    v.expected_rows = e.rows;
  }
  for (const auto& a : actual) {
    auto& v = by_table[a.table];
    v.table = a.table;
    v.actual = a.checksum;
    v.actual_rows = a.rows;
  }
  std::vector<ChecksumVerdict> out;
  for (auto& [name, v] : by_table) {
    v.match = v.expected == v.actual && v.expected_rows == v.actual_rows;
    out.push_back(v);
  }
  return out;
}

PullApplier::PullApplier(RootLayout layout, Tables* tables, Position applied, Observer observer)
    : layout_(std::move(layout)),
      tables_(tables),
      observer_(std::move(observer)),
      applied_(applied),
      persisted_(applied) {}

PullApplier::~PullApplier() { Stop(); }

void PullApplier::Start() {
  thread_ = std::thread([this] { Run(); });
}

void PullApplier::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mu_);
  if (applied_ != persisted_ && WritePositionFile(layout_.state(), applied_).ok()) {
    persisted_ = applied_;
  }
}

void PullApplier::SetLimit(Position flushed, Position release) {
  {
    std::lock_guard lock(mu_);
    limit_ = std::max(limit_, std::min(flushed, release));
  }
  cv_.notify_all();
}

Position PullApplier::applied() const {
  std::lock_guard lock(mu_);
  return applied_;
}

Position PullApplier::limit() const {
  std::lock_guard lock(mu_);
  return limit_;
}

bool PullApplier::WaitApplied(Position to, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return progress_cv_.wait_for(lock, timeout, [&] { return to <= applied_; });
}

std::string PullApplier::last_error() const {
  std::lock_guard lock(mu_);
  return last_error_;
}

ChecksumReport PullApplier::last_checksums() const {
  std::lock_guard lock(mu_);
  return checksums_;
}

void PullApplier::Run() {
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(500),
                   [&] { return stopping_ || applied_ < limit_; });
      if (stopping_) return;
      if (!(applied_ < limit_)) continue;
    }
    Status st = ApplyAvailable();
    std::unique_lock lock(mu_);
    if (!st.ok() && st.message() != last_error_) LogError() << "pull -L: " << st.message();
    last_error_ = st.ok() ? "" : st.message();
    // When the bytes are flushed but not yet readable, or damaged, try again
    // shortly rather than spin.
    if (!st.ok() || applied_ < limit_) {
      cv_.wait_for(lock, std::chrono::milliseconds(st.ok() ? 1 : 1000), [&] { return stopping_; });
    }
  }
}

Status PullApplier::ApplyAvailable() {
  Position applied = this->applied();
  Position limit = this->limit();
  TANDEM_ASSIGN_OR_RETURN(
      JournalReader reader,
      JournalReader::Open(layout_.rep_journal(applied.journal), applied.offset));
  Record rec;
  while (applied < limit) {
    TANDEM_ASSIGN_OR_RETURN(JournalReader::Step step, reader.Next(&rec));
    if (step != JournalReader::Step::kRecord) {
      if (applied.journal < limit.journal) {
        return Status::Corruption(layout_.rep_journal(applied.journal) + ": offset " +
                                  std::to_string(applied.offset) + ": " + reader.stop_reason() +
                                  " before the journal's end");
      }
      return Status::Ok();  // bytes flushed but not yet visible: next round
    }
    Position end{applied.journal, reader.offset()};
    if (limit < end) return Status::Ok();  // past release: wait
    if (rec.type == RecordType::kTransaction) {
      TANDEM_ASSIGN_OR_RETURN(Transaction txn, DecodeTransaction(rec.payload));
      // Armed with `error`, a test's replica drops one transaction: the
      // divergence journaldbchecksums -s exists to find.
      if (TANDEM_FAULT_STATUS("pull-L.skip-transaction").ok()) {
        tables_->Apply(txn);
        if (observer_) observer_(txn, end);
      }
    } else if (rec.type == RecordType::kChecksumMarker) {
      TANDEM_ASSIGN_OR_RETURN(auto expected, DecodeChecksumMarker(rec.payload));
      ChecksumReport report{end, CompareChecksums(expected, tables_->Checksums())};
      for (const auto& v : report.tables) {
        if (v.match) {
          LogInfo() << "journaldbchecksums at " << end.ToString() << ": table " << v.table
                    << " match";
        } else {
          LogError() << "journaldbchecksums at " << end.ToString() << ": table " << v.table
                     << " checksums DIFFER: expected " << v.expected << " (" << v.expected_rows
                     << " rows), actual " << v.actual << " (" << v.actual_rows << " rows)";
        }
      }
      std::lock_guard lock(mu_);
      checksums_ = std::move(report);
    }
    applied = end;
    if (rec.type == RecordType::kRotation) {
      auto next = DecodeJournalNumber(rec.payload);
      if (!next.ok()) return next.status();
      applied = Position{*next, 0};
      TANDEM_ASSIGN_OR_RETURN(reader, JournalReader::Open(layout_.rep_journal(applied.journal), 0));
    }
    std::lock_guard lock(mu_);
    applied_ = applied;
    progress_cv_.notify_all();
    if (applied_.journal != persisted_.journal ||
        applied_.offset >= persisted_.offset + (1u << 20)) {
      if (WritePositionFile(layout_.state(), applied_).ok()) persisted_ = applied_;
    }
  }
  return Status::Ok();
}

}  // namespace tandem
