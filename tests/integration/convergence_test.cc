// After a failover every server ends up following the new master, and an
// old master learns that it is old, however it was away: hung (SIGSTOP),
// behind a silent link, or killed and started again later.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <thread>

#include "replica/upstream_choice.h"
#include "tests/integration/cluster.h"
#include "tests/integration/tcp_proxy.h"

namespace tandem::testing {
namespace {

class ConvergenceTest : public ClusterTest {
 protected:
  static CommandResult PutOn(const TandemdProcess& p, const std::string& key) {
    return RunTandem({"-p", p.address(), "put", "kv", key, "v"});
  }
};

TEST_F(ConvergenceTest, AHungPeerIsSeenAsNotAliveFromEitherEndOfTheStream) {
  auto master = StartMaster();
  AddSpec(*master, "sb1", "standby", false);
  auto sb1 = StartDownstream("sb1", *master);
  Put(*master, 0, 5);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*sb1, *master); }));
  auto alive = [&] {
    auto c = master->Connect();
    auto servers = c ? c->Call({"", "", {"servers", "-J"}}) : Status::Unavailable("no master");
    if (!servers.ok()) return std::string("no answer");
    for (const Row& r : servers->rows) {
      if (FieldOf(r, "serverID") == "sb1") return std::string(FieldOf(r, "alive"));
    }
    return std::string("missing");
  };
  ASSERT_EQ(alive(), "1");
  // The downstream hangs: its acknowledgements stop, and the master says so.
  sb1->Stop();
  ASSERT_TRUE(WaitFor([&] { return alive() == "0"; })) << master->Log();
  EXPECT_NE(master->Log().find("'sb1' acknowledged nothing for"), std::string::npos);
  sb1->Continue();
  ASSERT_TRUE(WaitFor([&] { return alive() == "1"; }));
  // The master hangs: the heartbeats stop, and the standby says so.
  master->Stop();
  ASSERT_TRUE(WaitFor([&] {
    auto pulled = RunTandem({"-p", sb1->address(), "pull", "-lj"});
    return pulled.exit_code == 4 && pulled.out.find("NOT CONNECTED") != std::string::npos;
  })) << sb1->Log();
  master->Continue();
  ASSERT_TRUE(WaitFor([&] { return FieldOf(One(*sb1, {"pull", "-lj"}), "connected") == "1"; }));
  Put(*master, 5, 10);
  EXPECT_TRUE(WaitFor([&] { return CaughtUp(*sb1, *master); }));
}

TEST_F(ConvergenceTest, WhenTheMasterHangsEveryServerFollowsTheNewOneAndTheOldOneFencesItself) {
  auto master = StartMaster();
  AddSpec(*master, "sb1", "standby", true);
  AddSpec(*master, "sb2", "standby", false);
  AddSpec(*master, "r1", "replica", false);
  Configure(*master, "commit.wait=mandatory");
  auto sb1 = StartDownstream("sb1", *master);
  // Neither is told about sb1: they learn it from the replicated specs.
  auto sb2 = StartDownstream("sb2", *master);
  auto r1 = StartDownstream("r1", *master);
  ASSERT_TRUE(WaitFor([&] { return Announced(*master, "sb1", *sb1); }));
  Put(*master, 0, 20);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*sb2, *master) && CaughtUp(*r1, *master); }));

  master->Stop();  // hung: connections open, nothing answers
  // A commit the hung master will find when it wakes: it must never be
  // acknowledged, since no mandatory standby will ever confirm it.
  std::atomic<int> late_code{-1};
  std::thread late([&] {
    auto c = master->Connect();
    auto r = c ? c->Call({"", "", {"put", "kv", "late", "v"}}) : Result<Response>(Status::Ok());
    late_code = r.ok() ? static_cast<int>(r->status.code()) : -2;
  });

  auto done = Failover(*sb1, {"-y"});
  ASSERT_EQ(done.exit_code, 0) << done.out << done.err;
  // failover -y returns once the new master accepts writes.
  auto first = PutOn(*sb1, "first-on-the-new-master");
  ASSERT_EQ(first.exit_code, 0) << first.err;
  Put(*sb1, 100, 110);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*sb2, *sb1) && CaughtUp(*r1, *sb1); }))
      << sb2->Log() << r1->Log();
  EXPECT_EQ(Keys(*sb2, "kv"), Keys(*sb1, "kv"));
  EXPECT_EQ(Keys(*r1, "kv"), Keys(*sb1, "kv"));

  master->Continue();
  ASSERT_TRUE(WaitFor([&] { return Role(*master) == "fenced"; })) << master->Log();
  late.join();
  EXPECT_NE(late_code.load(), static_cast<int>(Code::kOk)) << "the stale master acknowledged";
  auto refused = PutOn(*master, "on-the-old-master");
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("the master is now at " + sb1->address()), std::string::npos)
      << refused.err;
  EXPECT_FALSE(Keys(*sb1, "kv").count("late"));
}

