// Failover with real processes: planned under load, unplanned after SIGKILL,
// refusals, a fault at every step before the point of no return, a standby
// killed mid-failover, the fenced old master, rejoin and failback.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>
#include <tuple>

#include "tests/integration/cluster.h"
#include "tests/integration/tcp_proxy.h"
#include "tests/testing/journal_files.h"

namespace tandem::testing {
namespace {

// The state letter of /proc/PID/stat: 'T' once a process is stopped.
char ProcessState(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() ? stat[paren + 2] : '?';
}

// Clients writing distinct keys until told to stop or refused; remembers
// what was acknowledged. Bounded in count.
class Load {
 public:
  Load(const TandemdProcess& master, int clients, int per_client) {
    for (int c = 0; c < clients; ++c) {
      threads_.emplace_back([this, &master, c, per_client] {
        auto client = master.Connect();
        if (!client) return;
        for (int i = 0; i < per_client && !stop_; ++i) {
          std::string key = "c" + std::to_string(c) + "-" + std::to_string(i);
          auto r = client->Call({"", "", {"put", "load", key, "v"}});
          if (!r.ok() || !r->status.ok()) return;
          std::lock_guard lock(mu_);
          acked_.insert(key);
        }
      });
    }
  }
  ~Load() { Stop(); }
  void Stop() {
    stop_ = true;
    for (auto& t : threads_)
      if (t.joinable()) t.join();
  }
  size_t count() {
    std::lock_guard lock(mu_);
    return acked_.size();
  }
  const std::set<std::string>& acked() const { return acked_; }

 private:
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::set<std::string> acked_;
  std::vector<std::thread> threads_;
};

class FailoverTest : public ClusterTest {
 protected:
  // A mandatory standby sb1 of `master` holding 10 keys, armed to die at
  // `fault`, and a failover -y that it does not survive.
  // `quiesce` is failover -w: the pause lease is that plus 10 s.
  void FailOverIntoACrash(const TandemdProcess& master, const std::string& fault,
                          const std::string& quiesce = "0") {
    AddSpec(master, "sb1", "standby", true);
    Put(master, 0, 10);
    auto standby = StartDownstream("sb1", master, {"", {{"TANDEM_FAULTS", fault + "=crash"}}, {}});
    ASSERT_TRUE(WaitFor([&] { return CaughtUp(*standby, master); }));
    EXPECT_NE(Failover(*standby, {"-y", "-w", quiesce}).exit_code, 0);
    ASSERT_TRUE(WaitFor([&] { return standby->Exited(); }));
  }

  // sb1 (mandatory), sb2 and r1 follow `master`, which gets `keys` keys;
  // then sb1 fails over (planned) while sb2 is stopped: sb2 never sees epoch
  // 2, which r1 follows sb1 into, and sb1 writes 5 keys more. Then sb1 and
  // the old master are SIGKILLed and sb2 goes on, knowing only epoch 1.
  struct MissedEpoch {
    std::unique_ptr<TandemdProcess> sb1, sb2, r1;
    std::string sb1_address;  // to start sb1 again where it was
  };
  void FailOverWhileSb2Sleeps(TandemdProcess& master, bool sb2_mandatory, int keys,
                              MissedEpoch* c) {
    AddSpec(master, "sb1", "standby", true);
    AddSpec(master, "sb2", "standby", sb2_mandatory);
    AddSpec(master, "r1", "replica", false);
    c->sb1 = StartDownstream("sb1", master);
    c->sb2 = StartDownstream("sb2", master);
    c->r1 = StartDownstream("r1", master);
    ASSERT_TRUE(WaitFor([&] {
      return Announced(master, "sb1", *c->sb1) && Announced(master, "sb2", *c->sb2) &&
             Announced(master, "r1", *c->r1);
    }));
    Put(master, 0, keys);
    ASSERT_TRUE(WaitFor([&] { return CaughtUp(*c->sb2, master) && CaughtUp(*c->r1, master); }));
    c->sb2->Stop();
    ASSERT_EQ(Failover(*c->sb1, {"-y", "-w", "0"}).exit_code, 0);
    Put(*c->sb1, keys, keys + 5);
    // r1 follows sb1 (what it applies waits for sb2 if sb2 is mandatory).
    ASSERT_TRUE(WaitFor([&] { return FieldOf(One(*c->r1, {"hello"}), "epoch") == "2"; }));
    c->sb1_address = c->sb1->address();
    c->sb1->Kill9();
    master.Kill9();
    c->sb2->Continue();
  }
};

TEST_F(FailoverTest, PlannedUnderLoadLosesNothingAndTheReplicaFollowsTheNewMaster) {
  auto master = StartMaster();
  AddSpec(*master, "sb1", "standby", true);
  AddSpec(*master, "r1", "replica", false);
  Put(*master, 0, 50);
  auto standby = StartDownstream("sb1", *master);
  auto replica = StartDownstream("r1", master->address() + "," + standby->address());
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*standby, *master); }));

  // A client given every address finds the master.
  const std::string both = master->address() + "," + standby->address();
  const SpawnOptions client = {"", {{"TANDEM_EPOCH", dir_.Sub("client-epoch")}}, {}};
  auto where = RunTandem({"-p", both, "info"}, client);
  EXPECT_NE(where.out.find("address: " + master->address()), std::string::npos) << where.out;

  Load load(*master, 64, 500);
  ASSERT_TRUE(WaitFor([&] { return load.count() > 500; }));
  auto preview = Failover(*standby, {});
  EXPECT_EQ(preview.exit_code, 0) << preview.out << preview.err;
  EXPECT_NE(preview.out.find("failover -y would run"), std::string::npos) << preview.out;
  auto done = Failover(*standby, {"-y", "-w", "0"});
  ASSERT_EQ(done.exit_code, 0) << done.out << done.err;
  EXPECT_NE(done.out.find("stopping master 'master1' (the point of no return)"), std::string::npos)
      << done.out;
  load.Stop();

  ASSERT_TRUE(WaitFor([&] { return IsMaster(*standby); }));
  Row info = One(*standby, {"info"});
  EXPECT_EQ(FieldOf(info, "serverID"), "master1");
  EXPECT_EQ(FieldOf(info, "epoch"), "2");
  // Promotion removed the standby's copy position; nothing of the standby's
  // life (its journal copier stopping) writes it back into a master's root.
  EXPECT_FALSE(std::filesystem::exists(dir_.Sub("sb1") + "/statejcopy"));
  std::set<std::string> present = Keys(*standby, "load");
  for (const auto& k : load.acked()) ASSERT_TRUE(present.count(k)) << "lost acknowledged " << k;

  // The new master takes writes (found from the address list); the replica
  // follows it, never ahead.
  ASSERT_EQ(RunTandem({"-p", both, "put", "kv", "after", "failover"}, client).exit_code, 0);
  EXPECT_EQ(ReadAll(dir_.Sub("client-epoch")), "2");  // the client remembers the new epoch
  EXPECT_EQ(Keys(*standby, "kv").count("after"), 1u);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*replica, *standby); }));
  EXPECT_EQ(Keys(*replica, "load"), Keys(*standby, "load"));
  EXPECT_EQ(Keys(*replica, "kv"), Keys(*standby, "kv"));
  // Every downstream server is back: statefailover has done its job.
  EXPECT_TRUE(
      WaitFor([&] { return !std::filesystem::exists(dir_.Sub("sb1") + "/statefailover"); }));

  // The old master fenced itself: it stays up only to say where the master
  // went, and refuses writes; so it does when started again.
  Row old = One(*master, {"info"});
  EXPECT_EQ(FieldOf(old, "role"), "fenced");
  EXPECT_EQ(FieldOf(old, "newMaster"), standby->address());
  auto refused = RunTandem({"-p", master->address(), "put", "kv", "late", "v"});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("the master is now at " + standby->address()), std::string::npos)
      << refused.err;
  EXPECT_EQ(master->Terminate(), 0);
  master = TandemdProcess::Start(master_root_);
  ASSERT_TRUE(master);
  EXPECT_EQ(Role(*master), "fenced");
}

