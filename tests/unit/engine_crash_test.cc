// The engine on a fault filesystem: what start-up recovery calls durable must
// survive a power loss, a torn last batch must be cut however its pages
// reached the disk, and damage to acknowledged records must never be cut.
#include <gtest/gtest.h>

#include <atomic>
#include <set>

#include "journal/engine.h"
#include "tests/testing/fault_fs.h"
#include "tests/testing/journal_files.h"
#include "tests/testing/temp_dir.h"

namespace tandem::testing {
namespace {

Transaction Put(const std::string& key, const std::string& value) {
  return {{Op::Put("t", key, value)}};
}

std::unique_ptr<Engine> Open(const std::string& root) {
  auto engine = Engine::Open({root, /*fsync=*/true});
  EXPECT_TRUE(engine.ok()) << engine.status().ToString();
  return engine.ok() ? std::move(engine).value() : nullptr;
}

std::set<std::string> Keys(const Engine& engine) {
  std::set<std::string> out;
  for (auto& [k, v] : engine.tables().Scan("t", "", SIZE_MAX)) out.insert(k);
  return out;
}

class EngineCrashTest : public ::testing::Test {
 protected:
  // A root on its own fault filesystem.
  struct Root {
    Root(const TempDir& dir, const std::string& name)
        : fs(dir.Sub(name + ".scratch")), path(dir.Sub(name)), mount(path, &fs) {
      EXPECT_TRUE(CreateDirs(path).ok());
      EXPECT_TRUE(SyncDir(DirName(path)).ok());
    }
    FaultFs fs;
    std::string path;
    ScopedMount mount;
  };
  TempDir dir_;
};

TEST_F(EngineCrashTest, AfterAKillBetweenWriteAndSyncRestartMakesWhatItReplaysDurable) {
  Root root(dir_, "root");
  auto engine = Open(root.path);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(engine->Commit(Put("k" + std::to_string(i), "v")).ok());
  // The process dies between the write of a batch and its sync.
  root.fs.Inject({FsOp::kDataSync, "/journal", 0, 0, 1, 0, /*kill=*/true});
  EXPECT_FALSE(engine->Commit(Put("in-doubt", "v")).ok());
  engine.reset();

  // The restarted server finds the batch in the page cache and replays it...
  engine = Open(root.path);
  ASSERT_TRUE(engine);
  Position recovered = engine->durable();
  std::set<std::string> keys = Keys(*engine);
  ASSERT_TRUE(keys.count("in-doubt"));
  // ...so it must be on the disk before anything relies on it.
  root.fs.Crash();
  engine.reset();
  engine = Open(root.path);
  ASSERT_TRUE(engine);
  EXPECT_GE(engine->durable(), recovered) << "recovery called durable what a power loss took";
  EXPECT_EQ(Keys(*engine), keys);
}

TEST_F(EngineCrashTest, ABatchWhoseSyncFailedNeverComesBack) {
  // Its committers were told it failed; replaying it at the next start would
  // bring back what they retried, and trust pages the kernel may have lost.
  Root root(dir_, "root");
  auto engine = Open(root.path);
  ASSERT_TRUE(engine->Commit(Put("before", "v")).ok());
  root.fs.Inject({FsOp::kDataSync, "/journal", EIO, 0, 1});
  EXPECT_FALSE(engine->Commit(Put("failed", "v")).ok());
  EXPECT_FALSE(engine->Commit(Put("later", "v")).ok()) << "the writer must stop for good";
  engine.reset();
  engine = Open(root.path);
  ASSERT_TRUE(engine);
  EXPECT_EQ(Keys(*engine), std::set<std::string>{"before"});
}

TEST_F(EngineCrashTest, APowerLossMidBatchIsCutAsATornTailWhicheverPagesSurvived) {
  for (uint64_t seed = 1; seed <= 24; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Root root(dir_, "root" + std::to_string(seed));
    auto engine = Open(root.path);
    std::set<std::string> acked;
    for (int i = 0; i < 5; ++i) {
      ASSERT_TRUE(engine->Commit(Put("a" + std::to_string(i), "v")).ok());
      acked.insert("a" + std::to_string(i));
    }
    // Line up one large batch behind a held sync, then lose power during the
    // large batch's sync: some of its pages reach the disk, in any order.
    root.fs.HoldNext(FsOp::kDataSync, "/journal");
    std::atomic<int> answered{0};
    std::atomic<bool> held_ok{false};
    engine->CommitAsync(Put("held", "v"), [&](const Status& st, Position) {
      held_ok = st.ok();
      ++answered;
    });
    ASSERT_TRUE(root.fs.WaitUntilHeld());
    constexpr int kBatch = 100;
    for (int i = 0; i < kBatch; ++i) {
      char key[16];
      std::snprintf(key, sizeof key, "b%03d", i);
      engine->CommitAsync(Put(key, std::string(300, 'x')), [&](const Status& st, Position) {
        EXPECT_FALSE(st.ok()) << "acknowledged without a sync";
        ++answered;
      });
    }
    root.fs.Inject({FsOp::kDataSync, "/journal", 0, /*after=*/1, 1, 0, /*kill=*/true});
    root.fs.Release();
    while (answered < kBatch + 1) std::this_thread::yield();
    ASSERT_TRUE(held_ok);
    acked.insert("held");
    root.fs.Crash(0.5, seed);
    engine.reset();

    engine = Open(root.path);
    ASSERT_TRUE(engine) << "a torn, never acknowledged batch stopped the server from starting";
    std::set<std::string> keys = Keys(*engine);
    for (const auto& k : acked) EXPECT_TRUE(keys.count(k)) << "lost acknowledged " << k;
    // What survives of the torn batch is a prefix of it: records apply in order.
    int present = 0;
    for (int i = 0; i < kBatch; ++i) {
      char key[16];
      std::snprintf(key, sizeof key, "b%03d", i);
      if (keys.count(key)) {
        EXPECT_EQ(present, i) << "a hole in the recovered batch";
        ++present;
      }
    }
  }
}

TEST_F(EngineCrashTest, AFlippedByteInTheLastRecordAfterACleanStopIsRefusedNotCut) {
  std::string root = dir_.Sub("clean");
  auto engine = Open(root);
  Position last_start;
  for (int i = 0; i < 3; ++i) {
    last_start = engine->durable();
    ASSERT_TRUE(engine->Commit(Put("k" + std::to_string(i), "value")).ok());
  }
  Position end = engine->durable();
  engine.reset();  // a clean stop: every record is acknowledged
  std::string before = ReadAll(root + "/journal").substr(0, end.offset);
  FlipByte(root + "/journal", last_start.offset + 40);

  auto reopened = Engine::Open({root, true});
  ASSERT_FALSE(reopened.ok()) << "an acknowledged record was cut as a torn tail";
  EXPECT_EQ(reopened.status().code(), Code::kCorruption);
  EXPECT_NE(reopened.status().message().find("offset " + std::to_string(last_start.offset)),
            std::string::npos)
      << reopened.status().message();
  EXPECT_NE(reopened.status().message().find("acknowledged"), std::string::npos);
  EXPECT_EQ(FileSize(root + "/journal") >= end.offset, true) << "the damaged journal was cut";
}

TEST_F(EngineCrashTest, WithoutFsyncDamageAnywhereIsATornTailNotARefusalToStart) {
  // journal.fsync=off syncs nothing between batches, so no batch may claim
  // that the ones before it reached the disk.
  std::string root = dir_.Sub("nosync");
  auto engine = Engine::Open({root, false});
  ASSERT_TRUE(engine.ok());
  Position third;
  for (int i = 0; i < 5; ++i) {
    if (i == 2) third = (*engine)->durable();
    ASSERT_TRUE((*engine)->Commit(Put("k" + std::to_string(i), "value")).ok());
  }
  engine->reset();
  ASSERT_TRUE(RemoveFile(RootLayout(root).clean_end()).ok());  // as after a power loss
  FlipByte(root + "/journal", third.offset + 40);
  auto reopened = Engine::Open({root, false});
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_EQ((*reopened)->durable(), third);
}

TEST_F(EngineCrashTest, ATornLastRecordWithoutACleanStopIsStillCut) {
  std::string root = dir_.Sub("crashed");
  auto engine = Open(root);
  Position last_start;
  for (int i = 0; i < 3; ++i) {
    last_start = engine->durable();
    ASSERT_TRUE(engine->Commit(Put("k" + std::to_string(i), "value")).ok());
  }
  engine.reset();
  ASSERT_TRUE(RemoveFile(RootLayout(root).clean_end()).ok());  // as after a crash
  FlipByte(root + "/journal", last_start.offset + 40);
  engine = Open(root);
  ASSERT_TRUE(engine);
  EXPECT_EQ(engine->durable(), last_start);
  EXPECT_EQ(Keys(*engine).count("k2"), 0u);
}

TEST_F(EngineCrashTest, AShortWriteIsCompletedAndOneThatThenFailsLeavesNothingToReplay) {
  Root root(dir_, "root");
  auto engine = Open(root.path);
  ASSERT_TRUE(engine->Commit(Put("before", "v")).ok());
  Fault short_write{FsOp::kWrite, "/journal", 0};
  short_write.partial = 10;  // the OS takes ten bytes of the batch
  root.fs.Inject(short_write);
  ASSERT_TRUE(engine->Commit(Put("completed", std::string(300, 'c'))).ok());
  root.fs.Inject(short_write);
  root.fs.Inject({FsOp::kWrite, "/journal", EIO});  // and fails the rest
  EXPECT_FALSE(engine->Commit(Put("failed", std::string(300, 'f'))).ok());
  bool after = engine->Commit(Put("after", "v")).ok();  // a write failed, not a sync
  engine.reset();
  root.fs.Crash();
  engine = Open(root.path);
  ASSERT_TRUE(engine);
  std::set<std::string> want = {"before", "completed"};
  if (after) want.insert("after");
  EXPECT_EQ(Keys(*engine), want);
  EXPECT_EQ(engine->tables().Get("t", "completed"), std::string(300, 'c'));
}

TEST_F(EngineCrashTest, AFullDiskRefusesTheCommitAndTheEngineCommitsAgainOnceThereIsRoom) {
  Root root(dir_, "root");
  auto engine = Open(root.path);
  ASSERT_TRUE(engine->Commit(Put("before", "v")).ok());
  root.fs.Inject({FsOp::kWrite, "/journal", ENOSPC});
  auto full = engine->Commit(Put("full", "v"));
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.status().code(), Code::kNoSpace) << full.status().ToString();
  ASSERT_TRUE(engine->Commit(Put("after", "v")).ok());
  engine.reset();
  root.fs.Crash();
  engine = Open(root.path);
  ASSERT_TRUE(engine);
  EXPECT_EQ(Keys(*engine), (std::set<std::string>{"before", "after"}));
}

TEST_F(EngineCrashTest, ACheckpointThatCannotBeWrittenFailsAndIsNeverTrusted) {
  for (int error : {EIO, ENOSPC}) {
    SCOPED_TRACE(error == EIO ? "EIO" : "ENOSPC");
    Root root(dir_, error == EIO ? "eio" : "nospc");
    auto engine = Open(root.path);
    for (int i = 0; i < 50; ++i) {
      ASSERT_TRUE(engine->Commit(Put("k" + std::to_string(i), std::string(100, 'v'))).ok());
    }
    root.fs.Inject({FsOp::kWrite, "ckp.", error, 0, -1});
    EXPECT_FALSE(engine->Checkpoint().ok());
    root.fs.ClearFaults();
    ASSERT_TRUE(engine->Commit(Put("after", "v")).ok()) << "the engine goes on without it";
    engine.reset();
    root.fs.Crash();
    engine = Open(root.path);
    ASSERT_TRUE(engine);
    EXPECT_EQ(Keys(*engine).size(), 51u);
  }
}

}  // namespace
}  // namespace tandem::testing
