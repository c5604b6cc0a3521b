// Master, standbys and replicas as real processes on loopback: byte-for-byte
// journalcopy, resume after SIGKILL, mandatory gating, refusals.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "journal/record.h"
#include "journal/transaction.h"
#include "tests/integration/cluster.h"
#include "tests/integration/tcp_proxy.h"
#include "tests/testing/journal_files.h"

namespace tandem::testing {
namespace {

class ReplicationTest : public ClusterTest {};

TEST_F(ReplicationTest, StandbyJournalIsByteForByteAndSurvivesSigkill) {
  auto master = StartMaster();
  AddSpec(*master, "sb1", "standby", false);
  auto standby = StartDownstream("sb1", *master);
  Put(*master, 0, 300);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*standby, *master); }));

  // Kill it mid-stream and keep writing; rotate on the master meanwhile.
  std::thread load([&] { Put(*master, 300, 1500); });
  ASSERT_TRUE(WaitFor([&] { return PullPosition(*standby, "journalcopy").offset > 0; }));
  standby->Kill9();
  load.join();
  auto rotate = RunTandem({"-p", master->address(), "admin", "journal"});
  ASSERT_EQ(rotate.exit_code, 0) << rotate.err;
  Put(*master, 1500, 1600);

  standby = StartDownstream("sb1", *master);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*standby, *master); }));
  Position end = Durable(*master);
  EXPECT_EQ(end.journal, 2u);
  EXPECT_EQ(ReadAll(dir_.Sub("sb1/journals.rep/journal.1")),
            ReadAll(master_root_ + "/journals/journal.1"));
  EXPECT_EQ(ReadAll(dir_.Sub("sb1/journals.rep/journal.2")),
            ReadAll(master_root_ + "/journal").substr(0, end.offset));

  // Same rows, proven by a checksum marker applied at the same position.
  ASSERT_EQ(RunTandem({"-p", master->address(), "journaldbchecksums"}).exit_code, 0);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*standby, *master); }));
  auto verdicts = RunTandem({"-p", standby->address(), "journaldbchecksums", "-s"});
  EXPECT_EQ(verdicts.exit_code, 0);
  EXPECT_NE(verdicts.out.find("kv match"), std::string::npos) << verdicts.out;
  EXPECT_EQ(verdicts.out.find("DIFFER"), std::string::npos) << verdicts.out;
}

TEST_F(ReplicationTest, AReplicaThatLostATransactionDiffersAndSaysSoInItsExitCode) {
  auto master = StartMaster();
  AddSpec(*master, "r1", "replica", false);
  // The replica drops the 3rd transaction it applies: what a bad disk or a
  // bug would do to it.
  auto replica = StartDownstream("r1", *master,
                                 {"", {{"TANDEM_FAULTS", "pull-L.skip-transaction=error@3"}}, {}});
  ASSERT_TRUE(replica);
  Put(*master, 0, 10);
  ASSERT_EQ(RunTandem({"-p", master->address(), "journaldbchecksums"}).exit_code, 0);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*replica, *master); }));
  auto verdicts = RunTandem({"-p", replica->address(), "journaldbchecksums", "-s"});
  EXPECT_EQ(verdicts.exit_code, 3) << verdicts.out << verdicts.err;
  // Which table differs depends on which transaction the replica applied 3rd
  // (on a slow machine it was a server spec, not a row of kv); the verdict
  // and its exit code are what this test is about.
  EXPECT_NE(verdicts.out.find(" DIFFER "), std::string::npos) << verdicts.out;
}

TEST_F(ReplicationTest, ReplicaNeverPassesAStoppedMandatoryStandby) {
  auto master = StartMaster();
  AddSpec(*master, "sb1", "standby", true);
  AddSpec(*master, "r1", "replica", false);
  auto standby = StartDownstream("sb1", *master);
  auto replica = StartDownstream("r1", *master);
  Put(*master, 0, 100);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*replica, *master) && CaughtUp(*standby, *master); }));

  standby->Kill9();
  Put(*master, 100, 200);  // durable on the master, never flushed by the standby
  Position durable = Durable(*master);
  Row master_view = One(*master, {"servers", "-J"});
  Position release;
  Position::ParseToken(std::string(FieldOf(master_view, "release")), &release);
  EXPECT_LT(release, durable) << "release moved past a dead mandatory standby";
  EXPECT_LE(PullPosition(*replica, "applied"), release);
  EXPECT_LE(PullPosition(*replica, "journalcopy"), release);
  EXPECT_FALSE(One(*replica, {"get", "kv", "k150"}).size()) << "replica holds an unreleased record";

  standby = StartDownstream("sb1", *master);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*replica, *master); }));
  EXPECT_EQ(FieldOf(One(*replica, {"get", "kv", "k150"}), "value"), std::string(100, 'v'));
}

