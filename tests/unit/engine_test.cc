#include "journal/engine.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include "journal/reader.h"
#include "journal/recovery.h"
#include "tests/testing/journal_files.h"
#include "tests/testing/temp_dir.h"

namespace tandem {
namespace {

using testing::TempDir;

std::unique_ptr<Engine> OpenOrDie(const std::string& root, bool fsync = false) {
  auto engine = Engine::Open({root, fsync});
  EXPECT_TRUE(engine.ok()) << engine.status().ToString();
  return engine.ok() ? std::move(engine).value() : nullptr;
}

// An engine whose checkpoint hook records the journal of each call.
std::unique_ptr<Engine> OpenHooked(const std::string& root, std::vector<uint32_t>* hooked) {
  auto engine = OpenOrDie(root);
  if (engine)
    engine->SetCheckpointObserver([hooked](uint32_t journal) { hooked->push_back(journal); });
  return engine;
}

Transaction Put(const std::string& key, const std::string& value) {
  return {{Op::Put("t", key, value)}};
}

TEST(EngineTest, PauseReturnsAPositionCoveringEveryAcceptedCommit) {
  TempDir dir;
  auto engine = OpenOrDie(dir.path(), /*fsync=*/true);
  constexpr int kThreads = 8;
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::vector<Position> accepted;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100000 && !stop; ++i) {
        auto pos = engine->Commit(Put(std::to_string(t) + "/" + std::to_string(i), "v"));
        if (!pos.ok()) {
          EXPECT_EQ(pos.status().code(), Code::kUnavailable);
          return;
        }
        std::lock_guard lock(mu);
        accepted.push_back(*pos);
      }
    });
  }
  while (engine->durable().offset < 64 * 1024) std::this_thread::yield();
  auto final_pos = engine->Pause("failing over", std::chrono::seconds(10));
  stop = true;
  for (auto& th : threads) th.join();
  ASSERT_TRUE(final_pos.ok()) << final_pos.status().ToString();
  ASSERT_FALSE(accepted.empty());
  for (const Position& p : accepted) EXPECT_LE(p, *final_pos) << "acknowledged after the pause";
  EXPECT_EQ(engine->durable(), *final_pos) << "written after the pause";
  EXPECT_EQ(engine->Commit(Put("late", "v")).status().code(), Code::kUnavailable);
  engine->Resume();
  EXPECT_TRUE(engine->Commit(Put("after", "v")).ok());
}

TEST(EngineTest, ConcurrentCommitsGetDistinctIncreasingDurablePositions) {
  TempDir dir;
  auto engine = OpenOrDie(dir.path(), /*fsync=*/true);
  constexpr int kThreads = 16, kPerThread = 200;
  std::vector<std::vector<Position>> seen(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto pos = engine->Commit(Put(std::to_string(t) + "/" + std::to_string(i), "v"));
        ASSERT_TRUE(pos.ok());
        // Acknowledged means durable and applied.
        EXPECT_LE(*pos, engine->durable());
        EXPECT_TRUE(engine->tables().Get("t", std::to_string(t) + "/" + std::to_string(i)));
        seen[t].push_back(*pos);
      }
    });
  }
  for (auto& th : threads) th.join();
  std::set<Position> all;
  for (auto& v : seen) {
    for (size_t i = 1; i < v.size(); ++i) EXPECT_LT(v[i - 1], v[i]);
    all.insert(v.begin(), v.end());
  }
  EXPECT_EQ(all.size(), size_t{kThreads * kPerThread});
}

TEST(EngineTest, ReopenRecoversEveryAcknowledgedTransaction) {
  TempDir dir;
  std::vector<TableChecksum> before;
  {
    auto engine = OpenOrDie(dir.path());
    for (int i = 0; i < 500; ++i)
      ASSERT_TRUE(engine->Commit(Put("k" + std::to_string(i), "v")).ok());
    ASSERT_TRUE(engine->Commit({{Op::Delete("t", "k7")}}).ok());
    before = engine->tables().Checksums();
  }
  auto engine = OpenOrDie(dir.path());
  EXPECT_EQ(engine->tables().Checksums(), before);
  EXPECT_FALSE(engine->tables().Get("t", "k7"));
  EXPECT_EQ(engine->recovery_report().records_replayed, 501u);
}

