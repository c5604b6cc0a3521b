// The master's part in a failover, driven by the standby taking over:
//
//   failover-master pause STANDBY WAIT_MS LEASE_MS MESSAGE
//       refuse new commits with MESSAGE, let those in flight finish (up to
//       WAIT_MS) and report the final durable position and the digest of the
//       live journal up to it;
//   failover-master resume STANDBY
//       undo the pause (the standby rolls back);
//   failover-master stop STANDBY N/S [ADDRESS]
//       only while still paused for STANDBY at N/S: fence ROOT/server.id
//       (naming STANDBY and ADDRESS, where it will serve) and refuse every
//       commit from then on. This is the failover's point of no return. The
//       server stays up, fenced, so that it can tell clients and servers
//       where the master went and a standby that crashed can ask it:
//   failover-master ignore STANDBY ADDRESS
//       STANDBY takes over without this master's data (failover -i), past
//       its point of no return: fence now, naming ADDRESS;
//   failover-master status STANDBY
//       serving | paused (by whom, at what position) | fenced (for whom, at
//       what position), as fields of one row;
//   failover-master newer EPOCH FROM ADDRESS
//       FROM has seen a master of a higher epoch at ADDRESS. This master
//       reaches ADDRESS itself and fences only if a master there carries our
//       ServerID at EPOCH or later.
//
// Only a standby whose spec names this master in ReplicatingFrom may pause,
// resume, stop or ask, and on a secured master only as the service user its
// spec names (User:), or a super user. A pause is a lease of at most
// kMaxLease, counted from the moment the master has quiesced: if the
// standby neither stops nor resumes the master in time (it died, or lost the
// network), the master resumes by itself, and a later `stop` is refused.
//
// It also removes the new master's statefailover once every downstream
// server in the specs has reconnected to it, and tells an old master it
// passed over (failover -i) that it is stale, until that succeeds; and it
// asks its standbys whether one of them has become a newer master.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "journal/engine.h"
#include "replica/hub.h"
#include "transport/dispatcher.h"

namespace tandem {

inline constexpr std::chrono::milliseconds kMaxLease{3700 * 1000};

class FailoverParticipant {
 public:
  // `address` gives the address this server listens on.
  FailoverParticipant(Engine* engine, ReplicationHub* hub, std::function<std::string()> address);
  ~FailoverParticipant();
  FailoverParticipant(const FailoverParticipant&) = delete;
  FailoverParticipant& operator=(const FailoverParticipant&) = delete;

  void Register(Dispatcher* d);
  // Starts the background work (probes, telling an old master, lease
  // expiry), once the server's history is settled: a promoted standby still
  // finishing its failover holds its old epoch, and a probe would take the
  // master it outranks for newer and fence it (tandem-chaos seed 21).
  void Start();
  // Fences this master if a standby in its specs now serves as master of a
  // higher epoch (failover/newer_master_probe.h). Also runs every
  // rpl.timeout.ms in the background.
  void ProbeForNewerMaster();

 private:
  // "failover (epoch N)", shared with the standby's log lines for it.
  std::string FailoverId() const;
  Response Pause(const RequestContext& ctx, const std::vector<std::string>& args);
  Response Resume(const RequestContext& ctx, const std::vector<std::string>& args);
  Response Stop(const RequestContext& ctx, const std::vector<std::string>& args);
  Response Ignore(const RequestContext& ctx, const std::vector<std::string>& args);
  Response Report(const RequestContext& ctx, const std::vector<std::string>& args);
  Response Newer(const RequestContext& ctx, const std::vector<std::string>& args);
  // A standby spec replicating from us, used by the service user it names.
  Status CheckCaller(const RequestContext& ctx, const std::string& standby) const;
  void Housekeeping();
  // True once there is no statefailover left to remove.
  bool TidyStateFailover();
  // Tells the old master in statefailover's `tell` that it is stale.
  void TellOldMaster();

  Engine* engine_;
  ReplicationHub* hub_;
  std::function<std::string()> address_;
  const std::string source_;  // net.source: where our probes and hellos leave from

  std::mutex mu_;
  std::condition_variable cv_;
  std::string paused_by_;   // empty when not paused
  bool quiescing_ = false;  // paused_by_ is set, the engine not yet quiet
  Position paused_at_;
  std::chrono::steady_clock::time_point lease_end_;
  bool closing_ = false;
  std::string last_tell_refusal_;  // logged once (housekeeping thread only)
  std::chrono::steady_clock::time_point next_probe_;
  std::thread housekeeping_;
};

}  // namespace tandem
