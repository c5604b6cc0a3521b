#include "replica/journal_copier.h"

#include <fcntl.h>

#include <algorithm>
#include <chrono>

#include "journal/log.h"
#include "replica/journal_streamer.h"
#include "replica/local_config.h"
#include "replica/state_file.h"
#include "transport/deadline.h"
#include "transport/dispatcher.h"

namespace tandem {
namespace {

// An address others can reach this server at: not a port still unbound, not
// a wildcard host.
bool Announceable(const std::string& address) {
  auto parsed = Address::Parse(address);
  return parsed.ok() && parsed->port != 0 && parsed->host != "0.0.0.0" && parsed->host != "::" &&
         parsed->host != "[::]";
}

}  // namespace

JournalCopier::JournalCopier(RootLayout layout, UpstreamOptions upstream, Position copied,
                             Progress progress, std::function<LocalProgress()> local)
    : layout_(std::move(layout)),
      upstream_(std::move(upstream)),
      progress_(std::move(progress)),
      local_(std::move(local)),
      written_(copied),
      flushed_(copied),
      persisted_(copied) {
  status_.written = copied;
  status_.flushed = copied;
}

JournalCopier::~JournalCopier() { Stop(); }

void JournalCopier::Start() {
  thread_ = std::thread([this] { Run(); });
}

void JournalCopier::Stop() {
  // A failover's thread and the repair thread may both stop the copier.
  std::lock_guard stopping(stop_mu_);
  {
    MutexLock lock(&mu_);
    stopping_ = true;
    if (client_) client_->Shutdown();
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  // Unsynced bytes are left to start-up recovery, which syncs before it
  // trusts them; statejcopy only ever names synced bytes. Once: a failover
  // stops the copier, then promotes the root (removing statejcopy), and the
  // standby's life stops it again on its way out.
  if (flushed_ != persisted_) {
    if (Status st = WritePositionFile(layout_.statejcopy(), flushed_); !st.ok()) {
      // A hint only (start-up rescans journals.rep): not tried again, since a
      // later Stop may come after a promotion removed the file.
      LogWarning() << "journalcopy: cannot record the synced position " << flushed_.Token() << ": "
                   << st.message();
    }
    persisted_ = flushed_;
  }
}

void JournalCopier::Reconnect() {
  MutexLock lock(&mu_);
  if (client_) client_->Shutdown();
}

CopierStatus JournalCopier::status() const {
  MutexLock lock(&mu_);
  return status_;
}

void JournalCopier::Run() {
  auto backoff = std::chrono::milliseconds(50);
  for (;;) {
    const Position before = written_;
    Status st = Connection();
    {
      MutexLock lock(&mu_);
      // A connection that made progress earns a quick retry: its upstream
      // went away (or was dropped for a newer one) and the next may be up.
      // One that failed at once (a full disk) backs off like a refusal.
      if (status_.connected && before < written_) backoff = std::chrono::milliseconds(50);
      client_.reset();
      status_.connected = false;
      if (stopping_) return;
      if (status_.failed) return;  // Flush logged and recorded why
      if (!st.ok() && st.message() != status_.last_error) {
        LogWarning() << "journalcopy: " << st.message();
      }
      status_.last_error = st.message();
      auto until = std::chrono::steady_clock::now() + backoff;
      while (!stopping_ && cv_.wait_until(lock, until) != std::cv_status::timeout) {
      }
      if (stopping_) return;
    }
    // At most a quarter of rpl.timeout.ms: a server that lost its master
    // moves to the new one within 2 × rpl.timeout.ms (detection, one round
    // of hellos, this wait), however many refusals it met on the way.
    auto cap = std::chrono::milliseconds(2000);
    if (upstream_.timeout) {
      cap = std::clamp(upstream_.timeout() / 4, std::chrono::milliseconds(50), cap);
    }
    backoff = std::min(backoff * 2, cap);
  }
}

UpstreamOptions UpstreamFor(const RootLayout& layout, const Address& target) {
  auto local = ReadLocalConfig(layout);
  UpstreamOptions up;
  up.target = target;
  up.user = local["service.user"];
  up.password = local["service.password"];
  up.client.trust_file = layout.root() + "/trust";
  up.client.trust_new = true;
  up.client.source = local["net.source"];
  up.fsync = local["journalcopy.fsync"] != "off";
  return up;
}

Result<UpstreamConnection> ConnectUpstream(const UpstreamOptions& upstream) {
  Address target = upstream.target;
  if (upstream.resolve_target) {
    TANDEM_ASSIGN_OR_RETURN(target, upstream.resolve_target(nullptr));
  }
  UpstreamConnection conn;
  conn.user = upstream.user;
  ClientOptions options = upstream.client;
  if (upstream.timeout) options.connect_timeout = options.io_timeout = upstream.timeout();
  // Offline callers (rejoin, reseed) give no timeout: an upstream that hangs
  // mid-answer must not hang them for ever (seed 10, cycle 79: a rejoin).
  if (options.io_timeout.count() == 0) options.io_timeout = std::chrono::seconds(10);
  // Connect and login share one budget: a peer that accepts and then
  // answers slowly must not double how long a caller waits.
  Deadline deadline(options.io_timeout);
  TANDEM_ASSIGN_OR_RETURN(conn.client, Client::Connect(target, options));
  if (!upstream.password.empty()) {
    TANDEM_ASSIGN_OR_RETURN(
        Response login,
        conn.client->Call({upstream.user, "", {"login", upstream.password}}, deadline.Left()));
    if (!login.status.ok())
      return login.status.Annotate("service login as '" + upstream.user + "'");
    if (login.rows.empty()) return Status::Corruption("the upstream's login answer has no ticket");
    conn.ticket = std::string(FieldOf(login.rows[0], "ticket"));
  }
  return conn;
}

Status JournalCopier::Connection() {
  {
    MutexLock lock(&mu_);
    status_.local_error = false;  // until this connection's own writes fail
  }
  UpstreamOptions upstream = upstream_;
  if (upstream.resolve_target) {  // once: it may probe every candidate
    TANDEM_ASSIGN_OR_RETURN(upstream.target, upstream.resolve_target([this] {
      MutexLock lock(&mu_);
      return stopping_;
    }));
    upstream.resolve_target = nullptr;
  }
  {
    MutexLock lock(&mu_);
    if (stopping_) return Status::Unavailable("stopping");
    status_.upstream = upstream.target.ToString();
  }
  TANDEM_ASSIGN_OR_RETURN(UpstreamConnection conn, ConnectUpstream(upstream));
  Client* c = conn.client.get();
  std::string ticket = conn.ticket;
  {
    MutexLock lock(&mu_);
    if (stopping_) return Status::Unavailable("stopping");
    client_ = std::move(conn.client);
  }
  TANDEM_ASSIGN_OR_RETURN(std::string tail,
                          TailHash(layout_.rep_journal(written_.journal), written_.offset));
  LocalProgress here = local_ ? local_() : LocalProgress{};
  std::vector<std::string> args = {"journal-stream",
                                   upstream_.server_id,
                                   written_.Token(),
                                   tail,
                                   std::to_string(here.epoch.value),
                                   std::min(here.applied, written_).Token()};
  if (std::string own = upstream_.own_address ? upstream_.own_address() : ""; Announceable(own)) {
    args.push_back(own);
  }
  TANDEM_ASSIGN_OR_RETURN(Response opened, c->Call({upstream_.user, ticket, std::move(args)}));
  if (!opened.status.ok()) {
    if (refused_ && !opened.rows.empty()) refused_(opened.status, opened.rows[0]);
    return opened.status;
  }
  bool mandatory = !opened.rows.empty() && FieldOf(opened.rows[0], "mandatory") == "1";
  {
    MutexLock lock(&mu_);
    status_.connected = true;
    status_.last_error.clear();
    if (!opened.rows.empty()) status_.role = std::string(FieldOf(opened.rows[0], "type"));
    status_.mandatory = mandatory;
  }
  if (mandatory && !upstream_.fsync) {
    LogWarning() << "journalcopy.fsync=off is ignored: this standby is mandatory, and a mandatory "
                    "standby acknowledges only what it has synced";
  }
  sync_each_batch_ = upstream_.fsync || mandatory;
  LogInfo() << "journalcopy: streaming from " << upstream.target.ToString() << " at "
            << written_.ToString();
  for (;;) {
    // Take every frame already here, write them all, then sync once: one
    // fdatasync covers as many upstream batches as arrived meanwhile.
    JournalData data;
    uint32_t frames = 0;
    bool wrote = false;
    do {
      TANDEM_ASSIGN_OR_RETURN(auto frame, c->ReadFrame());  // within rpl.timeout.ms
      if (frame.first != MessageType::kJournalData) {
        return Status::Corruption("unexpected frame on the journal stream");
      }
      TANDEM_ASSIGN_OR_RETURN(data, DecodeJournalData(frame.second));
      if (Status st = Receive(data); !st.ok()) {
        MutexLock lock(&mu_);
        status_.local_error = true;  // the upstream spoke; this server could not keep it
        return st;
      }
      wrote = wrote || !data.bytes.empty();
      ++frames;
    } while (frames < 256 && c->Available() >= kFrameHeaderSize);
    if (wrote && sync_each_batch_) TANDEM_RETURN_IF_ERROR(Flush());
    TANDEM_RETURN_IF_ERROR(PersistPosition());
    CopierStatus snapshot;
    {
      MutexLock lock(&mu_);
      status_.written = written_;
      status_.flushed = flushed_;
      status_.upstream_durable = data.durable;
      status_.release = data.release;
      status_.epoch = data.epoch;
      status_.last_data_unix = NowSeconds();
      status_.last_heard_ms = NowMillis();
      snapshot = status_;
    }
    if (progress_) progress_(snapshot);
    TANDEM_RETURN_IF_ERROR(
        c->SendFrame(MessageType::kJournalAck, EncodeJournalAck(MakeAck(frames))));
  }
}

Status JournalCopier::Receive(const JournalData& data) {
  if (data.bytes.empty()) return Status::Ok();
  if (data.at.journal == written_.journal + 1 && data.at.offset == 0) {
    // The upstream rotated: our journal.N is complete, and synced whatever
    // journalcopy.fsync says, so that flushed reaches its end.
    if (file_.is_open()) TANDEM_RETURN_IF_ERROR(Flush());
    file_ = File();
    written_ = flushed_ = data.at;
  }
  if (data.at != written_) {
    return Status::Corruption("journal stream gap: expected " + written_.ToString() + ", got " +
                              data.at.ToString());
  }
  if (!file_.is_open() || file_journal_ != written_.journal) {
    TANDEM_RETURN_IF_ERROR(CreateDirs(layout_.rep_dir()));
    TANDEM_ASSIGN_OR_RETURN(file_,
                            File::Open(layout_.rep_journal(written_.journal), O_RDWR | O_CREAT));
    file_journal_ = written_.journal;
    // Anything past our position is an unacknowledged leftover: drop it.
    TANDEM_RETURN_IF_ERROR(file_.Truncate(written_.offset));
    TANDEM_RETURN_IF_ERROR(SyncDir(layout_.rep_dir()));
  }
  TANDEM_RETURN_IF_ERROR(file_.PWriteAll(data.bytes, written_.offset));
  written_.offset += data.bytes.size();
  metrics_.bytes.Add(data.bytes.size());
  return Status::Ok();
}

Status JournalCopier::Flush() {
  auto start = std::chrono::steady_clock::now();
  Status st = file_.DataSync();
  metrics_.fsync_seconds.ObserveSince(start);
  if (st.ok()) {
    flushed_ = written_;
    return st;
  }
  // Whatever the failed sync covered may be gone from the disk while the
  // page cache still shows it: cut it off so nothing trusts it again.
  Status cut = file_.Truncate(flushed_.journal == written_.journal ? flushed_.offset : 0);
  if (cut.ok()) cut = file_.DataSync();
  file_ = File();
  std::string why = "journalcopy stopped: " + st.message() + "; the copy was cut back to " +
                    flushed_.Token() +
                    (cut.ok() ? "" : " (the cut failed too: " + cut.message() + ")") +
                    "; this server may not fail over until it is restarted on a healthy disk";
  written_ = flushed_;
  LogError() << why;
  MutexLock lock(&mu_);
  status_.failed = true;
  status_.last_error = why;
  status_.written = written_;
  status_.flushed = flushed_;
  return Status::IOError(why);
}

JournalAck JournalCopier::MakeAck(uint32_t frames) const {
  LocalProgress p = local_ ? local_() : LocalProgress{};
  return {flushed_, std::min(p.applied, written_), frames, p.backlog_files, p.backlog_bytes,
          written_};
}

Status JournalCopier::PersistPosition() {
  // statejcopy is a hint (start-up rescans journals.rep), so it is written
  // once per journal and per 4 MiB rather than per frame.
  if (flushed_.journal != persisted_.journal || flushed_.offset >= persisted_.offset + (4u << 20)) {
    TANDEM_RETURN_IF_ERROR(WritePositionFile(layout_.statejcopy(), flushed_));
    persisted_ = flushed_;
  }
  return Status::Ok();
}

}  // namespace tandem