TEST(EngineTest, RotationContinuesNumberingAndRecoveryReadsAllJournals) {
  TempDir dir;
  std::vector<TableChecksum> before;
  {
    auto engine = OpenOrDie(dir.path());
    ASSERT_TRUE(engine->Commit(Put("a", "1")).ok());
    auto rot = engine->Rotate();
    ASSERT_TRUE(rot.ok());
    EXPECT_EQ(rot->journal, 1u);
    auto pos = engine->Commit(Put("b", "2"));
    ASSERT_TRUE(pos.ok());
    EXPECT_EQ(pos->journal, 2u);
    ASSERT_TRUE(engine->Rotate().ok());
    ASSERT_TRUE(engine->Commit(Put("c", "3")).ok());
    before = engine->tables().Checksums();
  }
  EXPECT_TRUE(std::filesystem::exists(dir.Sub("journals/journal.1")));
  EXPECT_TRUE(std::filesystem::exists(dir.Sub("journals/journal.2")));
  auto engine = OpenOrDie(dir.path());
  EXPECT_EQ(engine->tables().Checksums(), before);
  EXPECT_EQ(engine->durable().journal, 3u);
}

TEST(EngineTest, CrashAfterRotationRecordFinishesTheRotation) {
  TempDir dir;
  Position end;
  {
    auto engine = OpenOrDie(dir.path());
    end = *engine->Commit(Put("a", "1"));
  }
  // Crash window 1: the rotation record is durable, the rename never happened.
  std::string bytes = testing::ReadAll(dir.Sub("journal")).substr(0, end.offset);
  EncodeRecord(RecordType::kRotation, 0, Epoch{1}, 2, EncodeJournalNumber(2), &bytes);
  testing::WriteAll(dir.Sub("journal"), bytes);

  auto engine = OpenOrDie(dir.path());
  EXPECT_TRUE(std::filesystem::exists(dir.Sub("journals/journal.1")));
  EXPECT_EQ(engine->durable().journal, 2u);
  EXPECT_EQ(engine->tables().Get("t", "a"), "1");
}

TEST(EngineTest, CrashAfterRenameCreatesTheNextJournal) {
  TempDir dir;
  {
    auto engine = OpenOrDie(dir.path());
    ASSERT_TRUE(engine->Commit(Put("a", "1")).ok());
    ASSERT_TRUE(engine->Rotate().ok());
  }
  // Crash window 2: journal.1 is in place, the new live journal is not.
  std::filesystem::remove(dir.Sub("journal"));
  auto engine = OpenOrDie(dir.path());
  EXPECT_EQ(engine->durable().journal, 2u);
  EXPECT_TRUE(engine->Commit(Put("b", "2")).ok());
}

TEST(EngineTest, FlippedByteInARotatedJournalStopsStartup) {
  TempDir dir;
  {
    auto engine = OpenOrDie(dir.path());
    for (int i = 0; i < 20; ++i)
      ASSERT_TRUE(engine->Commit(Put("k" + std::to_string(i), "v")).ok());
    ASSERT_TRUE(engine->Rotate().ok());
  }
  std::string rotated = dir.Sub("journals/journal.1");
  testing::FlipByte(rotated, testing::FileSize(rotated) / 2);
  auto engine = Engine::Open({dir.path(), false});
  ASSERT_FALSE(engine.ok());
  EXPECT_EQ(engine.status().code(), Code::kCorruption);
  EXPECT_NE(engine.status().message().find("journals/journal.1: offset "), std::string::npos)
      << engine.status().message();
}

TEST(EngineTest, SecondEngineOnTheSameRootIsRefused) {
  TempDir dir;
  auto engine = OpenOrDie(dir.path());
  auto second = Engine::Open({dir.path(), false});
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("in use"), std::string::npos);
}

TEST(EngineTest, RetentionKeepsTheLastKAndEverythingRecoveryNeeds) {
  TempDir dir;
  {
    auto engine = OpenOrDie(dir.path());
    ASSERT_TRUE(engine->Commit({{Op::Put("config", "journal.retain", "2")}}).ok());
    for (int i = 0; i < 5; ++i) {
      ASSERT_TRUE(engine->Commit(Put("k" + std::to_string(i), "v")).ok());
      ASSERT_TRUE(engine->Checkpoint().ok());
    }
  }
  auto ckps = *RootLayout(dir.path()).ListCheckpoints();
  auto rotated = *RootLayout(dir.path()).ListRotated();
  EXPECT_EQ(ckps, (std::vector<uint32_t>{5, 6}));
  EXPECT_EQ(rotated, (std::vector<uint32_t>{4, 5}));
  auto engine = OpenOrDie(dir.path());
  EXPECT_EQ(engine->tables().Get("t", "k0"), "v");
}

