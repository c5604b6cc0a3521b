// ROOT/server.id: the server's name on its first line and, after this server
// was failed over from (or learned of a newer epoch), a fence:
//
//   master1
//   fenced: failed over to 'sb1' at 1/4096 (epoch 1)
//   fenced-for: sb1
//   new-master: 127.0.0.1:2666
//   point: 1/4096
//
// A fenced root serves only to say so: it refuses every commit with the
// fence (Code::kFenced) and names the new master where it knows it. Rejoining
// as a standby (`tandemd --rejoin`) or `tandemd -r ROOT -xD` clears the fence.
#pragma once

#include <string>

#include "journal/file.h"
#include "journal/position.h"
#include "journal/root_layout.h"
#include "journal/status.h"

namespace tandem {

struct ServerIdentity {
  std::string id = {};     // empty when the file is missing
  std::string fence = {};  // why this root may not serve as master; empty if it may
  // The standby that took over from this master, when it is known (it
  // stopped for it, was ignored by it, or told it so), and the epoch that
  // standby began: a rejoin takes its ServerID (failover/rejoin.cc).
  std::string fenced_for = {};
  uint32_t fenced_epoch = 0;
  std::string new_master = {};  // where the master is now, when known
  Position point = {};          // the failover point it stopped at

  bool fenced() const { return !fence.empty(); }
};

Result<ServerIdentity> ReadServerIdentity(const RootLayout& layout);
// Writes the file durably; an empty `fence` clears every fence line.
// With `dirs`, the new file's directory entry is durable only at dirs->Sync().
Status WriteServerIdentity(const RootLayout& layout, const ServerIdentity& identity,
                           DirectoryBatch* dirs = nullptr);

}  // namespace tandem