TEST_F(FailoverTest, UnplannedToAMandatoryStandbyWithCommitWaitLosesNothing) {
  auto master = StartMaster();
  AddSpec(*master, "sb1", "standby", true);
  ASSERT_EQ(
      RunTandem({"-p", master->address(), "configure", "set", "commit.wait=mandatory"}).exit_code,
      0);
  auto standby = StartDownstream("sb1", *master);
  Put(*master, 0, 20);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*standby, *master); }));
  Load load(*master, 16, 2000);
  ASSERT_TRUE(WaitFor([&] { return load.count() > 300; }));
  master->Kill9();
  load.Stop();

  auto done = Failover(*standby, {"-y"});
  ASSERT_EQ(done.exit_code, 0) << done.out << done.err;
  EXPECT_NE(done.out.find("unplanned failover"), std::string::npos) << done.out;
  ASSERT_TRUE(WaitFor([&] { return IsMaster(*standby); }));
  std::set<std::string> present = Keys(*standby, "load");
  for (const auto& k : load.acked()) ASSERT_TRUE(present.count(k)) << "lost acknowledged " << k;
  EXPECT_EQ(RunTandem({"-p", standby->address(), "put", "kv", "x", "y"}).exit_code, 0);
}

TEST_F(FailoverTest, ANewMasterThatFindsItsDiskFullFinishesTheFailoverOnceThereIsRoom) {
  auto master = StartMaster();
  AddSpec(*master, "sb1", "standby", true);
  auto standby = StartDownstream("sb1", *master);
  // RLIMIT_FSIZE below holds for every file, the log too: the journal must
  // be far longer than the log will grow, or the log line we wait for is cut.
  Put(*master, 0, 300);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*standby, *master); }));
  master->Kill9();
  // No write may go past what it journalcopied: the failover record has no room.
  Position copied = PullPosition(*standby, "journalcopy");
  ASSERT_GT(copied.offset, ReadAll(standby->log_path()).size() + 16384);
  rlimit full{copied.offset, RLIM_INFINITY};
  ASSERT_EQ(::prlimit(standby->pid(), RLIMIT_FSIZE, &full, nullptr), 0);

  CommandResult done;
  std::thread failover([&] { done = Failover(*standby, {"-y"}); });
  bool waiting = WaitFor(
      [&] { return standby->Log().find("cannot finish the failover yet") != std::string::npos; });
  rlimit room{RLIM_INFINITY, RLIM_INFINITY};
  ::prlimit(standby->pid(), RLIMIT_FSIZE, &room, nullptr);
  failover.join();
  ASSERT_TRUE(waiting) << standby->Log();
  EXPECT_EQ(done.exit_code, 0) << done.out << done.err;
  ASSERT_TRUE(WaitFor([&] { return IsMaster(*standby); }));
  EXPECT_FALSE(standby->Exited());  // the same process, never restarted
  EXPECT_EQ(Keys(*standby, "kv").size(), 300u);
  EXPECT_EQ(RunTandem({"-p", standby->address(), "put", "kv", "x", "y"}).exit_code, 0);
}

TEST_F(FailoverTest, UnplannedWithLocalCommitWaitLeavesTheReplicaConsistentWithTheNewMaster) {
  auto master = StartMaster();
  AddSpec(*master, "sb1", "standby", true);
  AddSpec(*master, "r1", "replica", false);
  auto standby = StartDownstream("sb1", *master);
  auto replica = StartDownstream("r1", master->address() + "," + standby->address());
  Put(*master, 0, 20);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*replica, *master); }));
  Load load(*master, 16, 2000);
  ASSERT_TRUE(WaitFor([&] { return load.count() > 300; }));
  master->Kill9();
  load.Stop();

  ASSERT_EQ(Failover(*standby, {"-y"}).exit_code, 0);
  ASSERT_TRUE(WaitFor([&] { return IsMaster(*standby); }));
  // Loss is bounded by what the standby had not journalcopied; nothing is
  // invented: a key present but never acknowledged can only be the one write
  // each client had in flight when the master died. The replica (gated by
  // the mandatory standby) is never ahead of the new master.
  std::set<std::string> present = Keys(*standby, "load");
  size_t unacknowledged = 0;
  for (const auto& k : present) unacknowledged += load.acked().count(k) == 0;
  EXPECT_LE(unacknowledged, 16u);
  ASSERT_EQ(RunTandem({"-p", standby->address(), "put", "kv", "after", "v"}).exit_code, 0);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*replica, *standby); }));
  EXPECT_EQ(Keys(*replica, "load"), present);
  EXPECT_EQ(Keys(*replica, "kv"), Keys(*standby, "kv"));
  // Its log names the failover it followed as the new master's does.
  EXPECT_NE(replica->Log().find("failover (epoch 2): "), std::string::npos) << replica->Log();
  EXPECT_NE(standby->Log().find("failover (epoch 2)"), std::string::npos);
}

TEST_F(FailoverTest, AMasterThatStopsAnsweringRollsBackAndASecondFailoverIsRefusedMeanwhile) {
  auto master = StartMaster();
  AddSpec(*master, "sb1", "standby", true);
  auto standby =
      StartDownstream("sb1", *master, {"", {{"TANDEM_FAULTS", "failover.journalcopy=sleep"}}, {}});
  Put(*master, 0, 10);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*standby, *master); }));
  CommandResult first;
  std::thread t([&] { first = Failover(*standby, {"-y", "-w", "0"}); });
  ASSERT_TRUE(WaitFor([&] { return standby->Log().find("journalcopying") != std::string::npos; }));
  master->Stop();  // paused for us, then hangs
  auto second = Failover(*standby, {"-y"});
  EXPECT_NE(second.exit_code, 0);
  EXPECT_NE(second.err.find("already running"), std::string::npos) << second.err;
  t.join();
  master->Continue();
  EXPECT_NE(first.exit_code, 0);
  EXPECT_NE(first.out.find("rolled back"), std::string::npos) << first.out;
  // The master's pause lease runs out; it takes writes and the standby follows.
  ASSERT_TRUE(WaitFor(
      [&] {
        return RunTandem({"-p", master->address(), "put", "kv", "later", "v"}).exit_code == 0;
      },
      30000));
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*standby, *master); }));
  EXPECT_NE(Role(*standby), "standard");
}

TEST_F(FailoverTest, ASigtermDuringAFailoverRollsItBackAndStopsTheStandbyCleanly) {
  auto master = StartMaster();
  AddSpec(*master, "sb1", "standby", true);
  auto standby =
      StartDownstream("sb1", *master, {"", {{"TANDEM_FAULTS", "failover.journalcopy=sleep"}}, {}});
  Put(*master, 0, 10);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*standby, *master); }));
  CommandResult running;
  std::thread t([&] { running = Failover(*standby, {"-y", "-w", "0"}); });
  ASSERT_TRUE(WaitFor([&] { return standby->Log().find("journalcopying") != std::string::npos; }));
  // The handlers of the failover still run while the server stops: nothing
  // they use may be gone (a sanitizer build fails the exit code otherwise).
  EXPECT_EQ(standby->Terminate(), 0);
  t.join();
  EXPECT_NE(running.exit_code, 0);
  EXPECT_EQ(Role(*master), "standard");
  EXPECT_EQ(RunTandem({"-p", master->address(), "put", "kv", "later", "v"}).exit_code, 0);
  standby = StartDownstream("sb1", *master);
  EXPECT_NE(Role(*standby), "standard");
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*standby, *master); }));
  EXPECT_FALSE(std::filesystem::exists(dir_.Sub("sb1") + "/statefailover"));
}