TEST_F(ConvergenceTest, AnOldMasterStartedAgainAfterAnUnplannedFailoverFencesItselfFirst) {
  auto master = StartMaster();
  AddSpec(*master, "sb1", "standby", true);
  auto sb1 = StartDownstream("sb1", *master);
  ASSERT_TRUE(WaitFor([&] { return Announced(*master, "sb1", *sb1); }));
  Put(*master, 0, 10);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*sb1, *master); }));
  master->Kill9();
  auto done = Failover(*sb1, {"-y"});
  ASSERT_EQ(done.exit_code, 0) << done.out << done.err;

  // Back on another address, where the new master cannot tell it: it asks
  // its standbys before it serves, and commit.wait=local does not matter.
  master = TandemdProcess::Start(master_root_);
  ASSERT_TRUE(master);
  auto refused = PutOn(*master, "zombie");
  EXPECT_NE(refused.exit_code, 0) << "an old master acknowledged a write in the new epoch";
  EXPECT_NE(refused.err.find("the master is now at " + sb1->address()), std::string::npos)
      << refused.err;
  EXPECT_EQ(Role(*master), "fenced");
}

TEST_F(ConvergenceTest, EachServerConnectsFromItsNetSourceSoOneLinkCanBeCutAlone) {
  // Both standbys reach the master at the same address; only sb1's link
  // goes silent, told apart by the address sb1 connects from.
  auto master = StartMaster();
  TcpProxy front(master->parsed_address().port);
  AddSpec(*master, "sb1", "standby", false);
  AddSpec(*master, "sb2", "standby", false);
  auto bad = RunTandemd({"-r", dir_.Sub("x"), "-cset", "net.source=127.0.0.1:5"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("net.source must be an IP address (no port)"), std::string::npos)
      << bad.err;
  for (auto [id, source] : {std::pair{"sb1", "127.0.0.12"}, std::pair{"sb2", "127.0.0.13"}}) {
    std::string root = dir_.Sub(id);
    ASSERT_EQ(RunTandemd({"-r", root, "--id", id}).exit_code, 0);
    ASSERT_EQ(RunTandemd({"-r", root, "-cset", "target=" + front.address()}).exit_code, 0);
    ASSERT_EQ(RunTandemd({"-r", root, "-cset", std::string("net.source=") + source}).exit_code, 0);
  }
  auto sb1 = StartDownstream("sb1", front.address());
  auto sb2 = StartDownstream("sb2", front.address());
  Put(*master, 0, 5);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*sb1, *master) && CaughtUp(*sb2, *master); }));

  front.BlackHole("127.0.0.12");
  Put(*master, 5, 10);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*sb2, *master); })) << sb2->Log();
  ASSERT_TRUE(WaitFor([&] {
    auto pulled = RunTandem({"-p", sb1->address(), "pull", "-lj"});
    return pulled.exit_code == 4 && pulled.out.find("NOT CONNECTED") != std::string::npos;
  })) << sb1->Log();
  EXPECT_FALSE(CaughtUp(*sb1, *master));
  front.Restore("127.0.0.12");
  EXPECT_TRUE(WaitFor([&] { return CaughtUp(*sb1, *master); })) << sb1->Log();
}

TEST_F(ConvergenceTest, AReplicaMovesToANewerMasterWhileItsOldMasterStillServesIt) {
  // sb1 reaches the master through a link that goes silent; the replica
  // reaches it directly. The old master cannot learn of sb1 by itself
  // (sb1's spec names no address it can reach), and it keeps serving the
  // replica: only the replica's own checks can move it.
  auto master = StartMaster();
  TcpProxy link(master->parsed_address().port);
  AddSpec(*master, "sb1", "standby", true, "127.0.0.1:1");
  AddSpec(*master, "r1", "replica", false);
  auto sb1 = StartDownstream("sb1", link.address());
  auto r1 = StartDownstream("r1", master->address() + "," + sb1->address());
  Put(*master, 0, 10);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*sb1, *master) && CaughtUp(*r1, *master); }));

  link.BlackHole();
  auto done = Failover(*sb1, {"-y"});
  ASSERT_EQ(done.exit_code, 0) << done.out << done.err;
  Put(*sb1, 100, 105);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*r1, *sb1); })) << r1->Log();
  EXPECT_EQ(Keys(*r1, "kv"), Keys(*sb1, "kv"));
  EXPECT_NE(r1->Log().find("newer than epoch 1"), std::string::npos) << r1->Log();
  // And having moved, the replica tells the old master it is stale.
  ASSERT_TRUE(WaitFor([&] { return Role(*master) == "fenced"; }));
}

