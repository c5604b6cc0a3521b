// After a failover, every downstream server follows the new master by
// itself, whatever it held: a standby that journalcopied past the failover
// point cuts its copy back, a replica that applied past a forced failover's
// point reseeds itself; and a standby's own root can seed others.
#include <gtest/gtest.h>

#include <set>

#include "tests/integration/cluster.h"
#include "tests/testing/journal_files.h"

namespace tandem::testing {
namespace {

class FollowTest : public ClusterTest {
 protected:
  // Restarts a stopped downstream root on the address it had.
  std::unique_ptr<TandemdProcess> Restart(const std::string& id, const std::string& address) {
    auto p = TandemdProcess::Start(dir_.Sub(id), address);
    EXPECT_TRUE(p);
    return p;
  }
};

TEST_F(FollowTest, AStandbyThatCopiedPastTheFailoverPointCutsItsCopyBackAndFollows) {
  auto master = StartMaster();
  AddSpec(*master, "sb1", "standby", true);
  AddSpec(*master, "sb2", "standby", false);
  auto sb1 = StartDownstream("sb1", *master);
  const std::string sb1_address = sb1->address();
  auto sb2 = StartDownstream("sb2", master->address() + "," + sb1_address);
  Put(*master, 0, 10);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*sb1, *master) && CaughtUp(*sb2, *master); }));

  // sb1 goes away; the master goes on (commit.wait=local) and sb2, a
  // standby, copies all of it but applies only up to the release sb1 holds.
  EXPECT_EQ(sb1->Terminate(), 0);
  Put(*master, 10, 20);
  Position durable = Durable(*master);
  ASSERT_TRUE(WaitFor([&] { return PullPosition(*sb2, "journalcopy") == durable; }));
  EXPECT_LT(PullPosition(*sb2, "applied"), durable);
  master->Kill9();

  sb1 = Restart("sb1", sb1_address);
  auto r = Failover(*sb1, {"-y"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  ASSERT_TRUE(WaitFor([&] { return IsMaster(*sb1); }));
  EXPECT_EQ(Keys(*sb1, "kv").size(), 10u);
  Put(*sb1, 100, 105);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*sb2, *sb1); })) << sb2->Log();
  EXPECT_EQ(Keys(*sb2, "kv"), Keys(*sb1, "kv"));
  EXPECT_GT(FileSize(dir_.Sub("sb2") + "/journal.diverged"), 0u);
  EXPECT_NE(sb2->Log().find("journalcopy cut back to"), std::string::npos);
}

TEST_F(FollowTest, AForcedFailoverToANonMandatoryStandbyReseedsAReplicaThatWasAhead) {
  auto master = StartMaster();
  AddSpec(*master, "sb1", "standby", false);
  AddSpec(*master, "r1", "replica", false);
  auto sb1 = StartDownstream("sb1", *master);
  const std::string sb1_address = sb1->address();
  auto r1 = StartDownstream("r1", master->address() + "," + sb1_address);
  Put(*master, 0, 10);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*sb1, *master) && CaughtUp(*r1, *master); }));
  // With no mandatory standby, release is the durable position: the replica
  // applies what the standby never gets.
  EXPECT_EQ(sb1->Terminate(), 0);
  Put(*master, 10, 20);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*r1, *master); }));
  master->Kill9();
  sb1 = Restart("sb1", sb1_address);

  auto refused = Failover(*sb1, {"-y"});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.out.find("with --force"), std::string::npos) << refused.out;
  auto preview = Failover(*sb1, {"--force"});
  EXPECT_EQ(preview.exit_code, 0) << preview.out;
  EXPECT_NE(preview.out.find("FORCED"), std::string::npos) << preview.out;
  EXPECT_NE(preview.out.find("failover --force -y would run"), std::string::npos) << preview.out;
  EXPECT_FALSE(IsMaster(*sb1));

  auto forced = Failover(*sb1, {"--force", "-y"});
  ASSERT_EQ(forced.exit_code, 0) << forced.out << forced.err;
  ASSERT_TRUE(WaitFor([&] { return IsMaster(*sb1); }));
  EXPECT_EQ(Keys(*sb1, "kv").size(), 10u);  // what it had; the rest is lost
  // The replica held writes the new master never had: it reseeds itself.
  ASSERT_TRUE(WaitFor([&] { return Keys(*r1, "kv") == Keys(*sb1, "kv"); })) << r1->Log();
  EXPECT_NE(r1->Log().find("reseed"), std::string::npos);
  Put(*sb1, 100, 105);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*r1, *sb1); }));
  EXPECT_EQ(Keys(*r1, "kv"), Keys(*sb1, "kv"));
}

TEST_F(FollowTest, AStandbyCheckpointsItsOwnCopiesOnlineAndOffline) {
  auto master = StartMaster();
  AddSpec(*master, "sb1", "standby", true);
  auto sb1 = StartDownstream("sb1", *master);
  Put(*master, 0, 10);
  ASSERT_EQ(RunTandem({"-p", master->address(), "admin", "journal"}).exit_code, 0);
  Put(*master, 10, 15);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*sb1, *master); }));
  auto online = RunTandem({"-p", sb1->address(), "admin", "checkpoint"});
  ASSERT_EQ(online.exit_code, 0) << online.err;
  EXPECT_TRUE(std::filesystem::exists(dir_.Sub("sb1/checkpoints/ckp.2.gz")));
  ASSERT_EQ(RunTandem({"-p", master->address(), "admin", "journal"}).exit_code, 0);
  Put(*master, 15, 20);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*sb1, *master); }));
  EXPECT_EQ(sb1->Terminate(), 0);
  auto offline = RunTandemd({"-r", dir_.Sub("sb1"), "-jc"});
  ASSERT_EQ(offline.exit_code, 0) << offline.err;
  EXPECT_TRUE(std::filesystem::exists(dir_.Sub("sb1/checkpoints/ckp.3.gz")));
  // It is a checkpoint like the master's: -jr restores it into a new root.
  auto restored =
      RunTandemd({"-r", dir_.Sub("restored"), "-jr", dir_.Sub("sb1/checkpoints/ckp.3.gz")});
  ASSERT_EQ(restored.exit_code, 0) << restored.err;
  auto copy = TandemdProcess::Start(dir_.Sub("restored"));
  ASSERT_TRUE(copy);
  EXPECT_EQ(Keys(*copy, "kv").size(), 15u);
}

TEST_F(FollowTest, PromotingAStandbyByEditingItsRootIsRefusedAndNamesFailover) {
  auto master = StartMaster();
  AddSpec(*master, "sb1", "standby", true);
  auto sb1 = StartDownstream("sb1", *master);
  Put(*master, 0, 10);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*sb1, *master); }));
  EXPECT_EQ(sb1->Terminate(), 0);
  // The old runbook: take the master's ServerID, drop the target, start.
  ASSERT_EQ(RunTandemd({"-r", dir_.Sub("sb1"), "--id", "master1"}).exit_code, 0);
  ASSERT_EQ(RunTandemd({"-r", dir_.Sub("sb1"), "-cset", "target="}).exit_code, 0);
  EXPECT_FALSE(TandemdProcess::Start(dir_.Sub("sb1")));
  std::string err = ReadAll(dir_.Sub("sb1") + ".stderr");
  EXPECT_NE(err.find("would serve an empty database"), std::string::npos) << err;
  EXPECT_NE(err.find("failover"), std::string::npos) << err;
}

}  // namespace
}  // namespace tandem::testing