TEST_F(ReplicationTest, MandatoryCommitWaitAcknowledgesOnlyWhatTheStandbyFlushed) {
  auto master = StartMaster();
  AddSpec(*master, "sb1", "standby", true);
  ASSERT_EQ(
      RunTandem({"-p", master->address(), "configure", "set", "commit.wait=mandatory"}).exit_code,
      0);
  auto standby = StartDownstream("sb1", *master);
  Put(*master, 0, 20);  // acknowledged: the standby is up

  standby->Kill9();
  Position before = Durable(*master);
  std::atomic<bool> acked{false};
  std::thread writer([&] {
    auto c = master->Connect();
    auto r = c->Call({"", "", {"put", "kv", "waits", "for-the-standby"}});
    acked = r.ok() && r->status.ok();
  });
  // Durable on the master, but no mandatory standby has it: no ack.
  ASSERT_TRUE(WaitFor([&] { return before < Durable(*master); }));
  EXPECT_FALSE(acked) << "acknowledged a write no mandatory standby holds";

  standby = StartDownstream("sb1", *master);
  ASSERT_TRUE(WaitFor([&] { return acked.load(); }));
  writer.join();
  EXPECT_NE(ReadAll(dir_.Sub("sb1/journals.rep/journal.1")).find("for-the-standby"),
            std::string::npos);
}

TEST_F(ReplicationTest, AMandatoryCommitNoStandbyConfirmsInTimeFailsAsUnconfirmed) {
  auto master = StartMaster();
  AddSpec(*master, "sb1", "standby", true);
  for (std::string kv : {"commit.wait=mandatory", "commit.wait.timeout=1"}) {
    ASSERT_EQ(RunTandem({"-p", master->address(), "configure", "set", kv}).exit_code, 0);
  }
  auto standby = StartDownstream("sb1", *master);
  Put(*master, 0, 5);

  standby->Stop();  // hung: connected, silent
  auto c = master->Connect();
  auto r = c->Call({"", "", {"put", "kv", "hung", "standby"}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status.code(), Code::kUnconfirmed) << r->status.ToString();
  EXPECT_NE(r->status.message().find("'sb1'"), std::string::npos) << r->status.ToString();
  // Not acknowledged, but not undone either: the master holds it, and the
  // standby gets it once it is back.
  EXPECT_EQ(FieldOf(One(*master, {"get", "kv", "hung"}), "value"), "standby");
  standby->Continue();
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*standby, *master); }));
  r = c->Call({"", "", {"put", "kv", "after", "it-returned"}});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->status.ok()) << r->status.ToString();
}

TEST_F(ReplicationTest, MasterKilledMidLoadNeverSentAByteItLost) {
  auto master = StartMaster();
  AddSpec(*master, "sb1", "standby", false);
  auto standby = StartDownstream("sb1", *master);
  std::thread load([&] {
    auto c = master->Connect();
    for (int i = 0; i < 100000 && c; ++i) {
      auto r = c->Call({"", "", {"put", "kv", "k" + std::to_string(i), std::string(200, 'v')}});
      if (!r.ok()) return;
    }
  });
  ASSERT_TRUE(WaitFor([&] { return PullPosition(*standby, "journalcopy").offset > 200000; }));
  std::string address = master->address();
  master->Kill9();
  load.join();

  master = TandemdProcess::Start(master_root_, address);  // recovery cuts whatever was torn
  ASSERT_TRUE(master);
  std::string copy = ReadAll(dir_.Sub("sb1/journals.rep/journal.1"));
  std::string ours = ReadAll(master_root_ + "/journal");
  ASSERT_LE(copy.size(), Durable(*master).offset) << "the standby holds bytes the master lost";
  EXPECT_EQ(copy, ours.substr(0, copy.size()));

  Put(*master, 0, 10);  // the standby reconnects by itself and catches up
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*standby, *master); }));
}

