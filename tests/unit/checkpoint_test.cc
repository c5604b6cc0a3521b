#include "journal/checkpoint.h"

#include <gtest/gtest.h>

#include "journal/engine.h"
#include "tests/testing/journal_files.h"
#include "tests/testing/temp_dir.h"

namespace tandem {
namespace {

using testing::TempDir;

TableSet SampleTables(int rows) {
  TableSet t;
  for (int i = 0; i < rows; ++i) {
    t.Apply(Transaction{{Op::Put("a", "k" + std::to_string(i), std::string(50, 'x')),
                         Op::Put("b", std::to_string(i), "v")}});
  }
  return t;
}

TEST(CheckpointTest, RoundTripsTablesAndMeta) {
  TempDir dir;
  TableSet tables = SampleTables(1000);
  std::string path = dir.Sub("ckp.4.gz");
  auto size = WriteCheckpoint(path, {4, Epoch{2}, 77}, tables);
  ASSERT_TRUE(size.ok()) << size.status().ToString();
  auto loaded = ReadCheckpoint(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->meta.journal, 4u);
  EXPECT_EQ(loaded->meta.epoch, Epoch{2});
  EXPECT_EQ(loaded->meta.next_txn_id, 77u);
  EXPECT_EQ(loaded->tables.Checksums(), tables.Checksums());
  EXPECT_NE(testing::ReadAll(path + ".md5").find("  ckp.4.gz"), std::string::npos);
}

// Loaded tables are built without their index: the first writes after a
// load (start-up from a checkpoint) must still find, replace and delete rows.
TEST(CheckpointTest, LoadedTablesTakeWritesLikeTheOriginal) {
  TempDir dir;
  TableSet tables = SampleTables(1000);
  std::string path = dir.Sub("ckp.2.gz");
  ASSERT_TRUE(WriteCheckpoint(path, {2, Epoch{1}, 1}, tables).ok());
  auto loaded = ReadCheckpoint(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  Transaction writes{{Op::Put("a", "k7", "new"), Op::Delete("a", "k8"), Op::Put("a", "k9x", "v"),
                      Op::Delete("b", "3")}};
  tables.Apply(writes);
  loaded->tables.Apply(writes);
  EXPECT_EQ(loaded->tables.Checksums(), tables.Checksums());
  EXPECT_EQ(loaded->tables.Find("a")->rows, tables.Find("a")->rows);
}

TEST(CheckpointTest, TruncatedCheckpointIsRefused) {
  TempDir dir;
  std::string path = dir.Sub("ckp.1.gz");
  ASSERT_TRUE(WriteCheckpoint(path, {1, Epoch{1}, 1}, SampleTables(500)).ok());
  testing::TruncateFile(path, testing::FileSize(path) / 2);
  auto loaded = ReadCheckpoint(path);
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.status().message().find("truncated or altered"), std::string::npos);
}

TEST(CheckpointTest, AlteredContentIsRefusedEvenWithAMatchingDigest) {
  TempDir dir;
  std::string path = dir.Sub("ckp.1.gz");
  ASSERT_TRUE(WriteCheckpoint(path, {1, Epoch{1}, 1}, SampleTables(500)).ok());
  testing::FlipByte(path, testing::FileSize(path) / 2);
  // Someone "fixes" the digest to match: the content checks must still fail.
  auto md5 = Md5OfFile(path);
  ASSERT_TRUE(md5.ok());
  testing::WriteAll(path + ".md5", *md5 + "  ckp.1.gz\n");
  EXPECT_FALSE(ReadCheckpoint(path).ok());
}

TEST(CheckpointTest, RecoveryFallsBackToThePreviousCheckpoint) {
  TempDir dir;
  std::vector<TableChecksum> expected;
  {
    auto engine = Engine::Open({dir.path(), false});
    ASSERT_TRUE(engine.ok());
    ASSERT_TRUE((*engine)->Commit({{Op::Put("t", "a", "1")}}).ok());
    ASSERT_TRUE((*engine)->Checkpoint().ok());  // ckp.2
    ASSERT_TRUE((*engine)->Commit({{Op::Put("t", "b", "2")}}).ok());
    auto second = (*engine)->Checkpoint();  // ckp.3
    ASSERT_TRUE(second.ok());
    ASSERT_TRUE((*engine)->Commit({{Op::Put("t", "c", "3")}}).ok());
    expected = (*engine)->tables().Checksums();
    testing::TruncateFile(second->path, 10);
  }
  auto engine = Engine::Open({dir.path(), false});
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  EXPECT_EQ((*engine)->recovery_report().checkpoint, 2u);
  EXPECT_EQ((*engine)->tables().Checksums(), expected);
}

TEST(GunzipTest, RefusesOutputOverTheLimit) {
  TempDir dir;
  std::string path = dir.Sub("ckp.1.gz");
  ASSERT_TRUE(WriteCheckpoint(path, {1, Epoch{1}, 1}, SampleTables(1000)).ok());
  EXPECT_FALSE(Gunzip(testing::ReadAll(path), 1000).ok());
}

}  // namespace
}  // namespace tandem