// A checkpoint is built from the files while commits go on: it must hold
// exactly the commits of the journals before it, whatever ran beside it.
TEST(EngineTest, ACheckpointTakenBesideCommitsHoldsExactlyTheJournalsBeforeIt) {
  TempDir dir;
  auto engine = OpenOrDie(dir.path());
  constexpr int kThreads = 4;
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::vector<std::pair<std::string, Position>> acked;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; !stop && i < 100000; ++i) {
        std::string key = std::to_string(t) + "." + std::to_string(i);
        auto pos = engine->Commit(Put(key, "v"));
        ASSERT_TRUE(pos.ok()) << pos.status().ToString();
        std::lock_guard lock(mu);
        acked.emplace_back(key, *pos);
      }
    });
  }
  std::vector<uint32_t> taken;
  for (int c = 0; c < 3; ++c) {
    // Wait until some commits landed since the last checkpoint (bounded).
    for (int tries = 0; tries < 100000; ++tries) {
      {
        std::lock_guard lock(mu);
        if (!acked.empty() && acked.back().second.journal >= (taken.empty() ? 1 : taken.back()))
          break;
      }
      std::this_thread::yield();
    }
    auto ckp = engine->Checkpoint();
    ASSERT_TRUE(ckp.ok()) << ckp.status().ToString();
    taken.push_back(ckp->journal);
  }
  stop = true;
  for (auto& th : threads) th.join();
  RootLayout layout(dir.path());
  for (uint32_t n : taken) {
    auto loaded = ReadCheckpoint(layout.checkpoint(n));
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    const Table* t = loaded->tables.Find("t");
    size_t before = 0;
    for (const auto& [key, pos] : acked) {
      bool in = t != nullptr && t->rows.count(key) == 1;
      EXPECT_EQ(in, pos.journal < n)
          << "checkpoint " << n << ", key " << key << " at " << pos.ToString();
      before += pos.journal < n;
    }
    EXPECT_EQ(t == nullptr ? 0 : t->rows.size(), before) << "checkpoint " << n;
  }
}

// When no checkpoint verifies and the journals before it are gone, the
// files cannot rebuild the state: the checkpoint is then the live tables,
// copied at a rotation, and recovery starts from it.
TEST(EngineTest, ACheckpointTheFilesCannotRebuildIsCopiedFromTheLiveTables) {
  TempDir dir;
  RootLayout layout(dir.path());
  std::vector<uint32_t> hooked;
  {
    auto engine = OpenHooked(dir.path(), &hooked);
    ASSERT_TRUE(engine->Commit(Put("a", "1")).ok());
    auto first = engine->Checkpoint();
    ASSERT_TRUE(first.ok());
    ASSERT_TRUE(engine->Commit(Put("b", "2")).ok());
    ASSERT_TRUE(RemoveFile(layout.rotated_journal(1)).ok());
    testing::FlipByte(layout.checkpoint(first->journal), 40);
    auto second = engine->Checkpoint();
    ASSERT_TRUE(second.ok()) << second.status().ToString();
    EXPECT_EQ(second->rows, 2u);
    // Known before the rotation: one rotation, and the host told once.
    EXPECT_EQ(second->journal, 3u);
    EXPECT_EQ(hooked, (std::vector<uint32_t>{2, 3}));
  }
  auto engine = OpenOrDie(dir.path());
  EXPECT_EQ(engine->recovery_report().checkpoint, 3u);
  EXPECT_EQ(engine->tables().Get("t", "a"), "1");
  EXPECT_EQ(engine->tables().Get("t", "b"), "2");
}

// Damage found only while the journals are read: the checkpoint is then
// copied from the live tables at a second rotation, and the host's hook runs
// for both (the second is the one Checkpoint returns).
TEST(EngineTest, ACheckpointWhoseJournalTurnsOutDamagedIsCopiedAtASecondRotation) {
  TempDir dir;
  RootLayout layout(dir.path());
  std::vector<uint32_t> hooked;
  auto engine = OpenHooked(dir.path(), &hooked);
  ASSERT_TRUE(engine->Commit(Put("a", "1")).ok());
  ASSERT_TRUE(engine->Rotate().ok());
  ASSERT_TRUE(engine->Commit(Put("b", "2")).ok());
  testing::FlipByte(layout.rotated_journal(1), testing::FileSize(layout.rotated_journal(1)) - 30);
  auto ckp = engine->Checkpoint();
  ASSERT_TRUE(ckp.ok()) << ckp.status().ToString();
  EXPECT_EQ(ckp->journal, 4u);
  EXPECT_EQ(ckp->rows, 2u);
  EXPECT_EQ(hooked, (std::vector<uint32_t>{3, 4}));
  auto loaded = ReadCheckpoint(layout.checkpoint(4));
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->tables.Find("t")->rows.size(), 2u);
}

