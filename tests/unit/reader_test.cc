#include "journal/reader.h"

#include <gtest/gtest.h>

#include <thread>

#include "journal/engine.h"
#include "tests/testing/journal_files.h"
#include "tests/testing/temp_dir.h"

namespace tandem {
namespace {

using testing::TempDir;

class JournalReaderTest : public ::testing::Test {
 protected:
  // Commits n transactions into a fresh root (synced, so each is a batch of
  // its own that starts with the batch-start flag) and closes it.
  std::vector<Position> Fill(int n) {
    auto engine = Engine::Open({dir_.path(), true});
    EXPECT_TRUE(engine.ok()) << engine.status().ToString();
    std::vector<Position> out;
    for (int i = 0; i < n; ++i) {
      auto pos = (*engine)->Commit({{Op::Put("t", "k" + std::to_string(i), "value")}});
      EXPECT_TRUE(pos.ok());
      out.push_back(*pos);
    }
    return out;
  }
  std::string live() const { return dir_.Sub("journal"); }

  TempDir dir_;
};

TEST_F(JournalReaderTest, ReadsEveryRecordThenStopsAtPreallocatedZeros) {
  auto positions = Fill(10);
  auto sum = ScanJournal(live(), TailPolicy::kReportOnly, nullptr);
  ASSERT_TRUE(sum.ok()) << sum.status().ToString();
  EXPECT_EQ(sum->records, 10u);
  EXPECT_EQ(sum->data_end, positions.back().offset);
  EXPECT_EQ(sum->torn_bytes, 0u);
  EXPECT_GT(testing::FileSize(live()), sum->data_end) << "journal should be preallocated";
}

TEST_F(JournalReaderTest, TornTailIsCutAndEarlierRecordsSurvive) {
  auto positions = Fill(5);
  // A crash mid-write: half of a sixth record lands after the fifth.
  std::string bytes = testing::ReadAll(live()).substr(0, positions.back().offset);
  std::string extra;
  EncodeRecord(RecordType::kTransaction, 0, Epoch{1}, 99,
               EncodeTransaction({{Op::Put("t", "torn", "x")}}), &extra);
  testing::WriteAll(live(), bytes + extra.substr(0, extra.size() / 2));

  auto sum = ScanJournal(live(), TailPolicy::kCutTornTail, nullptr);
  ASSERT_TRUE(sum.ok()) << sum.status().ToString();
  EXPECT_EQ(sum->records, 5u);
  // Counted up to the last non-zero byte of the torn part.
  EXPECT_GT(sum->torn_bytes, 0u);
  EXPECT_LE(sum->torn_bytes, extra.size() / 2);
  EXPECT_EQ(testing::FileSize(live()), positions.back().offset);
}

TEST_F(JournalReaderTest, DamageBeforeTheTailIsRefusedWithFileAndOffset) {
  auto positions = Fill(5);
  uint64_t victim = positions[1].offset + 40;  // inside the third record
  testing::FlipByte(live(), victim);
  auto sum = ScanJournal(live(), TailPolicy::kCutTornTail, nullptr);
  ASSERT_FALSE(sum.ok());
  EXPECT_EQ(sum.status().code(), Code::kCorruption);
  EXPECT_NE(sum.status().message().find(live()), std::string::npos);
  EXPECT_NE(sum.status().message().find("offset " + std::to_string(positions[1].offset)),
            std::string::npos)
      << sum.status().message();
  // Nothing was cut.
  EXPECT_GT(testing::FileSize(live()), positions.back().offset);
}

TEST_F(JournalReaderTest, DamagedLastRecordIsATornTailWhenNothingSaysItWasAcknowledged) {
  auto positions = Fill(3);
  testing::FlipByte(live(), positions[1].offset + 40);
  auto sum = ScanJournal(live(), TailPolicy::kCutTornTail, nullptr);
  ASSERT_TRUE(sum.ok()) << sum.status().ToString();
  EXPECT_EQ(sum->records, 2u);
}

TEST_F(JournalReaderTest, DamageBeforeAnAcknowledgedEndIsRefusedEvenInTheLastRecord) {
  auto positions = Fill(3);
  testing::FlipByte(live(), positions[1].offset + 40);
  auto sum = ScanJournal(live(), TailPolicy::kCutTornTail, nullptr, positions[2].offset);
  ASSERT_FALSE(sum.ok());
  EXPECT_NE(sum.status().message().find("acknowledged"), std::string::npos);
  EXPECT_GT(testing::FileSize(live()), positions.back().offset) << "the file was cut";
}

TEST_F(JournalReaderTest, ACopyIsCutAtItsFirstDamageWhateverFollowsButNotBeforeItsLastSync) {
  // A downstream copy's syncs do not follow the master's batches: valid
  // batch-start records after damage prove nothing there.
  auto positions = Fill(5);
  testing::FlipByte(live(), positions[1].offset + 40);
  auto refused = ScanJournal(live(), TailPolicy::kCutCopyTail, nullptr, positions[3].offset);
  ASSERT_FALSE(refused.ok()) << "damage before the last recorded sync was cut";
  auto sum = ScanJournal(live(), TailPolicy::kCutCopyTail, nullptr, positions[1].offset);
  ASSERT_TRUE(sum.ok()) << sum.status().ToString();
  EXPECT_EQ(sum->data_end, positions[1].offset);
  EXPECT_EQ(testing::FileSize(live()), positions[1].offset);
}

TEST_F(JournalReaderTest, StrictPolicyRefusesAnyDamage) {
  auto positions = Fill(3);
  testing::TruncateFile(live(), positions.back().offset - 1);
  auto sum = ScanJournal(live(), TailPolicy::kStrict, nullptr);
  ASSERT_FALSE(sum.ok());
  EXPECT_NE(sum.status().message().find("offset " + std::to_string(positions[1].offset)),
            std::string::npos)
      << sum.status().message();
}

TEST_F(JournalReaderTest, FollowSeesRecordsAppendedLater) {
  auto engine = Engine::Open({dir_.path(), false});
  ASSERT_TRUE(engine.ok());
  auto reader = JournalReader::Open(live());
  ASSERT_TRUE(reader.ok());
  Record rec;
  ASSERT_EQ(*reader->Next(&rec), JournalReader::Step::kRecord);  // header
  std::thread writer([&] {
    for (int i = 0; i < 20; ++i) ASSERT_TRUE((*engine)->Commit({{Op::Put("t", "k", "v")}}).ok());
  });
  int seen = 0;
  while (seen < 20) {
    auto step = reader->Follow(&rec, std::chrono::seconds(10));
    ASSERT_TRUE(step.ok());
    ASSERT_EQ(*step, JournalReader::Step::kRecord) << "stopped after " << seen;
    ++seen;
  }
  writer.join();
}

}  // namespace
}  // namespace tandem
