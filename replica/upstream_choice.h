// Which server a standby or replica streams from: chosen before every
// connection, and re-checked while streaming so that a newer master is
// followed even while the old one is still alive.
//
// Candidates are the master's replicated SERVERID#target override (when it
// is an address), the local `target` list, and the Address of every master
// and standby spec replicated from the master: after a failover, the new
// master is one of them. All are asked `hello` at once, from this server's
// net.source, each bounded by rpl.timeout.ms; but once a master of an epoch
// newer than this server holds has answered, the round waits only 100 ms
// more (a quarter of the timeout for a preferred candidate that may
// cascade), and while it waits for a silent candidate it asks the others
// again every tenth of the timeout (a standby may become the master
// meanwhile), so a hung old master does not hold up following the new one.
// This server itself (its own address, or an answer with its own ServerID)
// is never chosen: that would stream from itself.
//
// The preferred candidate (the override, or a sole local target) is chosen
// when it answers, is not fenced, and holds the newest epoch heard (for a
// replica it may be a standby or replica: cascading). Otherwise the master
// (role standard) of the highest epoch is, and never one older than the
// history this server already holds. If no candidate qualifies, the
// preferred one (or the first target) is kept: connecting to it says why,
// and if it did not answer either, the caller does not connect to it
// (UpstreamChoice::silence).
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "journal/address.h"
#include "journal/table_set.h"
#include "transport/hello.h"

namespace tandem {

struct UpstreamCandidates {
  std::vector<Address> addresses;  // in order of preference, no duplicates
  bool first_preferred = false;    // addresses[0] is the override or sole target
  // A standby streams from the master only: its acknowledgements are what
  // the master's release and commit.wait count, and its failover talks to
  // its upstream as the master. Replicas may cascade.
  bool masters_only = false;
};

UpstreamCandidates ListCandidates(const Tables& tables, const std::string& server_id,
                                  const std::vector<Address>& targets,
                                  const std::string& own_address);

// How one round of hellos is asked.
struct HelloRound {
  std::chrono::milliseconds timeout{2000};  // each answer (rpl.timeout.ms)
  std::string source;                       // our net.source
  std::function<bool()> cancelled;          // polled; true ends the round at once
};

struct ProbedServer {
  Address address;
  HelloAnswer hello;
};

struct UpstreamChoice {
  Address address;
  bool found = false;   // a candidate qualified
  std::string role;     // as `address` answered hello; empty if it did not
  Status silence;       // why `address` did not answer hello; Ok when it did
  uint32_t newest = 0;  // the highest epoch of a master heard, or held here
  // Masters that answered with an epoch older than `newest` (to be told).
  std::vector<ProbedServer> older_masters;
};

UpstreamChoice ChooseUpstream(const UpstreamCandidates& candidates, const std::string& server_id,
                              uint32_t held_epoch, const HelloRound& round);

// Every candidate but `current`, asked at once; the master of the highest
// epoch above `epoch`, if one answers.
std::optional<ProbedServer> NewerMasterAmong(const UpstreamCandidates& candidates,
                                             const std::string& server_id,
                                             const std::string& current, uint32_t epoch,
                                             const HelloRound& round);

}  // namespace tandem