// A checkpoint file whose content is another journal's state (copied or
// renamed by hand, digest and all) is skipped by every reader alike: start-up
// recovery must not build from it what the files say otherwise.
// A root's history up to its live journal's end, and its tables there: what
// a standby promoted in place hands to the master it becomes.
HandedTables HistoryWithTables(const std::string& root, Epoch* epoch) {
  auto engine = OpenOrDie(root);
  EXPECT_TRUE(engine->Commit(Put("before-rotation", "v")).ok());
  EXPECT_TRUE(engine->Rotate().ok());
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(engine->Commit(Put("k" + std::to_string(i), "v")).ok());
  *epoch = engine->epoch();
  return {engine->tables().Snapshot(), engine->durable()};
}

std::vector<uint64_t> TxnIds(const std::string& journal) {
  std::vector<uint64_t> ids;
  EXPECT_TRUE(ScanJournal(journal, TailPolicy::kReportOnly, [&](const Record& rec, Position) {
                ids.push_back(rec.txn_id);
                return Status::Ok();
              }).ok());
  return ids;
}

TEST(EngineTest, TablesHandedOverAtTheLiveJournalsEndAreUsedInsteadOfAReplay) {
  TempDir dir;
  Epoch epoch;
  HandedTables handed = HistoryWithTables(dir.path(), &epoch);
  // A row no replay makes: it shows which tables the engine serves.
  handed.tables.Apply(Op::Put("t", "handed", "yes"));
  {
    auto engine = Engine::Open({dir.path(), false}, std::move(handed));
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    EXPECT_TRUE((*engine)->recovery_report().handed_over);
    EXPECT_EQ((*engine)->tables().Get("t", "handed"), "yes");
    EXPECT_EQ((*engine)->tables().Get("t", "before-rotation"), "v");
    EXPECT_EQ((*engine)->epoch(), epoch);
    ASSERT_TRUE((*engine)->Commit(Put("after", "v")).ok());
  }
  // It went on from the journal's own numbering.
  std::vector<uint64_t> ids = TxnIds(RootLayout(dir.path()).live_journal());
  ASSERT_EQ(ids.size(), 21u);  // 20 before, 1 after
  for (size_t i = 1; i < ids.size(); ++i) EXPECT_EQ(ids[i], ids[i - 1] + 1) << i;
  auto engine = OpenOrDie(dir.path());
  EXPECT_FALSE(engine->recovery_report().handed_over);
  EXPECT_EQ(engine->tables().Get("t", "after"), "v");
}

TEST(EngineTest, TablesHandedOverAtAnotherPositionAreIgnoredForAReplay) {
  TempDir dir;
  Epoch epoch;
  HandedTables handed = HistoryWithTables(dir.path(), &epoch);
  handed.tables.Apply(Op::Put("t", "handed", "yes"));
  handed.at.offset -= 1;  // not where the journal ends
  auto engine = Engine::Open({dir.path(), false}, std::move(handed));
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  EXPECT_FALSE((*engine)->recovery_report().handed_over);
  EXPECT_FALSE((*engine)->tables().Get("t", "handed"));
  EXPECT_EQ((*engine)->tables().Get("t", "k19"), "v");
  EXPECT_EQ((*engine)->tables().Get("t", "before-rotation"), "v");
}

TEST(EngineTest, TablesHandedOverToARootMissingARotatedJournalDoNotHideIt) {
  TempDir dir;
  Epoch epoch;
  HandedTables handed = HistoryWithTables(dir.path(), &epoch);
  ASSERT_TRUE(RemoveDurably(RootLayout(dir.path()).rotated_journal(1)).ok());
  // As without them: the root cannot be recovered, so it does not serve.
  auto engine = Engine::Open({dir.path(), false}, std::move(handed));
  EXPECT_FALSE(engine.ok());
}