TEST_F(FailoverTest, AnotherStandbyOfAFencedMasterMayNotFailOverWithoutIt) {
  // sb1 took over; sb2's master is now fenced. "Unreachable" it is not:
  // failing over here would make a second master of the same epoch. (sb1's
  // spec names an address where sb2 cannot find it, or sb2 would follow it.)
  auto master = StartMaster();
  AddSpec(*master, "sb1", "standby", true, "127.0.0.1:1");
  AddSpec(*master, "sb2", "standby", true);
  auto sb1 = StartDownstream("sb1", *master);
  auto sb2 = StartDownstream("sb2", *master);
  Put(*master, 0, 10);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*sb1, *master) && CaughtUp(*sb2, *master); }));
  ASSERT_EQ(Failover(*sb1, {"-y", "-w", "0"}).exit_code, 0);
  ASSERT_TRUE(WaitFor([&] { return IsMaster(*sb1) && Role(*master) == "fenced"; }));
  sb1->Stop();  // or sb2 would follow it (the fence names it)
  auto second = Failover(*sb2, {"-y"});
  sb1->Continue();
  EXPECT_NE(second.exit_code, 0);
  EXPECT_NE(second.out.find("is fenced"), std::string::npos) << second.out;
  EXPECT_NE(second.out.find("the master is now at " + sb1->address()), std::string::npos)
      << second.out;
  EXPECT_FALSE(IsMaster(*sb2));
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*sb2, *sb1); })) << "then it follows the new master";
}

TEST_F(FailoverTest, APlannedFailoverToAStandbyWithFsyncOffSucceeds) {
  auto master = StartMaster();
  AddSpec(*master, "sb1", "standby", false);
  std::string root = dir_.Sub("sb1");
  ASSERT_EQ(RunTandemd({"-r", root, "--id", "sb1"}).exit_code, 0);
  ASSERT_EQ(RunTandemd({"-r", root, "-cset", "journalcopy.fsync=off"}).exit_code, 0);
  ASSERT_EQ(RunTandemd({"-r", root, "-cset", "target=" + master->address()}).exit_code, 0);
  auto standby = StartDownstream("sb1", *master);
  Put(*master, 0, 10);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*standby, *master); }));
  auto r = RunTandem({"-p", standby->address(), "--json", "failover", "-y", "-w", "0"});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  ASSERT_TRUE(WaitFor([&] { return IsMaster(*standby); }));
  EXPECT_EQ(Keys(*standby, "kv").size(), 10u);
  // --json: one object per line, each {kind, message}, as the steps happen.
  std::istringstream lines(r.out);
  int steps = 0;
  for (std::string line; std::getline(lines, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    ASSERT_TRUE(j.is_object() && j.size() == 2 && j["kind"].is_string() && j["message"].is_string())
        << line;
    steps += j["kind"] == "step";
  }
  EXPECT_GT(steps, 3) << r.out;
}

TEST_F(FailoverTest, APlannedFailoverToANonMandatoryStandbyWithCommitWaitMandatoryServes) {
  // Found by tandem-chaos (seed 2, cycle 32): the new master's failover
  // record waited at the mandatory gate for sb1, which cannot connect to a
  // master that is not listening yet.
  auto master = StartMaster();
  AddSpec(*master, "sb1", "standby", true);
  AddSpec(*master, "sb2", "standby", false);
  Configure(*master, "commit.wait=mandatory");
  auto sb1 = StartDownstream("sb1", *master);
  auto sb2 = StartDownstream("sb2", *master);
  ASSERT_TRUE(WaitFor([&] { return Announced(*master, "sb2", *sb2); }));
  Put(*master, 0, 10);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*sb1, *master) && CaughtUp(*sb2, *master); }));
  auto r = Failover(*sb2, {"-y"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err << sb2->Log();
  Put(*sb2, 10, 20);  // acknowledged once sb1, still mandatory, follows sb2
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*sb1, *sb2); }));
  EXPECT_EQ(Keys(*sb1, "kv"), Keys(*sb2, "kv"));
}

TEST_F(FailoverTest, UnplannedToANonMandatoryStandbyIsRefused) {
  auto master = StartMaster();
  AddSpec(*master, "sb1", "standby", false);
  auto standby = StartDownstream("sb1", *master);
  Put(*master, 0, 10);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*standby, *master); }));
  master->Kill9();
  auto r = Failover(*standby, {"-y"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("is not a mandatory standby"), std::string::npos) << r.out << r.err;
  EXPECT_FALSE(IsMaster(*standby));
  EXPECT_FALSE(std::filesystem::exists(dir_.Sub("sb1") + "/statepullL"));
}

TEST_F(FailoverTest, IgnoringALiveMasterWarnsOfSplitBrainAndAReplicaMayNotFailOver) {
  auto master = StartMaster();
  AddSpec(*master, "sb1", "standby", true);
  AddSpec(*master, "r1", "replica", false);
  auto standby = StartDownstream("sb1", *master);
  auto replica = StartDownstream("r1", *master);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*standby, *master); }));
  auto r = Failover(*standby, {"-i"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("SPLIT BRAIN"), std::string::npos) << r.out;
  auto rep = Failover(*replica, {"-y"});
  EXPECT_NE(rep.exit_code, 0);
  EXPECT_NE(rep.out.find("only a standby or forwarding-standby may fail over"), std::string::npos)
      << rep.out;
  EXPECT_EQ(Role(*master), "standard");
}

TEST_F(FailoverTest, OnASecuredClusterOnlyASuperUserMayFailOver) {
  master_root_ = dir_.Sub("master");
  ASSERT_EQ(RunTandemd({"-r", master_root_, "--id", "master1"}).exit_code, 0);
  AddUser(master_root_, "admin", "super", "pw");
  AddUser(master_root_, "bob", "write", "bobpw");
  AddUser(master_root_, "svc", "service", "svcpw");
  auto master = TandemdProcess::Start(master_root_);
  ASSERT_TRUE(master);
  SpawnOptions admin;
  admin.env = {{"TANDEM_TICKETS", dir_.Sub("tickets")}, {"TANDEM_PASSWORD", "pw"}};
  ASSERT_EQ(RunTandem({"-p", master->address(), "-u", "admin", "login"}, admin).exit_code, 0);
  admin.stdin_data =
      "ServerID: sb1\nServices: standby\nOptions: mandatory\nReplicatingFrom: master1\nUser: svc\n";
  ASSERT_EQ(RunTandem({"-p", master->address(), "-u", "admin", "server", "-i"}, admin).exit_code,
            0);
  admin.stdin_data.clear();

  std::string root = dir_.Sub("sb1");
  ASSERT_EQ(RunTandemd({"-r", root, "--id", "sb1"}).exit_code, 0);
  for (std::string kv : {"target=" + master->address(), std::string("service.user=svc"),
                         std::string("service.password=svcpw")}) {
    ASSERT_EQ(RunTandemd({"-r", root, "-cset", kv}).exit_code, 0);
  }
  auto standby = TandemdProcess::Start(root);
  ASSERT_TRUE(standby);
  // Tickets are HMACs under a replicated secret: the standby accepts them
  // once it has replicated the user table.
  ASSERT_TRUE(WaitFor([&] {
    return RunTandem({"-p", standby->address(), "-u", "admin", "login"}, admin).exit_code == 0 &&
           RunTandem({"-p", standby->address(), "-u", "admin", "failover"}, admin).exit_code == 0;
  })) << RunTandem({"-p", standby->address(), "-u", "admin", "failover"}, admin).out;
  SpawnOptions bob = admin;
  bob.env["TANDEM_PASSWORD"] = "bobpw";
  ASSERT_EQ(RunTandem({"-p", standby->address(), "-u", "bob", "login"}, bob).exit_code, 0);
  auto refused = RunTandem({"-p", standby->address(), "-u", "bob", "failover", "-y"}, bob);
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("super"), std::string::npos) << refused.err;
  auto done = RunTandem({"-p", standby->address(), "-u", "admin", "failover", "-y"}, admin);
  ASSERT_EQ(done.exit_code, 0) << done.out << done.err;
  EXPECT_NE(done.out.find("failover complete"), std::string::npos) << done.out;
}

