#include "replica/archive_puller.h"

#include <fcntl.h>
#include <unistd.h>

#include "journal/file.h"
#include "journal/log.h"
#include "transport/archive_commands.h"

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

uint64_t ArchivePuller::pending_bytes() const {
  std::lock_guard lock(mu_);
  uint64_t total = 0;
  for (const auto& [md5, size] : pending_) total += size;
  return total;
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
    if (archive_.Verify(entry).ok()) {
      st = Status::Ok();  // arrived meanwhile (the same content under another path)
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
      continue;
    }
    LogWarning() << "pull -u: " << entry.md5 << ": " << st.message() << " (will retry)";
    queue_.push_back(entry);  // retried after the others, with a pause
    cv_.wait_for(lock, std::chrono::milliseconds(500), [&] { return stopping_; });
  }
}

Status ArchivePuller::Fetch(Client* client, const std::string& ticket, const ArchiveEntry& entry) {
  std::string name, tmp;
  File out;
  uint64_t offset = 0, size = 0;
  do {
    TANDEM_ASSIGN_OR_RETURN(
        Response r,
        client->Call(
            {upstream_.user, ticket, {"archive-fetch", entry.md5, std::to_string(offset)}}));
    if (!r.status.ok()) return r.status;
    const Row& row = r.rows.at(0);
    if (name.empty()) {
      name = std::string(FieldOf(row, "name"));
      if (name != entry.md5 && name != entry.md5 + ".gz") {
        return Status::Corruption("upstream sent " + name + " for " + entry.md5);
      }
      size = std::stoull(std::string(FieldOf(row, "size")));
      tmp = archive_.PathForName(name) + ".fetch";
      TANDEM_RETURN_IF_ERROR(CreateDirs(DirName(tmp)));
      TANDEM_ASSIGN_OR_RETURN(out, File::Open(tmp, O_WRONLY | O_CREAT | O_TRUNC));
    }
    std::string_view data = FieldOf(row, "data");
    if (data.empty() && offset < size) return Status::Unavailable("transfer made no progress");
    TANDEM_RETURN_IF_ERROR(out.PWriteAll(data, offset));
    offset += data.size();
  } while (offset < size);
  TANDEM_RETURN_IF_ERROR(out.Sync());
  TANDEM_RETURN_IF_ERROR(out.Close());
  TANDEM_RETURN_IF_ERROR(RenameDurably(tmp, archive_.PathForName(name)));
  if (Status st = archive_.Verify(entry); !st.ok()) {
    archive_.Remove(entry.md5);
    return st.Annotate("fetched content fails verification");
  }
  return Status::Ok();
}

}  // namespace tandem