TEST(EngineTest, ACheckpointNamedForAnotherJournalIsSkipped) {
  TempDir dir;
  RootLayout layout(dir.path());
  {
    auto engine = OpenOrDie(dir.path());
    ASSERT_TRUE(engine->Commit(Put("a", "1")).ok());
    ASSERT_TRUE(engine->Checkpoint().ok());  // ckp.2
    ASSERT_TRUE(engine->Commit(Put("b", "2")).ok());
    ASSERT_TRUE(engine->Rotate().ok());
  }
  std::filesystem::copy_file(layout.checkpoint(2), layout.checkpoint(3));
  auto md5 = Md5OfFile(layout.checkpoint(3));
  ASSERT_TRUE(md5.ok());
  testing::WriteAll(layout.checkpoint(3) + ".md5", *md5 + "  ckp.3.gz\n");
  EXPECT_TRUE(CanRebuildState(layout, 3));
  auto rebuilt = RebuildState(layout, 3, [&](uint32_t n) { return layout.rotated_journal(n); });
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status().ToString();
  EXPECT_EQ(rebuilt->from_checkpoint, 2u);
  auto engine = OpenOrDie(dir.path());
  EXPECT_EQ(engine->recovery_report().checkpoint, 2u);
  EXPECT_EQ(engine->tables().Get("t", "b"), "2");
  EXPECT_EQ(engine->tables().Checksums(), rebuilt->tables.Checksums());
}

// A replay holds little decoded data whatever the size of its transactions.
TEST(EngineTest, AReplayAppliesAsSoonAsAMegabyteIsDecoded) {
  TableSet tables;
  ReplayBatch apply(&tables);
  Record small{RecordType::kTransaction, 0, {}, 1, EncodeTransaction(Put("s", "v"))};
  ASSERT_TRUE(apply.Add(small).ok());
  EXPECT_EQ(tables.Find("t"), nullptr);  // batched
  Record big{
      RecordType::kTransaction, 0, {}, 2, EncodeTransaction(Put("big", std::string(2 << 20, 'b')))};
  ASSERT_TRUE(apply.Add(big).ok());
  ASSERT_NE(tables.Find("t"), nullptr);
  EXPECT_EQ(tables.Find("t")->rows.size(), 2u);
}

TEST(EngineTest, ChecksumMarkerCarriesTheChecksumsAtItsPosition) {
  TempDir dir;
  auto engine = OpenOrDie(dir.path());
  ASSERT_TRUE(engine->Commit(Put("a", "1")).ok());
  auto marked = engine->JournalChecksums();
  ASSERT_TRUE(marked.ok());
  EXPECT_EQ(marked->second, engine->tables().Checksums());
  ASSERT_TRUE(engine->Commit(Put("b", "2")).ok());
  engine->Close();
  std::vector<TableChecksum> in_journal;
  auto sum =
      ScanJournal(dir.Sub("journal"), TailPolicy::kReportOnly, [&](const Record& rec, Position) {
        if (rec.type == RecordType::kChecksumMarker) {
          in_journal = *DecodeChecksumMarker(rec.payload);
        }
        return Status::Ok();
      });
  ASSERT_TRUE(sum.ok());
  EXPECT_EQ(in_journal, marked->second);
}

TEST(EngineTest, DiskFullFailsTheCommitAndLosesNothingAcknowledged) {
  std::signal(SIGXFSZ, SIG_IGN);
  TempDir dir;
  auto engine = OpenOrDie(dir.path());
  std::set<std::string> acked;
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(engine->Commit(Put("before" + std::to_string(i), "v")).ok());
    acked.insert("before" + std::to_string(i));
  }
  rlimit old;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
  rlimit tiny = old;
  tiny.rlim_cur = engine->durable().offset + 1000;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &tiny), 0);
  int failures = 0;
  for (int i = 0; i < 100; ++i) {
    std::string key = "during" + std::to_string(i);
    auto pos = engine->Commit(Put(key, std::string(100, 'x')));
    if (pos.ok()) {
      acked.insert(key);
    } else {
      EXPECT_EQ(pos.status().code(), Code::kNoSpace) << pos.status().ToString();
      ++failures;
    }
  }
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &old), 0);
  EXPECT_GT(failures, 0);
  // Space is back: commits work again without a restart.
  ASSERT_TRUE(engine->Commit(Put("after", "v")).ok());
  acked.insert("after");
  engine.reset();

  auto reopened = OpenOrDie(dir.path());
  size_t rows = reopened->tables().Scan("t", "", 1000).size();
  EXPECT_EQ(rows, acked.size()) << "a failed commit came back, or an acknowledged one was lost";
  for (const auto& key : acked) EXPECT_TRUE(reopened->tables().Get("t", key)) << key;
}

}  // namespace
}  // namespace tandem
