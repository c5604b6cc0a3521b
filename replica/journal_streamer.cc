#include "replica/journal_streamer.h"

#include <fcntl.h>
#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

#include "journal/coding.h"
#include "journal/fault_point.h"
#include "journal/log.h"
#include "journal/markers.h"
#include "journal/record.h"
#include "replica/failover_history.h"
#include "replica/stream_messages.h"

namespace tandem {
namespace {

constexpr int kMaxInFlight = 16;
constexpr size_t kMaxChunk = 4 << 20;

// The journal number in a journal file's header record, or 0.
uint32_t HeaderNumber(const File& f) {
  std::string buf(kRecordHeaderSize + 4, '\0');
  auto n = f.PRead(buf.data(), buf.size(), 0);
  Record rec;
  if (!n.ok() ||
      ParseRecord(std::string_view(buf.data(), *n), &rec).outcome != ParseOutcome::kRecord) {
    return 0;
  }
  auto num = DecodeJournalNumber(rec.payload);
  return num.ok() ? *num : 0;
}

}  // namespace

Result<std::string> TailHash(const std::string& path, uint64_t at) {
  if (at == 0) return std::string("-");
  TANDEM_ASSIGN_OR_RETURN(File f, File::Open(path, O_RDONLY));
  uint64_t from = at > 4096 ? at - 4096 : 0;
  std::string buf(at - from, '\0');
  TANDEM_ASSIGN_OR_RETURN(size_t n, f.PRead(buf.data(), buf.size(), from));
  if (n != buf.size()) return Status::NotFound(path + " is shorter than " + std::to_string(at));
  uint64_t h = XXH3_64bits(buf.data(), buf.size());
  return HexEncode(reinterpret_cast<const unsigned char*>(&h), sizeof h);
}

Result<std::string> MasterJournalPath(const Engine& engine, uint32_t n) {
  // The live journal may be renamed under us by a rotation; the header says
  // which journal a file really is.
  for (const std::string& path :
       {engine.layout().live_journal(), engine.layout().rotated_journal(n)}) {
    auto f = File::Open(path, O_RDONLY);
    if (f.ok() && HeaderNumber(*f) == n) return path;
  }
  return Status::NotFound("journal " + std::to_string(n) + " is no longer retained on this server");
}

namespace {

// The request went past the failover point that began the epoch after the
// one it holds: what it must do about it, if this server knows.
std::optional<Status> AfterAFailover(const StreamOrigin& origin, const StreamRequest& r,
                                     Row* advice) {
  if (r.epoch.value == 0 || !(r.epoch < origin.epoch())) return std::nullopt;
  auto failover = FailoverAfter(origin.tables(), r.epoch, origin.epoch());
  if (!failover || !(failover->point < r.start)) return std::nullopt;
  std::string where = failover->point.Token() + ", where epoch " +
                      std::to_string(failover->epoch.value) + " began on this master";
  if (failover->point < r.applied) {
    *advice = {{"reseed", "auto"}};
    return Status::NeedsReseed("'" + r.id + "' applied up to " + r.applied.Token() + ", past " +
                               where + (failover->forced ? " (a forced failover)" : "") +
                               ": it holds writes this master never had, so it reseeds itself "
                               "from this master's newest checkpoint");
  }
  *advice = {{"cutBack", failover->point.Token()}};
  return Status::Diverged("'" + r.id + "' journalcopied up to " + r.start.Token() + ", past " +
                          where +
                          ": it cuts its copy back to that point (setting the rest "
                          "aside) and continues from there");
}

}  // namespace

Result<ServerSpec> CheckStreamRequest(const StreamOrigin& origin, const StreamRequest& r,
                                      Row* advice) {
  TANDEM_RETURN_IF_ERROR(origin.Serving());
  if (r.id == origin.server_id()) {
    // Its target names this server under another form of its address.
    return Status::InvalidArgument("'" + r.id +
                                   "' asks this server for a journal stream, but it is '" + r.id +
                                   "' itself: its target or SERVERID#target names its own address");
  }
  auto spec = LoadServerSpec(origin.tables(), r.id);
  if (!spec) {
    return Status::PermissionDenied("no server spec for '" + r.id +
                                    "' on the master; create one with 'tandem server -i'");
  }
  if (spec->type == ServerType::kStandard) {
    return Status::PermissionDenied("server '" + r.id +
                                    "' is a standard server, not a standby or replica");
  }
  if (r.secured && spec->user != r.user) {
    return Status::PermissionDenied("user '" + r.user + "' may not replicate as '" + r.id + "': " +
                                    (spec->user.empty()
                                         ? "its spec names no User (add 'User: SERVICEUSER' to it)"
                                         : "its spec names User " + spec->user));
  }
  // A downstream server never follows a master older than what it holds:
  // this one is stale (its probe fences it), and its history is not ours.
  if (origin.is_master() && origin.epoch() < r.epoch) {
    return Status::Fenced("'" + r.id + "' holds epoch " + std::to_string(r.epoch.value) +
                          ", newer than this master's " + std::to_string(origin.epoch().value) +
                          ": this master is stale, and streams nothing to it");
  }
  Position durable = origin.durable();
  if (r.start > durable) {
    if (auto st = AfterAFailover(origin, r, advice)) return *st;
    return Status::Diverged("'" + r.id + "' asks for " + r.start.ToString() +
                            ", past this server's durable position " + durable.ToString() +
                            ": its journal is ahead (diverged)");
  }
  auto path = origin.JournalPath(r.start.journal);
  if (!path.ok()) {
    *advice = {{"reseed", "manual"}};
    return Status::NeedsReseed(
        "'" + r.id + "' is at " + r.start.ToString() +
        ", older than the journals this master retains; run 'tandem admin reseed -y' on it");
  }
  auto ours = TailHash(*path, r.start.offset);
  if (!ours.ok() || *ours != r.tail) {
    if (auto st = AfterAFailover(origin, r, advice)) return *st;
    return Status::Diverged(
        "the journal of '" + r.id + "' differs from journal " + std::to_string(r.start.journal) +
        " here in the 4096 bytes before sequence " + std::to_string(r.start.offset) +
        "; refusing to append to a diverged journal");
  }
  return *spec;
}

JournalStreamer::JournalStreamer(StreamOrigin* origin, std::string server_id, bool release_only,
                                 Position start)
    : origin_(origin), id_(std::move(server_id)), release_only_(release_only), next_(start) {}

void JournalStreamer::Start(std::shared_ptr<FrameSink> sink) {
  sink_ = sink;
  heartbeat_ = std::chrono::milliseconds(SettingNumber(origin_->tables(), "", kCfgHeartbeatMs));
  timeout_ = RplTimeout(origin_->tables(), "");
  last_sent_ = last_ack_ = std::chrono::steady_clock::now();
  origin_->Attach(id_, shared_from_this());
  Pump();
  sink->Post([self = shared_from_this()] { self->Tick(); }, heartbeat_);
}

void JournalStreamer::Tick() {
  auto sink = sink_.lock();
  if (closed_ || !sink) return;
  auto now = std::chrono::steady_clock::now();
  if (in_flight_ > 0 && now - last_ack_ > timeout_) {
    return sink->CloseWith("'" + id_ + "' acknowledged nothing for " +
                           std::to_string(timeout_.count()) + " ms (rpl.timeout.ms)");
  }
  if (now - last_sent_ >= heartbeat_ && in_flight_ < kMaxInFlight) {
    ++in_flight_;
    last_sent_ = now;
    sink->SendFrame(MessageType::kJournalData,
                    EncodeJournalData({next_, sent_durable_, sent_release_, origin_->epoch(), {}}));
  }
  sink->Post([self = shared_from_this()] { self->Tick(); }, heartbeat_);
}

void JournalStreamer::OnPositions() {
  if (auto sink = sink_.lock()) sink->Post([self = shared_from_this()] { self->Pump(); });
}

void JournalStreamer::Close(const std::string& reason) {
  if (auto sink = sink_.lock()) sink->CloseWith(reason);
}

Status JournalStreamer::OnFrame(MessageType type, std::string_view body) {
  if (type != MessageType::kJournalAck) {
    return Status::Corruption("unexpected frame type " + std::to_string(static_cast<int>(type)) +
                              " on a journal stream");
  }
  TANDEM_ASSIGN_OR_RETURN(JournalAck ack, DecodeJournalAck(body));
  if (ack.written > next_) return Status::Corruption("acknowledged bytes that were never sent");
  if (ack.flushed > ack.written || ack.applied > ack.written) {
    return Status::Corruption(
        "acknowledged as flushed or applied bytes it says it has not written");
  }
  // Compared unsigned: a count of 2^31 or more must not pass as negative
  // (found by fuzz_stream_ack).
  if (ack.frames == 0 || ack.frames > static_cast<uint32_t>(in_flight_)) {
    return Status::Corruption("acknowledged frames that were never sent");
  }
  in_flight_ -= static_cast<int>(ack.frames);
  last_ack_ = std::chrono::steady_clock::now();
  origin_->OnAck(id_, ack);
  Pump();
  if ((ack.applied < ack.written || ack.flushed < ack.written || ack.backlog_files > 0) &&
      !refresh_scheduled_) {
    // The downstream applies, and fetches archive content, after it
    // acknowledges; ask again shortly so that servers -J shows where it
    // really is.
    refresh_scheduled_ = true;
    auto sink = sink_.lock();
    if (!sink) return Status::Ok();
    sink->Post(
        [self = shared_from_this()] {
          self->refresh_scheduled_ = false;
          if (self->closed_ || self->in_flight_ >= kMaxInFlight) return;
          auto out = self->sink_.lock();
          if (!out) return;
          ++self->in_flight_;
          out->SendFrame(MessageType::kJournalData, EncodeJournalData({self->next_,
                                                                       self->sent_durable_,
                                                                       self->sent_release_,
                                                                       self->origin_->epoch(),
                                                                       {}}));
        },
        std::chrono::milliseconds(50));
  }
  return Status::Ok();
}

void JournalStreamer::OnClose() {
  // sink_ stays: OnPositions and Close read it from other threads, and it is
  // written once, in Start, before the origin knows of us.
  closed_ = true;
  origin_->Detach(id_, this);
}

Status JournalStreamer::OpenJournal(uint32_t journal) {
  TANDEM_ASSIGN_OR_RETURN(std::string path, origin_->JournalPath(journal));
  TANDEM_ASSIGN_OR_RETURN(file_, File::Open(path, O_RDONLY));
  if (HeaderNumber(file_) != journal) {
    return Status::FailedPrecondition("journal " + std::to_string(journal) +
                                      " moved while opening");
  }
  file_journal_ = journal;
  return Status::Ok();
}

void JournalStreamer::Pump() {
  auto sink = sink_.lock();
  if (closed_ || !sink) return;
  Position durable = origin_->durable();
  Position release = origin_->release();
  Position limit = release_only_ ? release : durable;
  while (in_flight_ < kMaxInFlight && next_ < limit) {
    if (file_journal_ != next_.journal || !file_.is_open()) {
      if (Status st = OpenJournal(next_.journal); !st.ok()) {
        sink->CloseWith("cannot send " + next_.ToString() + " to '" + id_ + "': " + st.message());
        return;
      }
    }
    uint64_t end = limit.offset;
    if (next_.journal < limit.journal) {
      auto size = file_.Size();  // a rotated journal's size is final
      end = size.ok() ? *size : 0;
    }
    if (next_.offset >= end) {
      next_ = Position{next_.journal + 1, 0};
      file_ = File();
      continue;
    }
    // The body is the data header followed by the bytes, read in place.
    size_t want = std::min<uint64_t>(end - next_.offset, kMaxChunk);
#ifdef TANDEM_FAULT_POINTS
    // Tests: this chunk ends 5 bytes short of a record's end, and the stream
    // then sends no more bytes, as if the link died mid-record.
    if (cut_) return;
    if (want > 5 && !TANDEM_FAULT_STATUS("stream.cut-mid-record").ok()) {
      want -= 5;
      cut_ = true;
      LogWarning() << "stream to '" << id_ << "' cut at "
                   << Position{next_.journal, next_.offset + want}.Token() << " (fault point)";
    }
#endif
    std::string body = EncodeJournalDataHeader({next_, durable, release, origin_->epoch(), {}});
    body.resize(kJournalDataHeaderSize + want);
    auto n = file_.PRead(body.data() + kJournalDataHeaderSize, want, next_.offset);
    if (!n.ok() || *n != want) {
      sink->CloseWith("short read of journal " + std::to_string(next_.journal) + " for '" + id_ +
                      "'");
      return;
    }
    next_.offset += *n;
    ++in_flight_;
    sent_durable_ = durable;
    sent_release_ = release;
    last_sent_ = std::chrono::steady_clock::now();
    sink->SendFrame(MessageType::kJournalData, std::move(body));
  }
  // No bytes to send, but the downstream must learn of new positions (a
  // standby may apply once release moves).
  if (in_flight_ < kMaxInFlight && (durable != sent_durable_ || release != sent_release_)) {
    ++in_flight_;
    sent_durable_ = durable;
    sent_release_ = release;
    last_sent_ = std::chrono::steady_clock::now();
    sink->SendFrame(MessageType::kJournalData,
                    EncodeJournalData({next_, durable, release, origin_->epoch(), {}}));
  }
}

}  // namespace tandem