TEST_F(FailoverTest, AFaultAtEachStepRollsBackAndThenFailoverSucceeds) {
  auto master = StartMaster();
  AddSpec(*master, "sb1", "standby", true);
  int next = 0;
  for (const char* step : {"pause-master", "journalcopy", "compare", "apply", "archive",
                           "statepullL", "statefailover", "stop-master"}) {
    SCOPED_TRACE(step);
    auto standby = StartDownstream(
        "sb1", *master, {"", {{"TANDEM_FAULTS", "failover." + std::string(step) + "=error"}}, {}});
    Put(*master, next, next + 5);
    next += 5;
    ASSERT_TRUE(WaitFor([&] { return CaughtUp(*standby, *master); }));
    auto r = Failover(*standby, {"-y", "-w", "0"});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.out.find("rolled back"), std::string::npos) << r.out;
    // Both servers replicate as before: the master takes writes, the standby follows.
    Put(*master, next, next + 5);
    next += 5;
    ASSERT_TRUE(WaitFor([&] { return CaughtUp(*standby, *master); }));
    EXPECT_FALSE(std::filesystem::exists(dir_.Sub("sb1") + "/statepullL"));
    EXPECT_FALSE(std::filesystem::exists(dir_.Sub("sb1") + "/statefailover"));
    EXPECT_EQ(standby->Terminate(), 0);
  }
  auto standby = StartDownstream("sb1", *master);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*standby, *master); }));
  auto r = Failover(*standby, {"-y", "-w", "0"});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  ASSERT_TRUE(WaitFor([&] { return IsMaster(*standby); }));
  EXPECT_EQ(Keys(*standby, "kv").size(), static_cast<size_t>(next));
}

// The master dies after it paused for the standby, before the standby heard
// where: the rollback cannot resume it, and must still leave no failover in
// progress behind, so that failing over without it works at once.
TEST_F(FailoverTest, AMasterThatDiesWhilePausedLeavesTheStandbyFreeToFailOverAgain) {
  auto master = StartMaster({"", {{"TANDEM_FAULTS", "failover-master.paused=crash"}}, {}});
  AddSpec(*master, "sb1", "standby", true);
  Put(*master, 0, 10);
  auto standby = StartDownstream("sb1", *master);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*standby, *master); }));
  auto first = Failover(*standby, {"-y", "-w", "0"});
  EXPECT_NE(first.exit_code, 0);
  EXPECT_NE(first.out.find("rolled back"), std::string::npos) << first.out;
  ASSERT_TRUE(WaitFor([&] { return master->Exited(); }));
  EXPECT_FALSE(std::filesystem::exists(dir_.Sub("sb1") + "/statefailover"));
  auto again = Failover(*standby, {"-y"});
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  ASSERT_TRUE(WaitFor([&] { return IsMaster(*standby); }));
  EXPECT_EQ(Keys(*standby, "kv").size(), 10u);
}

// A crash of the standby right after each step of a planned failover (the
// window after each remote call included): once restarted, exactly one of
// the two servers is a master, it holds every key, and the other follows it.
// A standby that restarts before the point of no return rolls back and
// tells the master it paused to take commits again, without waiting for
// the pause lease to run out.
class FailoverCrashAfterStep : public FailoverTest,
                               public ::testing::WithParamInterface<const char*> {};

TEST_P(FailoverCrashAfterStep, LeavesExactlyOneMasterHoldingEveryKey) {
  auto master = StartMaster();
  ASSERT_NO_FATAL_FAILURE(
      // A lease that outlasts the restart, however busy the machine: the
      // resume it checks for is the restarted standby's, not the lease's end.
      FailOverIntoACrash(*master, "failover." + std::string(GetParam()) + ".after", "30"));
  auto standby = TandemdProcess::Start(dir_.Sub("sb1"));
  ASSERT_TRUE(standby);
  bool old_is = IsMaster(*master), new_is = IsMaster(*standby);
  ASSERT_NE(old_is, new_is) << Role(*master) << " / " << Role(*standby) << "\n" << standby->Log();
  if (new_is) {
    EXPECT_EQ(Role(*master), "fenced");
    ASSERT_EQ(RunTandem({"-p", standby->address(), "put", "kv", "after", "v"}).exit_code, 0);
    EXPECT_EQ(Keys(*standby, "kv").size(), 11u);
  } else {
    EXPECT_EQ(Keys(*master, "kv").size(), 10u);
    EXPECT_NE(standby->Log().find("told the master at " + master->address() +
                                  " to resume: it takes commits again"),
              std::string::npos)
        << standby->Log();
    EXPECT_NE(master->Log().find("rolled back: accepting commits again"), std::string::npos)
        << master->Log();
    ASSERT_EQ(RunTandem({"-p", master->address(), "put", "kv", "after", "v"}).exit_code, 0);
    EXPECT_TRUE(WaitFor([&] { return CaughtUp(*standby, *master); }));
  }
}

INSTANTIATE_TEST_SUITE_P(EveryStep, FailoverCrashAfterStep,
                         ::testing::Values("pause-master", "journalcopy", "compare", "apply",
                                           "archive", "statepullL", "statefailover", "stop-master",
                                           "promote"));

// The same for an unplanned failover (the master SIGKILLed first): whatever
// step the standby dies after, once restarted it is the master holding every
// key, or a standby that a second failover -y makes one.
class UnplannedCrashAfterStep : public FailoverTest,
                                public ::testing::WithParamInterface<const char*> {};

TEST_P(UnplannedCrashAfterStep, EndsWithTheStandbyAsTheMasterHoldingEveryKey) {
  auto master = StartMaster();
  AddSpec(*master, "sb1", "standby", true);
  Put(*master, 0, 10);
  const std::string fault = "failover." + std::string(GetParam()) + ".after=crash";
  auto standby = StartDownstream("sb1", *master, {"", {{"TANDEM_FAULTS", fault}}, {}});
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*standby, *master); }));
  master->Kill9();
  EXPECT_NE(Failover(*standby, {"-y"}).exit_code, 0);
  ASSERT_TRUE(WaitFor([&] { return standby->Exited(); }));
  standby = TandemdProcess::Start(dir_.Sub("sb1"));
  ASSERT_TRUE(standby);
  if (!IsMaster(*standby)) {
    auto again = Failover(*standby, {"-y"});
    ASSERT_EQ(again.exit_code, 0) << again.out << again.err << standby->Log();
  }
  ASSERT_TRUE(IsMaster(*standby)) << standby->Log();
  EXPECT_EQ(Keys(*standby, "kv").size(), 10u);
  EXPECT_EQ(RunTandem({"-p", standby->address(), "put", "kv", "after", "v"}).exit_code, 0);
}