TEST_F(ReplicationTest, PartitionedStandbyCatchesUpWhenThePathReturns) {
  auto master = StartMaster();
  AddSpec(*master, "sb1", "standby", false);
  TcpProxy proxy(master->parsed_address().port);
  std::string root = dir_.Sub("sb1");
  ASSERT_EQ(RunTandemd({"-r", root, "--id", "sb1"}).exit_code, 0);
  ASSERT_EQ(RunTandemd({"-r", root, "-cset", "target=" + proxy.address()}).exit_code, 0);
  auto standby = TandemdProcess::Start(root);
  ASSERT_TRUE(standby);
  Put(*master, 0, 50);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*standby, *master); }));

  EXPECT_EQ(RunTandem({"-p", standby->address(), "pull", "-lj"}).exit_code, 0);
  proxy.Cut();
  ASSERT_TRUE(WaitFor([&] { return FieldOf(One(*standby, {"pull", "-lj"}), "connected") == "0"; }));
  auto lost = RunTandem({"-p", standby->address(), "pull", "-lj"});
  EXPECT_EQ(lost.exit_code, 4) << lost.out;  // scriptable: not connected to its master
  EXPECT_NE(lost.out.find("NOT CONNECTED"), std::string::npos) << lost.out;
  EXPECT_EQ(RunTandem({"-p", standby->address(), "info"}).exit_code, 4);
  // A master pulls from no one, and says so (a script checks roles this way).
  auto on_master = RunTandem({"-p", master->address(), "--json", "pull", "-lj"});
  EXPECT_EQ(on_master.exit_code, 1);
  EXPECT_NE(on_master.out.find("\"code\":\"failed-precondition\""), std::string::npos)
      << on_master.out;
  EXPECT_NE(on_master.out.find("not a replica"), std::string::npos) << on_master.out;
  Put(*master, 50, 100);
  EXPECT_LT(PullPosition(*standby, "journalcopy"), Durable(*master));

  proxy.Restore();
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*standby, *master); }));
  EXPECT_EQ(FieldOf(One(*standby, {"get", "kv", "k99"}), "value"), std::string(100, 'v'));
}

TEST_F(ReplicationTest, EmptyRootSeedsItselfFromTheNewestCheckpoint) {
  auto master = StartMaster();
  auto T = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"-p", master->address()});
    return RunTandem(args).exit_code;
  };
  ASSERT_EQ(T({"configure", "set", "journal.retain=1"}), 0);
  ASSERT_EQ(T({"put", "kv", "a", "1"}), 0);
  ASSERT_EQ(T({"admin", "checkpoint"}), 0);
  ASSERT_EQ(T({"put", "kv", "b", "2"}), 0);
  ASSERT_EQ(T({"admin", "checkpoint"}), 0);  // journal.1 and ckp.2 are gone now
  ASSERT_FALSE(std::filesystem::exists(master_root_ + "/journals/journal.1"));
  AddSpec(*master, "r1", "replica", false);

  auto replica = StartDownstream("r1", *master);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*replica, *master); }));
  EXPECT_EQ(FieldOf(One(*replica, {"get", "kv", "a"}), "value"), "1");
  EXPECT_EQ(FieldOf(One(*replica, {"get", "kv", "b"}), "value"), "2");
  EXPECT_TRUE(std::filesystem::exists(dir_.Sub("r1/checkpoints/ckp.3.gz")));
}

TEST_F(ReplicationTest, StandbyBehindRetentionIsToldToReseedAndReseedFixesIt) {
  auto master = StartMaster();
  AddSpec(*master, "sb1", "standby", false);
  auto standby = StartDownstream("sb1", *master);
  Put(*master, 0, 10);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*standby, *master); }));
  std::string address = standby->address();
  standby->Terminate();

  auto T = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"-p", master->address()});
    return RunTandem(args).exit_code;
  };
  ASSERT_EQ(T({"configure", "set", "journal.retain=1"}), 0);
  for (int i = 0; i < 3; ++i) {
    Put(*master, 10 + i, 11 + i);
    ASSERT_EQ(T({"admin", "checkpoint"}), 0);
  }
  standby = TandemdProcess::Start(dir_.Sub("sb1"), address);
  ASSERT_TRUE(standby);
  ASSERT_TRUE(WaitFor([&] {
    return FieldOf(One(*standby, {"pull", "-lj"}), "lastError").find("admin reseed") !=
           std::string_view::npos;
  }));

  auto reseed = RunTandem({"-p", standby->address(), "admin", "reseed", "-y"});
  ASSERT_EQ(reseed.exit_code, 0) << reseed.err;
  Put(*master, 100, 101);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*standby, *master); }));
  EXPECT_EQ(FieldOf(One(*standby, {"get", "kv", "k12"}), "value"), std::string(100, 'v'));
  EXPECT_EQ(FieldOf(One(*standby, {"get", "kv", "k100"}), "value"), std::string(100, 'v'));
}

TEST_F(ReplicationTest, TargetSetOnTheMasterRepointsTheStandby) {
  auto master = StartMaster();
  AddSpec(*master, "sb1", "standby", false);
  auto standby = StartDownstream("sb1", *master);
  TcpProxy proxy(master->parsed_address().port);
  ASSERT_EQ(
      RunTandem({"-p", master->address(), "configure", "set", "sb1#target=" + proxy.address()})
          .exit_code,
      0);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*standby, *master); }));  // it has the setting now
  standby->Terminate();
  standby = StartDownstream("sb1", *master);
  Put(*master, 0, 5);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*standby, *master); }));
  proxy.Cut();  // only a standby that went through the proxy loses its upstream
  ASSERT_TRUE(WaitFor([&] { return FieldOf(One(*standby, {"pull", "-lj"}), "connected") == "0"; }));
}

