// A standby or replica: its tables, recovered from its own files, kept up to
// date by a journalcopy thread (bytes from the upstream) and a pull -L thread
// (applying them up to the release position), and the commands it answers.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "journal/root_layout.h"
#include "journal/table_set.h"
#include "replica/journal_copier.h"
#include "replica/pull_applier.h"
#include "transport/dispatcher.h"

namespace tandem {

class DownstreamNode {
 public:
  // Needs ROOT/server.id and the local configurable `target`.
  static Result<std::unique_ptr<DownstreamNode>> Open(const std::string& root);
  ~DownstreamNode();

  void Start();
  void Stop();
  // Throws away everything derived from the upstream, fetches its newest
  // checkpoint, and replicates again from there.
  Status Reseed();
  // Registers what a downstream server answers. `address` gives the address
  // it listens on; `stop` shuts the server down.
  void RegisterCommands(Dispatcher* dispatcher, std::function<std::string()> address,
                        std::function<void()> stop);

  const Tables& tables() const { return tables_; }
  const std::string& server_id() const { return server_id_; }
  Position applied() const { return applier()->applied(); }
  CopierStatus upstream() const { return copier()->status(); }

 private:
  DownstreamNode(RootLayout layout, int lock_fd) : layout_(std::move(layout)), lock_fd_(lock_fd) {}
  // Recovers from the root's files and builds the two threads (not started).
  Status Load();

  RootLayout layout_;
  int lock_fd_;
  std::string server_id_;
  Address target_;
  UpstreamOptions upstream_;
  std::mutex reseed_mu_;
  Tables tables_;
  // Replaced by Reseed while commands read them: copy under ptr_mu_.
  std::shared_ptr<PullApplier> applier() const {
    std::lock_guard lock(ptr_mu_);
    return applier_;
  }
  std::shared_ptr<JournalCopier> copier() const {
    std::lock_guard lock(ptr_mu_);
    return copier_;
  }
  mutable std::mutex ptr_mu_;
  std::shared_ptr<PullApplier> applier_;
  std::shared_ptr<JournalCopier> copier_;
};

}  // namespace tandem