INSTANTIATE_TEST_SUITE_P(EveryStep, UnplannedCrashAfterStep,
                         ::testing::Values("apply", "archive", "statepullL", "statefailover",
                                           "promote"));

TEST_F(FailoverTest, StandbyKilledBeforeThePointOfNoReturnComesBackAsAStandby) {
  auto master = StartMaster();
  ASSERT_NO_FATAL_FAILURE(FailOverIntoACrash(*master, "failover.stop-master"));
  // It died in phase stopping, before the stop was sent: on restart it asks
  // the master, finds it still paused for it, resumes it and rolls back.
  auto standby = StartDownstream("sb1", *master);
  EXPECT_NE(Role(*standby), "standard");
  EXPECT_NE(standby->Log().find("rolled back"), std::string::npos);
  EXPECT_EQ(RunTandem({"-p", master->address(), "put", "kv", "later", "v"}).exit_code, 0);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*standby, *master); }));
}

TEST_F(FailoverTest, AStandbyKilledAfterTheMasterStoppedForItFinishesAsTheMaster) {
  // The window between the master's answer to `stop` and the standby
  // recording it: the master is fenced, so rolling back would leave no master.
  auto master = StartMaster();
  ASSERT_NO_FATAL_FAILURE(FailOverIntoACrash(*master, "failover.stop-master.after"));
  ASSERT_EQ(Role(*master), "fenced");
  auto restarted = TandemdProcess::Start(dir_.Sub("sb1"));
  ASSERT_TRUE(restarted);
  EXPECT_TRUE(IsMaster(*restarted)) << restarted->Log();
  EXPECT_NE(restarted->Log().find("had stopped for this server"), std::string::npos);
  EXPECT_EQ(Keys(*restarted, "kv").size(), 10u);
  EXPECT_EQ(RunTandem({"-p", restarted->address(), "put", "kv", "after", "v"}).exit_code, 0);
}

TEST_F(FailoverTest, AMandatoryStandbyThatFindsItsStoppedMasterGoneFinishesAfterTheLease) {
  auto master = StartMaster();
  ASSERT_NO_FATAL_FAILURE(FailOverIntoACrash(*master, "failover.stop-master.after"));
  master->Kill9();  // and then the fenced master dies too
  auto restarted = TandemdProcess::Start(dir_.Sub("sb1"));
  ASSERT_TRUE(restarted);
  EXPECT_TRUE(IsMaster(*restarted)) << restarted->Log();
  EXPECT_NE(restarted->Log().find("as a mandatory standby"), std::string::npos);
  EXPECT_EQ(Keys(*restarted, "kv").size(), 10u);
}

TEST_F(FailoverTest, ADashSThatIsNotTheReachableMastersServerIdIsRefused) {
  auto master = StartMaster();
  AddSpec(*master, "sb1", "standby", true);
  auto standby = StartDownstream("sb1", *master);
  Put(*master, 0, 5);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*standby, *master); }));
  auto r = Failover(*standby, {"-y", "-i", "-s", "not-the-master"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(
      r.out.find("-s not-the-master, but the master at " + master->address() + " is 'master1'"),
      std::string::npos)
      << r.out;
  EXPECT_EQ(Role(*master), "standard");
  EXPECT_NE(Role(*standby), "standard");
  EXPECT_EQ(RunTandem({"-p", master->address(), "put", "kv", "still", "master"}).exit_code, 0);
}

TEST_F(FailoverTest, AMandatoryStandbyFailsOverFromItsOwnCopyWhenItsSpecIsNotAppliedYet) {
  // sb2 is mandatory and never connects, so release stays put and sb1 applies
  // nothing it copies: its own spec sits in the unapplied tail.
  auto master = StartMaster();
  AddSpec(*master, "sb1", "standby", true);
  AddSpec(*master, "sb2", "standby", true);
  Put(*master, 0, 10);
  auto standby = StartDownstream("sb1", *master);
  ASSERT_TRUE(WaitFor([&] { return PullPosition(*standby, "journalcopy") == Durable(*master); }));
  ASSERT_LT(PullPosition(*standby, "applied"), Durable(*master));
  master->Kill9();
  EXPECT_EQ(standby->Terminate(), 0);  // restarted during the outage
  standby = StartDownstream("sb1", *master);
  auto r = Failover(*standby, {"-y"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  ASSERT_TRUE(WaitFor([&] { return IsMaster(*standby); }));
  EXPECT_EQ(Keys(*standby, "kv").size(), 10u);
}

TEST_F(FailoverTest, AnUnplannedFailoverTakesOverAtTheLastWholeRecordItCopied) {
  // The master's stream is cut in the middle of a record (chunks end
  // anywhere), then the master dies: the standby's copy ends mid-record.
  auto master = StartMaster();
  master->Kill9();
  master = TandemdProcess::Start(master_root_, "127.0.0.1:0",
                                 {"", {{"TANDEM_FAULTS", "stream.cut-mid-record=error@6"}}, {}});
  ASSERT_TRUE(master);
  AddSpec(*master, "sb1", "standby", true);
  auto standby = StartDownstream("sb1", *master);
  ASSERT_TRUE(WaitFor([&] { return PullPosition(*standby, "journalcopy") == Durable(*master); }));
  for (int i = 0; i < 20; ++i) Put(*master, i, i + 1);
  ASSERT_TRUE(WaitFor([&] { return master->Log().find("cut at") != std::string::npos; }));
  std::string log = master->Log();
  size_t at = log.find("cut at ") + 7;
  Position cut;
  ASSERT_TRUE(Position::ParseToken(log.substr(at, log.find(' ', at) - at), &cut));
  ASSERT_TRUE(WaitFor([&] { return PullPosition(*standby, "journalcopyWritten") == cut; }));
  master->Kill9();
  auto r = Failover(*standby, {"-y"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  ASSERT_TRUE(WaitFor([&] { return IsMaster(*standby); }));
  Position point;
  ASSERT_NE(r.out.find("consistency point "), std::string::npos) << r.out;
  std::string text = r.out.substr(r.out.find("consistency point ") + 18);
  ASSERT_TRUE(Position::ParseToken(text.substr(0, text.find_first_of(" \n")), &point));
  EXPECT_LT(point, cut);
  EXPECT_GT(Keys(*standby, "kv").size(), 0u);
  EXPECT_EQ(RunTandem({"-p", standby->address(), "put", "kv", "after", "v"}).exit_code, 0);
}

TEST_F(FailoverTest, StandbyKilledAfterThePointOfNoReturnFinishesAsTheOnlyMaster) {
  auto master = StartMaster();
  ASSERT_NO_FATAL_FAILURE(FailOverIntoACrash(*master, "failover.promote"));
  EXPECT_EQ(Role(*master), "fenced");
  auto restarted = TandemdProcess::Start(dir_.Sub("sb1"));
  ASSERT_TRUE(restarted);
  EXPECT_TRUE(IsMaster(*restarted));
  EXPECT_EQ(Keys(*restarted, "kv").size(), 10u);
  EXPECT_EQ(master->Terminate(), 0);
  master = TandemdProcess::Start(master_root_);
  ASSERT_TRUE(master);
  EXPECT_EQ(Role(*master), "fenced");
  EXPECT_NE(RunTandem({"-p", master->address(), "put", "kv", "x", "y"}).exit_code, 0);
  // Only an explicit -xD lets the old root serve as master again.
  EXPECT_EQ(master->Terminate(), 0);
  EXPECT_EQ(RunTandemd({"-r", master_root_, "-xD"}).exit_code, 0);
  master = TandemdProcess::Start(master_root_);
  ASSERT_TRUE(master);
  EXPECT_TRUE(IsMaster(*master));
}

TEST_F(FailoverTest, FailbackRestoresTheOriginalRoles) {
  auto a = StartMaster();
  AddSpec(*a, "sb1", "standby", true);
  Put(*a, 0, 10);
  auto b = StartDownstream("sb1", *a);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*b, *a); }));
  ASSERT_EQ(Failover(*b, {"-y", "-w", "0"}).exit_code, 0);
  ASSERT_TRUE(WaitFor([&] { return IsMaster(*b) && Role(*a) == "fenced"; }));
  EXPECT_EQ(a->Terminate(), 0);
  Put(*b, 10, 15);

  // The old master rejoins as the new master's standby, under the standby's old name.
  auto rejoin = RunTandemd({"-r", master_root_, "--rejoin", b->address()});
  ASSERT_EQ(rejoin.exit_code, 0) << rejoin.err;
  EXPECT_NE(rejoin.out.find("is now standby 'sb1'"), std::string::npos) << rejoin.out;
  a = TandemdProcess::Start(master_root_);
  ASSERT_TRUE(a);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*a, *b); }));

  auto back = RunTandem({"-p", a->address(), "failback", "-y", "-w", "0"});
  ASSERT_EQ(back.exit_code, 0) << back.out << back.err;
  ASSERT_TRUE(WaitFor([&] { return IsMaster(*a) && Role(*b) == "fenced"; }));
  EXPECT_EQ(b->Terminate(), 0);
  EXPECT_EQ(FieldOf(One(*a, {"info"}), "serverID"), "master1");
  EXPECT_EQ(FieldOf(One(*a, {"info"}), "epoch"), "3");
  ASSERT_EQ(RunTandemd({"-r", dir_.Sub("sb1"), "--rejoin", a->address()}).exit_code, 0);
  b = TandemdProcess::Start(dir_.Sub("sb1"));
  ASSERT_TRUE(b);
  Put(*a, 15, 20);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*b, *a); }));
  EXPECT_EQ(FieldOf(One(*b, {"info"}), "serverID"), "sb1");
  EXPECT_EQ(Keys(*b, "kv"), Keys(*a, "kv"));
  EXPECT_EQ(Keys(*a, "kv").size(), 20u);
}

