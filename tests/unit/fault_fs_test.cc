// The fault filesystem's own contract: what a crash keeps, how a failed sync
// loses data, and that injected faults and a full disk reach the caller.
#include "tests/testing/fault_fs.h"

#include <fcntl.h>
#include <gtest/gtest.h>

#include "journal/file.h"
#include "tests/testing/journal_files.h"
#include "tests/testing/temp_dir.h"

namespace tandem::testing {
namespace {

class FaultFsTest : public ::testing::Test {
 protected:
  FaultFsTest() : fs_(dir_.Sub("scratch")), root_(dir_.Sub("root")), mount_(root_, &fs_) {
    EXPECT_TRUE(CreateDirs(root_).ok());
    EXPECT_TRUE(SyncDir(root_).ok());
  }
  std::string Path(const std::string& name) const { return root_ + "/" + name; }
  File OpenRw(const std::string& name) {
    auto f = File::Open(Path(name), O_RDWR | O_CREAT);
    EXPECT_TRUE(f.ok()) << f.status().ToString();
    return std::move(f).value();
  }

  TempDir dir_;
  FaultFs fs_;
  std::string root_;
  ScopedMount mount_;
};

TEST_F(FaultFsTest, ACrashKeepsSyncedWritesAndDropsTheRest) {
  File f = OpenRw("a");
  ASSERT_TRUE(SyncDir(root_).ok());
  ASSERT_TRUE(f.PWriteAll("synced", 0).ok());
  ASSERT_TRUE(f.DataSync().ok());
  ASSERT_TRUE(f.PWriteAll("-lost", 6).ok());
  ASSERT_TRUE(f.PWriteAll("S", 0).ok());  // an overwrite, unsynced
  EXPECT_EQ(ReadAll(Path("a")), "Synced-lost");
  fs_.Crash();
  EXPECT_EQ(ReadAll(Path("a")), "synced");
  EXPECT_FALSE(f.PWriteAll("x", 0).ok()) << "a handle of the crashed process still works";
}

TEST_F(FaultFsTest, AFailedSyncLosesItsWritesEvenAfterALaterSyncSucceeds) {
  File f = OpenRw("a");
  ASSERT_TRUE(SyncDir(root_).ok());
  ASSERT_TRUE(f.PWriteAll("first", 0).ok());
  fs_.Inject({FsOp::kDataSync, "a", EIO, 0, 1});
  EXPECT_EQ(f.DataSync().code(), Code::kIOError);
  EXPECT_TRUE(f.DataSync().ok()) << "the error is reported once, as on Linux";
  EXPECT_EQ(ReadAll(Path("a")), "first") << "the page cache still shows the bytes";
  fs_.Crash();
  EXPECT_EQ(ReadAll(Path("a")), "");
}

TEST_F(FaultFsTest, DirectoryEntriesAreDurableOnlyOnceTheDirectoryIsSynced) {
  ASSERT_TRUE(WriteFileDurably(Path("kept"), "k").ok());
  {
    File f = OpenRw("unsynced-name");
    ASSERT_TRUE(f.PWriteAll("data", 0).ok());
    ASSERT_TRUE(f.Sync().ok());
  }
  ASSERT_TRUE(FileSystemFor(root_).Rename(Path("kept"), Path("moved")).ok());
  fs_.Crash();
  EXPECT_FALSE(PathExists(Path("unsynced-name")));
  EXPECT_TRUE(PathExists(Path("kept")));
  EXPECT_FALSE(PathExists(Path("moved")));
  EXPECT_EQ(ReadAll(Path("kept")), "k");
}

TEST_F(FaultFsTest, AnUnsyncedRenameOverAFileBringsTheOldFileBack) {
  ASSERT_TRUE(WriteFileDurably(Path("state"), "old").ok());
  {
    File f = OpenRw("state.tmp");
    ASSERT_TRUE(f.PWriteAll("new", 0).ok());
    ASSERT_TRUE(f.Sync().ok());
  }
  ASSERT_TRUE(FileSystemFor(root_).Rename(Path("state.tmp"), Path("state")).ok());
  EXPECT_EQ(ReadAll(Path("state")), "new");
  fs_.Crash();
  EXPECT_EQ(ReadAll(Path("state")), "old");
}

TEST_F(FaultFsTest, OutOfOrderPersistenceKeepsSomeUnsyncedPagesAndNotOthers) {
  File f = OpenRw("a");
  ASSERT_TRUE(SyncDir(root_).ok());
  ASSERT_TRUE(f.Allocate(0, 64 * 4096).ok());
  ASSERT_TRUE(f.DataSync().ok());
  ASSERT_TRUE(f.PWriteAll(std::string(64 * 4096, 'x'), 0).ok());
  fs_.Crash(0.5, 42);
  std::string after = ReadAll(Path("a"));
  ASSERT_EQ(after.size(), 64u * 4096);
  int kept = 0;
  for (int p = 0; p < 64; ++p) {
    std::string page = after.substr(p * 4096, 4096);
    EXPECT_TRUE(page == std::string(4096, 'x') || page == std::string(4096, '\0')) << p;
    kept += page[0] == 'x';
  }
  EXPECT_GT(kept, 0);
  EXPECT_LT(kept, 64);
}

TEST_F(FaultFsTest, InjectedErrorsAndAFullDiskReachTheCaller) {
  File f = OpenRw("a");
  fs_.Inject({FsOp::kWrite, "a", EIO, 1, 1});
  EXPECT_TRUE(f.PWriteAll("ok", 0).ok());
  EXPECT_EQ(f.PWriteAll("fails", 2).code(), Code::kIOError);
  EXPECT_TRUE(f.PWriteAll("again", 2).ok());
  fs_.SetSpaceLimit(3);
  Status full = f.PWriteAll("0123456789", 7);
  EXPECT_EQ(full.code(), Code::kNoSpace);
  EXPECT_EQ(FileSize(Path("a")), 10u) << "what fits is written before ENOSPC";
  fs_.SetSpaceLimit(std::nullopt);
  EXPECT_TRUE(f.PWriteAll("more", 10).ok());
}

TEST_F(FaultFsTest, PathsOutsideTheMountUseTheRealFileSystem) {
  EXPECT_EQ(&FileSystemFor(dir_.Sub("elsewhere/x")), &PosixFileSystem());
  EXPECT_EQ(&FileSystemFor(root_ + "/x"), static_cast<FileSystem*>(&fs_));
  EXPECT_EQ(&FileSystemFor(root_ + "-sibling/x"), &PosixFileSystem());
}

}  // namespace
}  // namespace tandem::testing