TEST_F(ReplicationTest, ReplicaOfAStandbyCascades) {
  auto master = StartMaster();
  AddSpec(*master, "sb1", "standby", false);
  AddSpec(*master, "r2", "replica", false);
  auto standby = StartDownstream("sb1", *master);
  auto replica = StartDownstream("r2", *standby);  // its target is the standby
  Put(*master, 0, 200);
  ASSERT_EQ(RunTandem({"-p", master->address(), "journaldbchecksums"}).exit_code, 0);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*replica, *master); }));
  EXPECT_EQ(FieldOf(One(*replica, {"get", "kv", "k199"}), "value"), std::string(100, 'v'));
  auto verdicts = RunTandem({"-p", replica->address(), "journaldbchecksums", "-s"});
  EXPECT_NE(verdicts.out.find("kv match"), std::string::npos) << verdicts.out;
  EXPECT_EQ(ReadAll(dir_.Sub("r2/journals.rep/journal.1")),
            ReadAll(dir_.Sub("sb1/journals.rep/journal.1")));
}

TEST_F(ReplicationTest, ServerWithoutASpecIsRefused) {
  auto master = StartMaster();
  auto ghost = StartDownstream("ghost", *master);
  ASSERT_TRUE(WaitFor([&] {
    return FieldOf(One(*ghost, {"pull", "-lj"}), "lastError").find("no server spec for 'ghost'") !=
           std::string_view::npos;
  }));
}

TEST_F(ReplicationTest, DivergedStandbyJournalIsRefusedNotAppendedTo) {
  auto master = StartMaster();
  AddSpec(*master, "sb1", "standby", false);
  auto standby = StartDownstream("sb1", *master);
  Put(*master, 0, 50);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*standby, *master); }));
  standby->Terminate();
  // Someone edits the copy by hand: a different, valid last record.
  std::string path = dir_.Sub("sb1/journals.rep/journal.1");
  std::string bytes = ReadAll(path);
  std::string forged;
  EncodeRecord(RecordType::kTransaction, 0, Epoch{1}, 999,
               EncodeTransaction({{Op::Put("kv", "forged", "x")}}), &forged);
  WriteAll(path, bytes + forged);
  Put(*master, 50, 60);

  standby = StartDownstream("sb1", *master);
  ASSERT_TRUE(WaitFor([&] {
    return FieldOf(One(*standby, {"pull", "-lj"}), "lastError").find("differs") !=
           std::string_view::npos;
  })) << ReadAll(dir_.Sub("sb1.log"));
  EXPECT_EQ(ReadAll(path).size(), bytes.size() + forged.size()) << "appended to a diverged journal";
}

TEST_F(ReplicationTest, StandbyWithAWrongServicePasswordIsRefused) {
  master_root_ = dir_.Sub("master");
  ASSERT_EQ(RunTandemd({"-r", master_root_, "--id", "master1"}).exit_code, 0);
  AddUser(master_root_, "admin", "super", "pw");
  AddUser(master_root_, "svc", "service", "svcpw");
  auto master = TandemdProcess::Start(master_root_);
  ASSERT_TRUE(master);
  SpawnOptions env;
  env.env = {{"TANDEM_TICKETS", dir_.Sub("tickets")}, {"TANDEM_PASSWORD", "pw"}};
  ASSERT_EQ(RunTandem({"-p", master->address(), "-u", "admin", "login"}, env).exit_code, 0);
  env.stdin_data = "ServerID: sb1\nServices: standby\nReplicatingFrom: master1\nUser: svc\n";
  ASSERT_EQ(RunTandem({"-p", master->address(), "-u", "admin", "server", "-i"}, env).exit_code, 0);

  std::string root = dir_.Sub("sb1");
  ASSERT_EQ(RunTandemd({"-r", root, "--id", "sb1"}).exit_code, 0);
  ASSERT_EQ(RunTandemd({"-r", root, "-cset", "target=" + master->address()}).exit_code, 0);
  ASSERT_EQ(RunTandemd({"-r", root, "-cset", "service.user=svc"}).exit_code, 0);
  ASSERT_EQ(RunTandemd({"-r", root, "-cset", "service.password=wrong"}).exit_code, 0);
  auto standby = TandemdProcess::Start(root);
  ASSERT_TRUE(standby);
  ASSERT_TRUE(
      WaitFor([&] { return ReadAll(root + ".log").find("login failed") != std::string::npos; }));
  standby->Terminate();
  ASSERT_EQ(RunTandemd({"-r", root, "-cset", "service.password=svcpw"}).exit_code, 0);
  standby = TandemdProcess::Start(root);
  ASSERT_TRUE(standby);
  ASSERT_TRUE(WaitFor(
      [&] { return ReadAll(root + ".log").find("journalcopy: streaming") != std::string::npos; }));
}

}  // namespace
}  // namespace tandem::testing