TEST_F(FailoverTest, ARejoinAgainstAMasterThatNeverAnswersGivesUpInsteadOfHanging) {
  auto a = StartMaster();
  AddSpec(*a, "sb1", "standby", true);
  auto b = StartDownstream("sb1", *a);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*b, *a); }));
  ASSERT_EQ(Failover(*b, {"-y", "-w", "0"}).exit_code, 0);
  ASSERT_TRUE(WaitFor([&] { return IsMaster(*b) && Role(*a) == "fenced"; }));
  EXPECT_EQ(a->Terminate(), 0);
  TcpProxy silent(b->parsed_address().port);
  silent.BlackHole();  // connects, then never a byte back
  auto rejoin = RunTandemd({"-r", master_root_, "--rejoin", silent.address()});
  EXPECT_NE(rejoin.exit_code, 0);
  EXPECT_NE(rejoin.exit_code, -1) << "killed at the harness's deadline: it hung";
  EXPECT_FALSE(rejoin.err.empty());
  silent.Restore();
  auto again = RunTandemd({"-r", master_root_, "--rejoin", b->address()});  // nothing was changed
  EXPECT_EQ(again.exit_code, 0) << again.err;
}

TEST_F(FailoverTest, RejoinSetsAsideWhatTheOldMasterWroteAfterTheFailoverPoint) {
  auto a = StartMaster();
  AddSpec(*a, "sb1", "standby", true);
  Put(*a, 0, 10);
  auto b = StartDownstream("sb1", *a);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*b, *a); }));
  ASSERT_EQ(b->Terminate(), 0);
  Put(*a, 10, 20);  // commit.wait=local: acknowledged without the standby
  a->Kill9();

  b = TandemdProcess::Start(dir_.Sub("sb1"));
  ASSERT_TRUE(b);
  auto done = Failover(*b, {"-y"});
  ASSERT_EQ(done.exit_code, 0) << done.out;
  ASSERT_TRUE(WaitFor([&] { return IsMaster(*b); }));
  EXPECT_EQ(Keys(*b, "kv").size(), 10u);  // nothing invented past what it had

  auto rejoin = RunTandemd({"-r", master_root_, "--rejoin", b->address()});
  ASSERT_EQ(rejoin.exit_code, 0) << rejoin.err;
  EXPECT_NE(rejoin.out.find("journal.orig.master, not replayed"), std::string::npos) << rejoin.out;
  EXPECT_GT(std::filesystem::file_size(master_root_ + "/journal.orig.master"), 0u);
  a = TandemdProcess::Start(master_root_);
  ASSERT_TRUE(a);
  Put(*b, 100, 105);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*a, *b); }));
  EXPECT_EQ(Keys(*a, "kv"), Keys(*b, "kv"));
}

TEST_F(FailoverTest, ARejoinAfterTwoFailoversStartsFromTheOneThatEndedItsOwnHistory) {
  // Found by tandem-chaos (seed 1, cycle 6): master1 -> sb1 (unplanned),
  // then sb1 -> sb2 (planned); both took over from ServerID master1. The
  // original root must rejoin at the first point, the only one it holds.
  auto master = StartMaster();
  AddSpec(*master, "sb1", "standby", true);
  AddSpec(*master, "sb2", "standby", false);
  auto sb1 = StartDownstream("sb1", *master);
  auto sb2 = StartDownstream("sb2", *master);
  ASSERT_TRUE(WaitFor([&] { return Announced(*master, "sb1", *sb1); }));
  Put(*master, 0, 10);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*sb1, *master) && CaughtUp(*sb2, *master); }));
  master->Kill9();
  ASSERT_EQ(Failover(*sb1, {"-y"}).exit_code, 0);
  Put(*sb1, 10, 20);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*sb2, *sb1); }));
  auto second = Failover(*sb2, {"-y"});
  ASSERT_EQ(second.exit_code, 0) << second.out << second.err;
  Put(*sb2, 20, 30);

  auto rejoined = RunTandemd({"-r", master_root_, "--rejoin", sb2->address()});
  ASSERT_EQ(rejoined.exit_code, 0) << rejoined.err;
  master = TandemdProcess::Start(master_root_);
  ASSERT_TRUE(master) << "the rejoined root does not start";
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*master, *sb2); })) << master->Log();
  EXPECT_EQ(Keys(*master, "kv"), Keys(*sb2, "kv"));
}

