// The journal writer: group commit of concurrent appends into the live
// journal.
//
//   committers ──Append()──▶ queue ──▶ writer thread:
//                                        take a batch (≤ max_batch_bytes, ending at a rotation)
//                                        encode, one pwrite, one fdatasync
//                                        apply hook per record, in journal order
//                                        publish the durable position, run callbacks
//
// A committer learns its position only once its record is durable. Space is
// preallocated with fallocate in large steps, because on ext4 fdatasync after
// overwriting allocated space costs far less than after growing the file.
//
// Failure rules:
//  * a write that fails (ENOSPC, EFBIG) fails its batch; the file is cut back
//    to the durable end so no unacknowledged record can be replayed later, and
//    later appends are tried again (space may return);
//  * a failed fdatasync is sticky: the writer refuses all further appends,
//    because the kernel may have dropped the dirty pages.
//
// Rotation (a kRotation append) and its crash windows:
//  1. the rotation record is made durable as the last record of journal N;
//     crash here: recovery sees the live journal end in a rotation record and
//     finishes the rotation;
//  2. the file is truncated to its data and renamed to journals/journal.N;
//     crash here: no live journal, newest rotated one ends in a rotation
//     record; recovery creates journal N+1;
//  3. journal N+1 is created as journal.tmp (header record), fsynced, renamed.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "journal/file.h"
#include "journal/metrics.h"
#include "journal/mutex.h"
#include "journal/position.h"
#include "journal/record.h"
#include "journal/root_layout.h"
#include "journal/transaction.h"

namespace tandem {

struct WriterOptions {
  bool fsync = true;
  uint64_t prealloc_step = 64ull << 20;
  size_t max_batch_bytes = 4u << 20;
};

// Where the live journal stands when the writer takes it over.
struct LiveJournalState {
  uint32_t journal = 1;
  uint64_t end = 0;  // offset just past the last valid record
  uint64_t next_txn_id = 1;
  Epoch epoch;
};

class JournalWriter {
 public:
  using DurableCallback = std::function<void(const Status&, Position)>;
  // Runs on the writer thread for each durable record, in journal order,
  // before the callbacks of its batch; with the transaction the committer
  // queued beside its encoding (null if none), so it need not be decoded
  // again. The hook may move from it.
  using ApplyHook = std::function<void(const Record&, Position end, Transaction* decoded)>;
  // Runs on the writer thread after each durable batch.
  using BatchHook = std::function<void(Position durable)>;

  static Result<std::unique_ptr<JournalWriter>> Open(const RootLayout& layout,
                                                     const LiveJournalState& state,
                                                     const WriterOptions& options, ApplyHook apply,
                                                     BatchHook on_batch);
  ~JournalWriter();
  JournalWriter(const JournalWriter&) = delete;
  JournalWriter& operator=(const JournalWriter&) = delete;

  // Queues a record. For kRotation the payload is filled in by the writer.
  // `decoded`: what `payload` encodes, handed to the apply hook.
  void Append(RecordType type, std::string payload, DurableCallback done, Transaction decoded = {});
  // Queues a record whose payload is computed on the writer thread when every
  // record before it has been applied (e.g. table checksums at that point).
  void AppendComputed(RecordType type, std::function<std::string()> make_payload,
                      DurableCallback done);

  // Waits until everything queued so far is written (or failed); false on
  // timeout.
  bool WaitIdle(std::chrono::milliseconds timeout);

  Position durable() const;
  Epoch epoch() const;
  uint64_t next_txn_id() const;
  void set_fsync(bool fsync);
  const WriterMetrics& metrics() const { return metrics_; }
  // Ok, or why every append is refused from now on (a failed sync).
  Status health() const;
  // Stops after everything queued so far is written (or failed), and records
  // the clean end of the live journal (RootLayout::clean_end).
  void Close();

 private:
  struct Pending {
    RecordType type;
    std::string payload;
    DurableCallback done;
    std::function<std::string()> make_payload;  // starts a batch of its own
    std::chrono::steady_clock::time_point queued;
    Transaction decoded;  // what payload encodes, if the committer gave it
  };

  JournalWriter(const RootLayout& layout, File file, const LiveJournalState& state,
                const WriterOptions& options, ApplyHook apply, BatchHook on_batch);
  void Enqueue(Pending p);
  void Run();
  void WriteBatch(std::deque<Pending>* batch);
  Status EnsureAllocated(uint64_t needed_end);
  Status FinishRotation();

  const RootLayout layout_;
  WriterOptions options_;
  ApplyHook apply_;
  BatchHook on_batch_;

  mutable Mutex mu_;
  CondVar cv_;
  std::deque<Pending> queue_ TANDEM_GUARDED_BY(mu_);
  bool writing_ TANDEM_GUARDED_BY(mu_) = false;  // a batch taken from queue_ is being written
  CondVar idle_cv_;
  bool closing_ TANDEM_GUARDED_BY(mu_) = false;
  Position durable_ TANDEM_GUARDED_BY(mu_);
  bool fsync_ TANDEM_GUARDED_BY(mu_);
  Status sticky_error_ TANDEM_GUARDED_BY(mu_);

  // Owned by the writer thread.
  File file_;
  uint32_t journal_;
  uint64_t end_;
  uint64_t allocated_end_ = 0;
  std::atomic<uint64_t> next_txn_id_;
  std::atomic<uint32_t> epoch_;
  std::string encode_buf_;

  std::thread thread_;
  WriterMetrics metrics_;
};

}  // namespace tandem
