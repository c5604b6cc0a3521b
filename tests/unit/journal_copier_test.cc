// journalcopy against a real upstream in this process, with the standby's
// root on a fault filesystem: what the standby acknowledges as flushed must
// survive a power loss of the standby, whatever its syncs did.
#include "replica/journal_copier.h"

#include <gtest/gtest.h>

#include "journal/reader.h"
#include "replica/downstream_recovery.h"
#include "tests/testing/fault_fs.h"
#include "tests/testing/in_process_master.h"
#include "tests/testing/temp_dir.h"

namespace tandem::testing {
namespace {

bool WaitUntil(const std::function<bool()>& pred) {
  for (int i = 0; i < 20000; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return pred();
}

class JournalCopierTest : public ::testing::Test {
 protected:
  JournalCopierTest()
      : master_(InProcessMaster::Start(dir_.Sub("master"))),
        fs_(dir_.Sub("scratch")),
        root_(dir_.Sub("sb1")),
        mount_(root_, &fs_) {
    EXPECT_TRUE(RootLayout(root_).EnsureDirs().ok());
    EXPECT_TRUE(CreateDirs(RootLayout(root_).rep_dir()).ok());
    EXPECT_TRUE(SyncDir(root_).ok());
  }

  std::unique_ptr<JournalCopier> StartCopier(bool fsync) {
    UpstreamOptions up;
    up.target = master_->address();
    up.server_id = "sb1";
    up.fsync = fsync;
    auto copier =
        std::make_unique<JournalCopier>(RootLayout(root_), up, Position{1, 0}, nullptr, nullptr);
    copier->Start();
    return copier;
  }

  void PutMany(int from, int to) {
    for (int i = from; i < to; ++i) master_->Put("k" + std::to_string(i), std::string(300, 'v'));
  }

  // Where valid data in the standby's copy of journal 1 ends now (0 when none
  // survived).
  uint64_t CopiedEnd() {
    auto sum = ScanJournal(RootLayout(root_).rep_journal(1), TailPolicy::kReportOnly, nullptr);
    return sum.ok() ? sum->data_end : 0;
  }

  TempDir dir_;
  std::unique_ptr<InProcessMaster> master_;
  FaultFs fs_;
  std::string root_;
  ScopedMount mount_;
};

TEST_F(JournalCopierTest, AFailedSyncIsNeverAcknowledgedAndStopsJournalcopyForGood) {
  master_->AddSpec("sb1", "standby", /*mandatory=*/true);
  auto copier = StartCopier(/*fsync=*/true);
  PutMany(0, 20);
  Position synced = master_->engine().durable();
  ASSERT_TRUE(WaitUntil([&] { return master_->Downstream("sb1").flushed == synced; }));

  // One failed sync: Linux reports it once, and a retried sync "succeeds".
  fs_.Inject({FsOp::kDataSync, "journals.rep", EIO, 0, 1});
  PutMany(20, 40);
  ASSERT_TRUE(WaitUntil([&] { return copier->status().failed; }));
  EXPECT_NE(copier->status().last_error.find("may not fail over"), std::string::npos)
      << copier->status().last_error;
  PutMany(40, 60);  // it must not come back on its own
  ASSERT_TRUE(WaitUntil([&] { return !master_->Downstream("sb1").connected; }));
  EXPECT_EQ(master_->Downstream("sb1").flushed, synced);
  EXPECT_EQ(master_->hub().release(), synced) << "release counted bytes the standby may not hold";

  copier->Stop();
  Position acked = master_->Downstream("sb1").flushed;
  fs_.Crash();
  EXPECT_GE(CopiedEnd(), acked.offset) << "acknowledged as flushed, lost in a power loss";
}

TEST_F(JournalCopierTest, WithFsyncOffAStandbyAcknowledgesAsFlushedOnlyWhatItSynced) {
  master_->AddSpec("sb1", "standby", /*mandatory=*/false);
  auto copier = StartCopier(/*fsync=*/false);
  PutMany(0, 50);
  Position durable = master_->engine().durable();
  ASSERT_TRUE(WaitUntil([&] { return master_->Downstream("sb1").written == durable; }));
  EXPECT_LT(master_->Downstream("sb1").flushed, durable);
  copier->Stop();
  Position acked = master_->Downstream("sb1").flushed;
  fs_.Crash();
  EXPECT_GE(CopiedEnd(), acked.offset) << "acknowledged as flushed, lost in a power loss";
}

TEST_F(JournalCopierTest, AMandatoryStandbySyncsEvenWithFsyncOff) {
  master_->AddSpec("sb1", "standby", /*mandatory=*/true);
  auto copier = StartCopier(/*fsync=*/false);
  PutMany(0, 50);
  Position durable = master_->engine().durable();
  ASSERT_TRUE(WaitUntil([&] { return master_->hub().release() == durable; }));
  copier->Stop();
  fs_.Crash();
  EXPECT_GE(CopiedEnd(), durable.offset);
}

TEST_F(JournalCopierTest, RestartTrustsOnlyWhatItHasMadeDurable) {
  // The standby dies with written, unsynced bytes: its restart must sync
  // them before it acknowledges them, or a power loss later loses them.
  master_->AddSpec("sb1", "standby", /*mandatory=*/false);
  auto copier = StartCopier(/*fsync=*/false);
  PutMany(0, 50);
  Position durable = master_->engine().durable();
  ASSERT_TRUE(WaitUntil([&] { return copier->status().written == durable; }));
  copier->Stop();
  fs_.KillProcess();
  auto recovered = RecoverDownstream(RootLayout(root_));
  ASSERT_TRUE(recovered.ok()) << recovered.status().ToString();
  EXPECT_EQ(recovered->flushed, durable);
  fs_.Crash();
  EXPECT_GE(CopiedEnd(), recovered->flushed.offset) << "start-up took unsynced bytes as durable";
}

}  // namespace
}  // namespace tandem::testing