TEST_F(FailoverTest, AStandbyThatMissedAnEpochMayNotReuseItsNumber) {
  // Found by tandem-chaos (seed 3, cycle 25): sb2 never saw the epoch sb1
  // began, failed over when sb1 died, and began "epoch 2" a second time; the
  // two masters of epoch 2 could never tell which was stale.
  auto master = StartMaster();
  MissedEpoch c;
  ASSERT_NO_FATAL_FAILURE(FailOverWhileSb2Sleeps(*master, /*sb2_mandatory=*/true, 10, &c));
  auto &sb1 = c.sb1, &sb2 = c.sb2, &r1 = c.r1;
  const std::string& sb1_address = c.sb1_address;

  auto refused = Failover(*sb2, {"-y"});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.out.find("'r1' (replica at"), std::string::npos) << refused.out;
  EXPECT_NE(refused.out.find("holds epoch 2, newer than this standby's 1"), std::string::npos)
      << refused.out;
  auto forced = Failover(*sb2, {"--force", "-y"});
  ASSERT_EQ(forced.exit_code, 0) << forced.out << forced.err;
  EXPECT_EQ(FieldOf(One(*sb2, {"info"}), "epoch"), "3");

  // sb1 back: a master of epoch 2 among servers that know of epoch 3.
  sb1 = TandemdProcess::Start(dir_.Sub("sb1"), sb1_address);
  ASSERT_TRUE(sb1);
  ASSERT_TRUE(WaitFor([&] { return Role(*sb1) == "fenced"; })) << sb1->Log();

  // Both old masters rejoin sb2 (tandem-chaos seed 21, cycle 7): sb1's root
  // as 'sb2', which took over from it; the first master's as 'sb1', which
  // took over from it in epoch 2, a failover sb2's history lacks. Both used
  // to take 'sb2', and with no 'sb1' left the mandatory gate never opened.
  EXPECT_EQ(sb1->Terminate(), 0);
  for (const std::string& root : {dir_.Sub("sb1"), master_root_}) {
    auto rejoined = RunTandemd({"-r", root, "--rejoin", sb2->address()});
    ASSERT_EQ(rejoined.exit_code, 0) << root << ": " << rejoined.out << rejoined.err;
  }
  EXPECT_TRUE(ReadAll(dir_.Sub("sb1") + "/server.id").starts_with("sb2\n"));
  EXPECT_TRUE(ReadAll(master_root_ + "/server.id").starts_with("sb1\n"));
  sb1 = TandemdProcess::Start(dir_.Sub("sb1"));
  master = TandemdProcess::Start(master_root_);
  ASSERT_TRUE(sb1 && master);
  Put(*sb2, 100, 105);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*r1, *sb2); })) << r1->Log() << master->Log();
  EXPECT_EQ(Keys(*r1, "kv"), Keys(*sb2, "kv"));
}

TEST_F(FailoverTest, AForcedMasterWaitingForDiskRoomIsNotFencedByTheMasterItOutranks) {
  // Found by tandem-chaos (seed 21, cycle 7): sb2 missed epoch 2, learnt of
  // it from r1 and forced a failover into epoch 3. While it waited for room
  // to write the record that begins epoch 3, the master of epoch 2 came back;
  // sb2's probe, still at epoch 1, took that master for newer and fenced sb2,
  // and the promotion then failed: no server could start.
  auto master = StartMaster();
  MissedEpoch c;  // 300 keys: a journal far longer than sb2's log will grow
  ASSERT_NO_FATAL_FAILURE(FailOverWhileSb2Sleeps(*master, /*sb2_mandatory=*/false, 300, &c));
  auto &sb1 = c.sb1, &sb2 = c.sb2;
  const std::string& sb1_address = c.sb1_address;

  Position copied = PullPosition(*sb2, "journalcopy");
  ASSERT_GT(copied.offset, ReadAll(sb2->log_path()).size() + 16384);
  rlimit full{copied.offset, RLIM_INFINITY};
  ASSERT_EQ(::prlimit(sb2->pid(), RLIMIT_FSIZE, &full, nullptr), 0);
  CommandResult forced;
  std::thread failover([&] { forced = Failover(*sb2, {"--force", "-y"}); });
  auto waits = [&] { return CountOf(sb2->Log(), "cannot finish the failover yet"); };
  bool waiting = WaitFor([&] { return waits() > 0; });
  sb1 = TandemdProcess::Start(dir_.Sub("sb1"), sb1_address);  // a master of epoch 2 again
  ASSERT_TRUE(sb1);
  // sb2 retries every second and probes every rpl.timeout.ms (2 s): five
  // more tries leave room for two probes.
  size_t before = waits();
  bool waited = WaitFor([&] { return waits() >= before + 5; });
  rlimit room{RLIM_INFINITY, RLIM_INFINITY};
  ::prlimit(sb2->pid(), RLIMIT_FSIZE, &room, nullptr);
  failover.join();
  ASSERT_TRUE(waiting && waited) << sb2->Log();
  EXPECT_EQ(sb2->Log().find("refusing all commits"), std::string::npos) << sb2->Log();
  ASSERT_EQ(forced.exit_code, 0) << forced.out << forced.err << sb2->Log();
  // It said how far behind it may be, loudly, and took the checkpoint that
  // servers which applied past its point reseed from.
  EXPECT_NE(forced.out.find("(behind by "), std::string::npos) << forced.out;
  EXPECT_NE(sb2->Log().find("WARNING failover: FORCED"), std::string::npos);
  EXPECT_NE(sb2->Log().find("forced failover: checkpoint"), std::string::npos);
  ASSERT_TRUE(WaitFor([&] { return IsMaster(*sb2); })) << sb2->Log();
  EXPECT_EQ(FieldOf(One(*sb2, {"info"}), "epoch"), "3");
  EXPECT_EQ(RunTandem({"-p", sb2->address(), "put", "kv", "x", "y"}).exit_code, 0);
  ASSERT_TRUE(WaitFor([&] { return Role(*sb1) == "fenced"; })) << sb1->Log();
}

TEST_F(FailoverTest, IgnoringALiveMasterFencesItPastThePointOfNoReturn) {
  auto master = StartMaster();
  AddSpec(*master, "sb1", "standby", true);
  auto standby = StartDownstream("sb1", *master);
  Put(*master, 0, 10);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*standby, *master); }));
  auto r = Failover(*standby, {"-i", "-y"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("SPLIT BRAIN"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("fencing master 'master1'"), std::string::npos) << r.out;
  // Fenced before the standby served: no window in which a standby still
  // following it could fail over from it into an epoch of the same number.
  EXPECT_EQ(Role(*master), "fenced");
  auto refused = RunTandem({"-p", master->address(), "put", "kv", "late", "v"});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("(failover -i)"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("the master is now at " + standby->address()), std::string::npos)
      << refused.err;
  EXPECT_EQ(master->Terminate(), 0);
  master = TandemdProcess::Start(master_root_);  // fenced on disk too
  ASSERT_TRUE(master);
  EXPECT_EQ(Role(*master), "fenced");
}

TEST_F(FailoverTest, AutoFailoverTakesOverWhenTheMasterDies) {
  auto master = StartMaster();
  AddSpec(*master, "sb1", "standby", true);
  for (const char* kv : {"failover.auto=1", "failover.auto.seconds=1"}) {
    ASSERT_EQ(RunTandem({"-p", master->address(), "configure", "set", kv}).exit_code, 0);
  }
  auto standby = StartDownstream("sb1", *master);
  Put(*master, 0, 10);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*standby, *master); }));
  master->Kill9();
  ASSERT_TRUE(WaitFor([&] { return IsMaster(*standby); }));
  EXPECT_EQ(Keys(*standby, "kv").size(), 10u);
  EXPECT_NE(standby->Log().find("failover.auto: the master has been silent"), std::string::npos);
}

TEST_F(FailoverTest, AutoFailoverTakesOverWhenTheMasterHangsAndTheOldOneFencesItselfLater) {
  auto master = StartMaster();
  AddSpec(*master, "sb1", "standby", true);
  Configure(*master, "failover.auto=1");
  Configure(*master, "failover.auto.seconds=1");
  auto sb1 = StartDownstream("sb1", *master);
  ASSERT_TRUE(WaitFor([&] { return Announced(*master, "sb1", *sb1); }));
  Put(*master, 0, 10);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*sb1, *master); }));
  master->Stop();  // no reset, no EOF: silence
  ASSERT_TRUE(WaitFor([&] { return IsMaster(*sb1); })) << sb1->Log();
  EXPECT_EQ(Keys(*sb1, "kv").size(), 10u);
  master->Continue();
  ASSERT_TRUE(WaitFor([&] { return Role(*master) == "fenced"; })) << master->Log();
}