TEST_F(ConvergenceTest, AStandbyPointedAtAnotherStandbyStreamsFromTheMasterItFollows) {
  // Found by tandem-chaos (seed 1, cycle 8): a mandatory standby whose
  // target had become a (rejoined) standby cascaded from it, so the master
  // never heard its acknowledgements and every commit waited.
  auto master = StartMaster();
  AddSpec(*master, "sb1", "standby", true);
  AddSpec(*master, "sb2", "standby", true);
  Configure(*master, "commit.wait=mandatory");
  auto sb1 = StartDownstream("sb1", *master);
  auto sb2 = StartDownstream("sb2", sb1->address());
  Put(*master, 0, 10);  // acknowledged only once sb2 itself has flushed them
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*sb2, *master); }));
  EXPECT_EQ(FieldOf(One(*sb2, {"info"}), "target"), master->address());
}

TEST_F(ConvergenceTest, AnOverrideNamingADeadAddressOrTheServerItselfIsATrapNoLonger) {
  auto master = StartMaster();
  AddSpec(*master, "r1", "replica", false);
  auto r1 = StartDownstream("r1", *master);
  const std::string r1_address = r1->address();
  Put(*master, 0, 5);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*r1, *master); }));
  for (const std::string& target : {std::string("127.0.0.1:1"), r1_address}) {
    SCOPED_TRACE("r1#target=" + target);
    Configure(*master, "r1#target=" + target);
    ASSERT_TRUE(WaitFor([&] { return CaughtUp(*r1, *master); }));
    EXPECT_EQ(r1->Terminate(), 0);
    r1 = TandemdProcess::Start(dir_.Sub("r1"), r1_address);
    ASSERT_TRUE(r1);
    Put(*master, 5, 10);
    ASSERT_TRUE(WaitFor([&] { return CaughtUp(*r1, *master); })) << r1->Log();
  }
  ASSERT_EQ(RunTandem({"-p", master->address(), "configure", "unset", "r1#target"}).exit_code, 0);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*r1, *master); }));
  EXPECT_TRUE(FieldOf(One(*r1, {"get", "config", "r1#target"}), "value").empty());
}

TEST_F(ConvergenceTest, AServerNeverStreamsFromItselfUnderAnotherFormOfItsAddress) {
  auto master = StartMaster();
  AddSpec(*master, "sb1", "standby", false);
  auto sb1 = StartDownstream("sb1", *master);
  Put(*master, 0, 5);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*sb1, *master); }));

  // Asked for its own journal, a server refuses, whoever asks.
  auto c = sb1->Connect();
  ASSERT_TRUE(c);
  auto self = c->Call({"", "", {"journal-stream", "sb1", "1/0", "-"}});
  ASSERT_TRUE(self.ok());
  EXPECT_EQ(self->status.code(), Code::kInvalidArgument) << self->status.ToString();
  EXPECT_NE(self->status.message().find("itself"), std::string::npos);

  // With its master gone and its first candidate itself (0.0.0.0 reaches
  // it too), it tries the master again, not itself.
  const std::string port = sb1->address().substr(sb1->address().rfind(':') + 1);
  UpstreamCandidates candidates;
  candidates.addresses = {*Address::Parse("0.0.0.0:" + port), *Address::Parse(master->address())};
  candidates.first_preferred = true;
  master->Kill9();
  UpstreamChoice choice = ChooseUpstream(candidates, "sb1", 1, HelloRound{});
  EXPECT_FALSE(choice.found);
  EXPECT_EQ(choice.address.ToString(), master->address());
}

TEST_F(ConvergenceTest, ARetiredMandatoryStandbyDeletedFromTheSpecsNoLongerHoldsCommits) {
  auto master = StartMaster();
  AddSpec(*master, "sb1", "standby", true);
  Configure(*master, "commit.wait=mandatory");
  auto sb1 = StartDownstream("sb1", *master);
  Put(*master, 0, 5);
  sb1->Kill9();  // for good
  // A commit already held at the gate for sb1 is let through by the deletion.
  CommandResult held;
  const Position before = Durable(*master);
  std::thread waiting([&] { held = PutOn(*master, "held"); });
  // Durable on the master, so now at the gate.
  bool journaled = WaitFor([&] { return before < Durable(*master); });
  auto deleted = RunTandem({"-p", master->address(), "server", "-d", "sb1"});
  waiting.join();
  ASSERT_TRUE(journaled);
  ASSERT_EQ(deleted.exit_code, 0) << deleted.err;
  EXPECT_EQ(held.exit_code, 0) << held.err;
  EXPECT_NE(RunTandem({"-p", master->address(), "server", "-d", "master1"}).exit_code, 0);
  Put(*master, 5, 10);  // acknowledged: nothing mandatory is left to wait for
  EXPECT_EQ(RunTandem({"-p", master->address(), "server", "-o", "sb1"}).exit_code, 1);
}

}  // namespace
}  // namespace tandem::testing
