// pull -u: fetches the archive content named by applied revision rows from
// the upstream server, verifies size and MD5, and stores it.
//
// The queue of what is missing is derived, not kept: at start every applied
// revision whose content is not in the local archive is queued (one scan),
// and pull -L adds each revision it applies. So the queue survives SIGKILL
// by construction. Files arrive as their stored bytes (compressed or not),
// in chunks, into a temp name that is fsynced and renamed only once whole:
// no partial file is ever visible under a real name.
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "journal/archive_store.h"
#include "journal/root_layout.h"
#include "journal/table_set.h"
#include "replica/journal_copier.h"

namespace tandem {

class ArchivePuller {
 public:
  // `tables` must outlive the puller.
  ArchivePuller(RootLayout layout, const Tables* tables, UpstreamOptions upstream, int workers);
  ~ArchivePuller();
  ArchivePuller(const ArchivePuller&) = delete;
  ArchivePuller& operator=(const ArchivePuller&) = delete;

  void Start();  // queues what is missing now, then starts the workers
  void Stop();
  void Enqueue(const ArchiveEntry& entry);
  // Removes a damaged local copy and fetches it again (verify -t).
  void Refetch(const ArchiveEntry& entry);
  std::vector<ArchiveEntry> Pending() const;
  // What is still to fetch; cheap (it rides on every journal acknowledgement).
  struct Backlog {
    uint64_t files = 0;
    uint64_t bytes = 0;
  };
  Backlog backlog() const;

 private:
  void Work();
  Status Fetch(Client* client, const std::string& ticket, const ArchiveEntry& entry);

  const RootLayout layout_;
  const Tables* tables_;
  const UpstreamOptions upstream_;
  const int workers_;
  ArchiveStore archive_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<ArchiveEntry> queue_;
  std::map<std::string, uint64_t> pending_;  // md5 -> size: queued or in transfer
  uint64_t pending_bytes_ = 0;               // the sum of pending_'s sizes
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace tandem
