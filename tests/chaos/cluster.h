// The cluster one chaos cycle runs on: four tandemd processes on loopback
// (master1, mandatory standby sb1, standby sb2, replica r1), each behind a
// front proxy that every other server reaches it through, so that any
// server can be cut off (reset) or silenced (black hole) without touching
// the network. Each server connects from its own loopback address
// (net.source), so that one link between two servers can be cut alone.
// Clients reach the servers directly.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/integration/harness.h"
#include "tests/integration/tcp_proxy.h"
#include "transport/hello.h"

namespace tandem::chaos {

using testing::TandemdProcess;
using testing::TcpProxy;

struct Server {
  std::string name;  // the root's directory name (its first role)
  std::string root;
  std::string address;  // direct, fixed across restarts
  std::string source;   // the loopback address its own connections leave from
  std::unique_ptr<TcpProxy> front;
  std::unique_ptr<TandemdProcess> process;  // null while down
  bool stopped = false;                     // SIGSTOPped
  bool disk_limited = false;
  std::string front_address() const { return front->address(); }
};

class Cluster {
 public:
  // Builds and starts it under `dir`, with commit.wait=`commit_wait`.
  static std::unique_ptr<Cluster> Create(const std::string& dir, const std::string& commit_wait,
                                         bool auto_failover);
  ~Cluster();

  std::vector<Server>& servers() { return servers_; }
  Server& server(size_t i) { return servers_[i]; }

  // Faults. Each is undone by Heal().
  void Kill(Server& s);
  void Stop(Server& s);
  void Cont(Server& s);
  // RLIMIT_FSIZE `slack` bytes past where its journal writes are now: the
  // disk fills up (EFBIG) a little way on.
  void LimitDisk(Server& s, uint64_t slack);
  // The link between `a` and `b` only, both ways; every other link stays.
  void CutLink(Server& a, Server& b, bool black_hole);
  void RestoreLink(Server& a, Server& b);
  // Ends every fault: links restored, processes continued, limits lifted,
  // dead servers started again on their addresses. False if one would not
  // start (the reason is logged).
  bool Heal(std::string* why);

  std::optional<HelloAnswer> Hello(const Server& s) const;
  // The master of the highest epoch (role standard), if one answers.
  Server* Master();
  // Waits (bounded) until there is one unfenced master and no other; turns
  // fenced roots into standbys of it (tandemd --rejoin).
  bool Settle(std::string* why);

 private:
  bool StartServer(Server& s);
  std::vector<Server> servers_;
};

}  // namespace tandem::chaos
