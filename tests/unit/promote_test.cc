// Promoting a standby's root in place (failover/promote.h) on a fault
// filesystem: its steps become durable together, before the phase says
// promoted, so a power loss anywhere in them leaves a root that the next
// start promotes whole; and it syncs each directory once, not each step.
#include "failover/promote.h"

#include <gtest/gtest.h>

#include "failover/failover_state.h"
#include "journal/engine.h"
#include "journal/file.h"
#include "journal/server_identity.h"
#include "replica/local_config.h"
#include "tests/testing/fault_fs.h"
#include "tests/testing/journal_files.h"
#include "tests/testing/temp_dir.h"

namespace tandem::testing {
namespace {

Transaction Put(const std::string& key) { return {{Op::Put("t", key, "v")}}; }

// A standby's root as a failover leaves it at the point of no return: two
// copied journals (the first rotated into the second), its position file
// and `target`, and statefailover in phase master-stopped. Written before
// any fault filesystem is mounted, so all of it is durable.
FailoverRecord MakeStandbyRoot(const std::string& root) {
  Position end;
  {
    auto engine = Engine::Open({root, false});
    EXPECT_TRUE(engine.ok()) << engine.status().ToString();
    EXPECT_TRUE((*engine)->Commit(Put("a")).ok());
    EXPECT_TRUE((*engine)->Rotate().ok());
    EXPECT_TRUE((*engine)->Commit(Put("b")).ok());
    EXPECT_TRUE((*engine)->Commit(Put("c")).ok());
    end = (*engine)->durable();
  }
  RootLayout layout(root);
  EXPECT_TRUE(CreateDirs(layout.rep_dir()).ok());
  EXPECT_TRUE(RenameDurably(layout.rotated_journal(1), layout.rep_journal(1)).ok());
  EXPECT_TRUE(RenameDurably(layout.live_journal(), layout.rep_journal(2)).ok());
  EXPECT_TRUE(RemoveDurably(layout.clean_end()).ok());
  EXPECT_TRUE(WriteFileDurably(layout.statejcopy(), end.Token() + "\n").ok());
  EXPECT_TRUE(WriteServerIdentity(layout, {.id = "sb1"}).ok());
  EXPECT_TRUE(SetLocalConfig(layout, "target", "127.0.0.1:1").ok());
  FailoverRecord rec;
  rec.point = end;
  rec.phase = FailoverPhase::kMasterStopped;
  rec.master_id = "m1";
  rec.standby_id = "sb1";
  EXPECT_TRUE(WriteFailoverRecord(layout, rec).ok());
  return rec;
}

void ExpectPromoted(const std::string& root, Position point) {
  RootLayout layout(root);
  auto rec = ReadFailoverRecord(layout);
  ASSERT_TRUE(rec.ok() && *rec) << rec.status().ToString();
  EXPECT_EQ((*rec)->phase, FailoverPhase::kPromoted);
  EXPECT_EQ(FileSize(layout.live_journal()), point.offset);
  EXPECT_TRUE(PathExists(layout.rotated_journal(1)));
  auto copied = layout.ListCopied();
  ASSERT_TRUE(copied.ok());
  EXPECT_TRUE(copied->empty());
  auto identity = ReadServerIdentity(layout);
  ASSERT_TRUE(identity.ok());
  EXPECT_EQ(identity->id, "m1");
  EXPECT_EQ(ReadLocalConfig(layout).count("target"), 0u);
  EXPECT_FALSE(PathExists(layout.statejcopy()));
  auto engine = Engine::Open({root, false});
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  for (const char* key : {"a", "b", "c"}) EXPECT_EQ((*engine)->tables().Get("t", key), "v") << key;
}

TEST(PromoteTest, APowerLossAnywhereInThePromotionLeavesARootTheNextStartPromotes) {
  int cut_short = 0;
  for (FsOp op : {FsOp::kRename, FsOp::kUnlink, FsOp::kSyncDir, FsOp::kDataSync}) {
    for (int after = 0; after < 16; ++after) {
      TempDir dir;
      const std::string root = dir.Sub("root");
      FailoverRecord rec = MakeStandbyRoot(root);
      RootLayout layout(root);
      bool finished;
      {
        FaultFs fs(dir.Sub("scratch"));
        ScopedMount mount(root, &fs);
        // The process dies at this call; then the power goes.
        fs.Inject({op, "", EIO, after, 1, 0, /*kill=*/true});
        FailoverRecord attempt = rec;
        finished = PromoteRoot(layout, &attempt).ok();
        if (!finished) {
          ++cut_short;
          fs.Crash();
          fs.ClearFaults();
          ASSERT_TRUE(SettleInterruptedFailover(layout, "").ok());
        }
      }
      ASSERT_NO_FATAL_FAILURE(ExpectPromoted(root, rec.point));
      if (finished) break;  // no call of this kind left to die at
    }
  }
  EXPECT_GT(cut_short, 10);
}

TEST(PromoteTest, APromotionSyncsEachDirectoryOnce) {
  TempDir dir;
  const std::string root = dir.Sub("root");
  FailoverRecord rec = MakeStandbyRoot(root);
  {
    FaultFs fs(dir.Sub("scratch"));
    ScopedMount mount(root, &fs);
    ASSERT_TRUE(PromoteRoot(RootLayout(root), &rec).ok());
    // The live journal's cut, server.id and config.local before their
    // renames, the root, journals and journals.rep once each; then the
    // record (its file and the root again), which must come after.
    EXPECT_EQ(fs.successful_syncs(), 4u);
    EXPECT_EQ(fs.directory_syncs(), 4u);
  }
  ExpectPromoted(root, rec.point);
}

}  // namespace
}  // namespace tandem::testing