TEST_F(FailoverTest, AutoFailoverLeavesAMasterThatAnswersAgainByTheTimeItFailsOver) {
  auto master = StartMaster();
  AddSpec(*master, "sb1", "standby", true);
  Configure(*master, "failover.auto=1");
  Configure(*master, "failover.auto.seconds=1");
  // Once it has decided, sb1 hangs until the test lets it go on.
  auto sb1 =
      StartDownstream("sb1", *master, {"", {{"TANDEM_FAULTS", "failover.auto.decided=stop"}}, {}});
  Put(*master, 0, 10);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*sb1, *master); }));
  master->Stop();
  ASSERT_TRUE(WaitFor([&] { return ProcessState(sb1->pid()) == 'T'; })) << sb1->Log();
  master->Continue();  // the master is back before sb1 acts
  sb1->Continue();
  ASSERT_TRUE(WaitFor([&] {
    return sb1->Log().find("replaces only a master that is gone") != std::string::npos;
  })) << sb1->Log();
  EXPECT_TRUE(IsMaster(*master));
  EXPECT_EQ(Role(*sb1), "standby");
  Put(*master, 10, 20);
  EXPECT_TRUE(WaitFor([&] { return CaughtUp(*sb1, *master); }));
}

TEST_F(FailoverTest, AStandbyWhoseOwnDiskIsFullDoesNotTakeItsMasterForSilent) {
  auto master = StartMaster();
  AddSpec(*master, "sb1", "standby", true);
  Configure(*master, "failover.auto=1");
  Configure(*master, "failover.auto.seconds=1");
  auto sb1 = StartDownstream("sb1", *master);
  Put(*master, 0, 2000);  // a journal well beyond its log, which must still be written
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*sb1, *master); }));
  rlimit full{PullPosition(*sb1, "journalcopy").offset, RLIM_INFINITY};
  ASSERT_EQ(::prlimit(sb1->pid(), RLIMIT_FSIZE, &full, nullptr), 0);
  // It hears every write and keeps none; its retries back off 50, 100, 200,
  // 400, 800 ms...: by the sixth the 1 s window has passed several times.
  Load load(*master, 2, 100000);
  auto attempts = [&] {  // each one hears the master, then fails to write
    return CountOf(sb1->Log(), "journalcopy: streaming from");
  };
  ASSERT_TRUE(WaitFor([&] { return attempts() >= 7; })) << sb1->Log();
  EXPECT_NE(sb1->Log().find("File too large"), std::string::npos);
  load.Stop();
  EXPECT_EQ(sb1->Log().find("has been silent"), std::string::npos) << sb1->Log();
  EXPECT_TRUE(IsMaster(*master));
  rlimit room{RLIM_INFINITY, RLIM_INFINITY};
  ::prlimit(sb1->pid(), RLIMIT_FSIZE, &room, nullptr);
  EXPECT_TRUE(WaitFor([&] { return CaughtUp(*sb1, *master); }));
}

TEST_F(FailoverTest, AutoFailoverWaitsWhileAnotherServerStillHearsTheMaster) {
  auto master = StartMaster();
  TcpProxy link(master->parsed_address().port);
  AddSpec(*master, "sb1", "standby", true);
  AddSpec(*master, "sb2", "standby", false);
  Configure(*master, "failover.auto=1");
  Configure(*master, "failover.auto.seconds=1");
  auto sb1 = StartDownstream("sb1", link.address());
  auto sb2 = StartDownstream("sb2", *master);
  ASSERT_TRUE(WaitFor([&] { return Announced(*master, "sb2", *sb2); }));
  Put(*master, 0, 10);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*sb1, *master) && CaughtUp(*sb2, *master); }));

  link.Cut();  // only sb1's link to the master
  ASSERT_TRUE(WaitFor([&] {
    return sb1->Log().find("failover.auto: not failing over: 'sb2' heard the master") !=
           std::string::npos;
  })) << sb1->Log();
  EXPECT_FALSE(IsMaster(*sb1));
  EXPECT_TRUE(IsMaster(*master));

  master->Kill9();  // now sb2 hears nothing either
  ASSERT_TRUE(WaitFor([&] { return IsMaster(*sb1); })) << sb1->Log();
  EXPECT_EQ(Keys(*sb1, "kv").size(), 10u);
}

TEST_F(FailoverTest, AutoFailoverIsNotHeldBackByAReplicaThatStreamsFromAnotherStandby) {
  // A replica cascaded from sb2 hears sb2's heartbeats after the master has
  // died; taken for a witness of the master, it held failover.auto back for
  // as long as it streamed.
  auto master = StartMaster();
  AddSpec(*master, "sb1", "standby", true);
  AddSpec(*master, "sb2", "standby", false);
  AddSpec(*master, "r1", "replica", false);
  Configure(*master, "failover.auto=1");
  Configure(*master, "failover.auto.seconds=1");
  auto sb1 = StartDownstream("sb1", *master);
  auto sb2 = StartDownstream("sb2", *master);
  auto r1 = StartDownstream("r1", *master);
  Put(*master, 0, 10);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*r1, *master) && CaughtUp(*sb2, *master); }));
  Configure(*master, "r1#target=" + sb2->address());
  const std::string r1_address = r1->address();
  EXPECT_EQ(r1->Terminate(), 0);
  r1 = TandemdProcess::Start(dir_.Sub("r1"), r1_address);
  ASSERT_TRUE(r1);
  ASSERT_TRUE(WaitFor([&] {
    return FieldOf(One(*r1, {"info"}), "target") == sb2->address() &&
           Announced(*master, "sb1", *sb1) && Announced(*master, "sb2", *sb2) &&
           Announced(*master, "r1", *r1);
  })) << r1->Log();
  Put(*master, 10, 20);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*r1, *master) && CaughtUp(*sb1, *master); }));

  master->Kill9();
  ASSERT_TRUE(WaitFor([&] { return IsMaster(*sb1); })) << sb1->Log();
  EXPECT_EQ(Keys(*sb1, "kv").size(), 20u);
}

TEST_F(FailoverTest, HeartbeatRunsItsTriggersWhenTheMasterHangs) {
  auto master = StartMaster();
  std::string dead = dir_.Sub("dead-trigger-ran");
  std::vector<std::string> hb = {
      "-p", master->address(), "heartbeat",    "-i", "20", "-w", "1000", "-m",
      "2",  "--dead",          "touch " + dead};
  std::vector<std::string> bounded = hb;
  bounded.insert(bounded.end(), {"-n", "3"});
  auto alive = RunTandem(bounded);
  EXPECT_EQ(alive.exit_code, 0) << alive.out;
  EXPECT_EQ(alive.out.find("missing"), std::string::npos) << alive.out;

  master->Stop();  // alive but not answering
  auto hung = RunTandem(hb);
  master->Continue();
  EXPECT_EQ(hung.exit_code, 1) << hung.out;
  EXPECT_NE(hung.out.find("missing (1 of 2)"), std::string::npos) << hung.out;
  EXPECT_NE(hung.out.find("is dead"), std::string::npos) << hung.out;
  EXPECT_TRUE(std::filesystem::exists(dead));
}

}  // namespace
}  // namespace tandem::testing
