#include "journal/writer.h"

#include <fcntl.h>

#include "journal/log.h"
#include "journal/markers.h"

namespace tandem {

Result<std::unique_ptr<JournalWriter>> JournalWriter::Open(const RootLayout& layout,
                                                           const LiveJournalState& state,
                                                           const WriterOptions& options,
                                                           ApplyHook apply, BatchHook on_batch) {
  // From the first write on, a clean stop is no longer the last thing that
  // happened to this journal.
  TANDEM_RETURN_IF_ERROR(RemoveDurably(layout.clean_end()));
  TANDEM_ASSIGN_OR_RETURN(File file, File::Open(layout.live_journal(), O_RDWR));
  return std::unique_ptr<JournalWriter>(new JournalWriter(layout, std::move(file), state, options,
                                                          std::move(apply), std::move(on_batch)));
}

JournalWriter::JournalWriter(const RootLayout& layout, File file, const LiveJournalState& state,
                             const WriterOptions& options, ApplyHook apply, BatchHook on_batch)
    : layout_(layout),
      options_(options),
      apply_(std::move(apply)),
      on_batch_(std::move(on_batch)),
      durable_{state.journal, state.end},
      fsync_(options.fsync),
      file_(std::move(file)),
      journal_(state.journal),
      end_(state.end),
      next_txn_id_(state.next_txn_id),
      epoch_(state.epoch.value) {
  auto size = file_.Size();
  allocated_end_ = size.ok() ? *size : end_;
  thread_ = std::thread([this] { Run(); });
}

JournalWriter::~JournalWriter() { Close(); }

void JournalWriter::Close() {
  {
    MutexLock lock(&mu_);
    closing_ = true;
  }
  cv_.notify_all();
  if (!thread_.joinable()) return;
  thread_.join();
  // Every record written is durable and acknowledged: say so, so that start-up
  // tells damage to the last of them from a torn write.
  MutexLock lock(&mu_);
  if (sticky_error_.ok() && file_.is_open()) {
    Status st = file_.DataSync();  // with journal.fsync=off too: a clean stop is durable
    if (st.ok())
      st = WriteFileDurably(layout_.clean_end(), Position{journal_, end_}.Token() + "\n");
    if (!st.ok()) LogWarning() << "cannot record the clean end of the journal: " << st.message();
  }
}

void JournalWriter::Append(RecordType type, std::string payload, DurableCallback done,
                           Transaction decoded) {
  Enqueue({type, std::move(payload), std::move(done), nullptr, {}, std::move(decoded)});
}

void JournalWriter::AppendComputed(RecordType type, std::function<std::string()> make_payload,
                                   DurableCallback done) {
  Enqueue({type, {}, std::move(done), std::move(make_payload), {}, {}});
}

void JournalWriter::Enqueue(Pending p) {
  p.queued = std::chrono::steady_clock::now();  // outside the lock
  Status refuse;
  {
    MutexLock lock(&mu_);
    if (closing_) {
      refuse = Status::Unavailable("journal is closing");
    } else if (!sticky_error_.ok()) {
      refuse = sticky_error_;
    } else if (p.payload.size() > kMaxPayload) {
      refuse = Status::InvalidArgument("transaction of " + std::to_string(p.payload.size()) +
                                       " bytes exceeds the record limit");
    } else {
      queue_.push_back(std::move(p));
    }
  }
  if (!refuse.ok()) {
    p.done(refuse, Position{});
    return;
  }
  cv_.notify_one();
}

Status JournalWriter::health() const {
  MutexLock lock(&mu_);
  return sticky_error_;
}

Position JournalWriter::durable() const {
  MutexLock lock(&mu_);
  return durable_;
}

Epoch JournalWriter::epoch() const { return Epoch{epoch_.load()}; }
uint64_t JournalWriter::next_txn_id() const { return next_txn_id_.load(); }

void JournalWriter::set_fsync(bool fsync) {
  MutexLock lock(&mu_);
  fsync_ = fsync;
}

void JournalWriter::Run() {
  std::deque<Pending> batch;
  for (;;) {
    {
      MutexLock lock(&mu_);
      while (!closing_ && queue_.empty()) cv_.wait(lock);
      if (queue_.empty()) return;  // closing and drained
      size_t bytes = 0;
      while (!queue_.empty() &&
             (batch.empty() || (bytes + queue_.front().payload.size() <= options_.max_batch_bytes &&
                                !queue_.front().make_payload))) {
        bytes += queue_.front().payload.size();
        bool rotation = queue_.front().type == RecordType::kRotation;
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
        if (rotation) break;  // records after it belong to the next journal
      }
      writing_ = true;
    }
    WriteBatch(&batch);
    batch.clear();
    {
      MutexLock lock(&mu_);
      writing_ = false;
    }
    idle_cv_.notify_all();
  }
}

bool JournalWriter::WaitIdle(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  MutexLock lock(&mu_);
  while (!(queue_.empty() && !writing_)) {
    if (idle_cv_.wait_until(lock, deadline) == std::cv_status::timeout) {
      return queue_.empty() && !writing_;
    }
  }
  return true;
}

Status JournalWriter::EnsureAllocated(uint64_t needed_end) {
  if (needed_end <= allocated_end_) return Status::Ok();
  uint64_t step = options_.prealloc_step;
  uint64_t target = std::max(needed_end, allocated_end_ + step);
  Status st = file_.Allocate(allocated_end_, target - allocated_end_);
  if (st.ok()) allocated_end_ = target;
  return st;
}

void JournalWriter::WriteBatch(std::deque<Pending>* batch) {
  Status sticky;
  bool fsync;
  {
    MutexLock lock(&mu_);
    sticky = sticky_error_;
    fsync = fsync_;
  }
  if (!sticky.ok()) {
    for (auto& p : *batch) p.done(sticky, Position{});
    return;
  }

  // Encode the whole batch; ids are assigned here, in journal order.
  encode_buf_.clear();
  std::vector<uint64_t> ends;
  std::vector<uint64_t> ids;
  ends.reserve(batch->size());
  Epoch epoch{epoch_.load()};
  std::vector<Epoch> epochs;  // a failover record starts the next epoch
  uint64_t id = next_txn_id_.load();
  // Only a synced journal may claim that everything before this batch is on
  // disk (with journal.fsync=off nothing is, and damage anywhere is a tail).
  uint16_t flags = fsync ? kFlagBatchStart : 0;
  for (auto& p : *batch) {
    if (p.type == RecordType::kRotation) p.payload = EncodeJournalNumber(journal_ + 1);
    if (p.make_payload) p.payload = p.make_payload();
    if (p.type == RecordType::kFailover) {
      // The next epoch, or the one its marker names if that is later: a
      // failover past epochs this server never held skips over them.
      auto marker = DecodeFailoverMarker(p.payload);
      epoch = Epoch{std::max(epoch.value + 1, marker.ok() ? marker->new_epoch : 0)};
    }
    ids.push_back(id);
    epochs.push_back(epoch);
    EncodeRecord(p.type, flags, epoch, id++, p.payload, &encode_buf_);
    flags = 0;
    ends.push_back(end_ + encode_buf_.size());
  }

  // Preallocation failing (disk full) is not yet an error: the write itself
  // may still fit. Only the write decides.
  if (options_.prealloc_step > 0) (void)EnsureAllocated(end_ + encode_buf_.size());
  Status st = file_.PWriteAll(encode_buf_, end_);
  if (!st.ok()) {
    // Cut back anything partly written so it can never be replayed.
    Status cut = file_.Truncate(end_);
    if (cut.ok()) cut = file_.DataSync();
    allocated_end_ = end_;
    LogError() << "journal write failed at " << Position{journal_, end_}.ToString() << ": "
               << st.message();
    if (!cut.ok()) {
      MutexLock lock(&mu_);
      sticky_error_ = cut.Annotate("journal cannot be cut back after a failed write");
    }
    for (auto& p : *batch) p.done(st, Position{});
    return;
  }
  if (fsync) {
    auto sync_start = std::chrono::steady_clock::now();
    st = file_.DataSync();
    metrics_.fsync_seconds.ObserveSince(sync_start);
  }
  if (!st.ok()) {
    // The batch was refused to its committers: it must not come back at the
    // next start, and the pages the kernel may have dropped must not be
    // trusted. Cut it off (and sync that), then stop for good.
    Status cut = file_.Truncate(end_);
    if (cut.ok()) cut = file_.DataSync();
    allocated_end_ = end_;
    LogError() << "journal sync failed; refusing all further commits: " << st.message()
               << (cut.ok() ? "" : " (cutting the batch back failed too: " + cut.message() + ")");
    {
      MutexLock lock(&mu_);
      sticky_error_ = st;
    }
    for (auto& p : *batch) p.done(st, Position{});
    return;
  }

  next_txn_id_ = id;
  epoch_ = epoch.value;
  uint32_t journal = journal_;
  end_ = ends.back();
  Record rec;
  for (size_t i = 0; i < batch->size(); ++i) {
    Pending& p = (*batch)[i];
    rec.type = p.type;
    rec.epoch = epochs[i];
    rec.txn_id = ids[i];
    rec.payload = std::move(p.payload);
    if (apply_) {
      apply_(rec, Position{journal, ends[i]}, p.decoded.ops.empty() ? nullptr : &p.decoded);
    }
  }
  Status rotation_status;
  if (batch->back().type == RecordType::kRotation) rotation_status = FinishRotation();
  Position durable{journal_, end_};
  {
    MutexLock lock(&mu_);
    durable_ = durable;
    if (!rotation_status.ok()) sticky_error_ = rotation_status;
  }
  if (on_batch_) on_batch_(durable);
  metrics_.records.Add(batch->size());
  metrics_.batch_records.Observe(static_cast<double>(batch->size()));
  auto durable_at = std::chrono::steady_clock::now();  // one clock read for the whole batch
  for (size_t i = 0; i < batch->size(); ++i) {
    Pending& p = (*batch)[i];
    metrics_.append_seconds.Observe(std::chrono::duration<double>(durable_at - p.queued).count());
    bool is_rotation = p.type == RecordType::kRotation;
    p.done(is_rotation ? rotation_status : Status::Ok(), Position{journal, ends[i]});
  }
}

Status JournalWriter::FinishRotation() {
  TANDEM_RETURN_IF_ERROR(file_.Truncate(end_));
  TANDEM_RETURN_IF_ERROR(file_.Sync());
  TANDEM_RETURN_IF_ERROR(file_.Close());
  TANDEM_RETURN_IF_ERROR(MoveLiveToRotated(layout_, journal_));
  TANDEM_RETURN_IF_ERROR(CreateLiveJournal(layout_, journal_ + 1, Epoch{epoch_.load()}));
  TANDEM_ASSIGN_OR_RETURN(file_, File::Open(layout_.live_journal(), O_RDWR));
  LogInfo() << "rotated journal " << journal_ << " to " << layout_.rotated_journal(journal_);
  ++journal_;
  TANDEM_ASSIGN_OR_RETURN(end_, file_.Size());
  allocated_end_ = end_;
  return Status::Ok();
}

}  // namespace tandem
