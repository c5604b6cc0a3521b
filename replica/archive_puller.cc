#include "replica/archive_puller.h"

#include <fcntl.h>
#include <unistd.h>

#include "journal/fault_point.h"
#include "journal/file.h"
#include "journal/log.h"
#include "transport/archive_commands.h"
#include "transport/content_client.h"
#include "transport/content_protocol.h"

namespace tandem {

ArchivePuller::ArchivePuller(RootLayout layout, const Tables* tables, UpstreamOptions upstream,
                             int workers)
    : layout_(std::move(layout)),
      tables_(tables),
      upstream_(std::move(upstream)),
      workers_(workers),
      archive_(layout_.root() + "/archive") {}

ArchivePuller::~ArchivePuller() { Stop(); }

void ArchivePuller::Start() {
  for (const auto& [key, value] : tables_->Scan(kRevTable, "", SIZE_MAX)) {
    if (auto entry = ArchiveEntryOfRevision(value);
        entry && !archive_.StoredName(entry->md5).ok()) {
      Enqueue(*entry);
    }
  }
  for (int i = 0; i < workers_; ++i) threads_.emplace_back([this] { Work(); });
}

void ArchivePuller::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

void ArchivePuller::Enqueue(const ArchiveEntry& entry) {
  {
    std::lock_guard lock(mu_);
    if (!pending_.emplace(entry.md5, entry.size).second) return;
    pending_bytes_ += entry.size;
    queue_.push_back(entry);
  }
  cv_.notify_one();
}

void ArchivePuller::Refetch(const ArchiveEntry& entry) {
  archive_.Remove(entry.md5);
  Enqueue(entry);
}

std::vector<ArchiveEntry> ArchivePuller::Pending() const {
  std::lock_guard lock(mu_);
  std::vector<ArchiveEntry> out;
  for (const auto& [md5, size] : pending_) out.push_back({md5, size});
  return out;
}

ArchivePuller::Backlog ArchivePuller::backlog() const {
  std::lock_guard lock(mu_);
  return {pending_.size(), pending_bytes_};
}

void ArchivePuller::Work() {
  std::unique_ptr<Client> client;
  std::string ticket;
  for (;;) {
    ArchiveEntry entry;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      entry = queue_.front();
      queue_.pop_front();
    }
    Status st;
    // Present already (the same content under another path): files get
    // their real names only once whole and verified, so no need to read it.
    if (archive_.StoredName(entry.md5).ok()) {
      st = Status::Ok();
    } else {
      if (!client) {
        auto conn = ConnectUpstream(upstream_);
        st = conn.status();
        if (conn.ok()) {
          client = std::move(conn->client);
          ticket = conn->ticket;
        }
      }
      if (client) st = Fetch(client.get(), ticket, entry);
      if (!st.ok()) client.reset();
    }
    std::unique_lock lock(mu_);
    if (st.ok()) {
      pending_.erase(entry.md5);
      pending_bytes_ -= entry.size;
      continue;
    }
    LogWarning() << "pull -u: " << entry.md5 << ": " << st.message() << " (will retry)";
    queue_.push_back(entry);  // retried after the others, with a pause
    cv_.wait_for(lock, std::chrono::milliseconds(500), [&] { return stopping_; });
  }
}

// The stored bytes are decoded and checked as they arrive, so a file that
// fails its digest is never installed.
Status ArchivePuller::Fetch(Client* client, const std::string& ticket, const ArchiveEntry& entry) {
  TANDEM_ASSIGN_OR_RETURN(std::string tmp, archive_.NewTempPath());
  TANDEM_ASSIGN_OR_RETURN(File out, File::Open(tmp, O_WRONLY | O_CREAT | O_TRUNC));
  std::unique_ptr<ContentDecoder> decoder;
  std::string name;
  uint64_t written = 0;
  Status st = FetchStored(client, {upstream_.user, ticket}, entry.md5,
                          [&](const std::string& stored_name, std::string_view stored) {
                            if (!decoder) {
                              name = stored_name;
                              decoder =
                                  std::make_unique<ContentDecoder>(entry, name.ends_with(".gz"));
                            }
                            TANDEM_RETURN_IF_ERROR(decoder->Write(stored, nullptr));
                            TANDEM_RETURN_IF_ERROR(out.PWriteAll(stored, written));
                            written += stored.size();
                            // Part of a file fetched, none installed.
                            if (entry.size > kContentChunk)
                              TANDEM_FAULT_POINT("pull-u.mid-transfer");
                            return Status::Ok();
                          });
  if (st.ok() && decoder) st = decoder->Finish().Annotate("fetched content");
  if (st.ok()) st = out.Sync();
  if (st.ok()) st = out.Close();
  if (st.ok()) st = archive_.Install(tmp, name);
  if (!st.ok()) (void)RemoveFile(tmp);
  return st;
}

}  // namespace tandem
