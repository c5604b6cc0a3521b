// The master's hub: a commit waiting at the mandatory gate is never lost
// track of, whatever happens to the hub.
#include "replica/hub.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "replica/server_spec.h"
#include "replica/state_file.h"
#include "tests/testing/fault_fs.h"
#include "tests/testing/temp_dir.h"

namespace tandem::testing {
namespace {

// A master whose commits wait for mandatory standby sb1, which never comes.
class HubTest : public ::testing::Test {
 protected:
  void SetUp() override {
    engine = std::move(Engine::Open({dir.path(), false})).value();
    hub = std::make_unique<ReplicationHub>(engine.get());
    auto spec = ServerSpec::Parse("ServerID: sb1\nServices: standby\nOptions: mandatory\n");
    ASSERT_TRUE(engine->Commit({{ServerSpecOp(*spec)}}).ok());
    ASSERT_TRUE(engine->Commit({{Op::Put("config", "commit.wait", "mandatory")}}).ok());
    hub->Recompute();
  }

  TempDir dir;
  std::unique_ptr<Engine> engine;
  std::unique_ptr<ReplicationHub> hub;
};

TEST_F(HubTest, ACommitWaitingForAMandatoryStandbyFailsWhenTheHubGoes) {
  std::atomic<int> answers{0};
  Status answer;
  engine->CommitAsync({{Op::Put("kv", "k", "v")}}, [&](const Status& st, Position) {
    answer = st;
    ++answers;
  });
  // Durable, but sb1 never acknowledges it: it waits at the gate.
  for (int i = 0; i < 5000 && !engine->tables().Get("kv", "k"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_TRUE(engine->tables().Get("kv", "k"));
  EXPECT_EQ(answers.load(), 0);
  hub.reset();
  ASSERT_EQ(answers.load(), 1) << "the waiting commit was dropped without an answer";
  EXPECT_EQ(answer.code(), Code::kUnavailable);
  EXPECT_NE(answer.message().find("no mandatory standby has confirmed it"), std::string::npos);
}

TEST_F(HubTest, ACommitNoMandatoryStandbyConfirmsInTimeFailsAsUnconfirmed) {
  ASSERT_TRUE(engine->Commit({{Op::Put("config", "commit.wait.timeout", "1")}}).ok());
  std::atomic<bool> answered{false};
  Status answer;
  engine->CommitAsync({{Op::Put("kv", "k", "v")}}, [&](const Status& st, Position) {
    answer = st;
    answered = true;
  });
  for (int i = 0; i < 20000 && !answered; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_TRUE(answered) << "the commit waits past commit.wait.timeout";
  EXPECT_EQ(answer.code(), Code::kUnconfirmed);
  EXPECT_NE(answer.message().find("'sb1'"), std::string::npos) << answer.ToString();
  EXPECT_TRUE(engine->tables().Get("kv", "k")) << "durable here, only unconfirmed";
}

template <typename Pred>
bool WaitFor(Pred pred) {
  for (int i = 0; i < 20000; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return pred();
}

// Release is persisted (staterelease) by the hub's own thread, never by the
// journal writer's: a slow disk under that file holds up no commit.
TEST(HubPersistTest, ASlowReleaseFileHoldsUpNoCommit) {
  TempDir dir;
  const std::string root = dir.Sub("root");
  ASSERT_TRUE(CreateDirs(root).ok());
  FaultFs fs(dir.Sub("scratch"));
  ScopedMount mount(root, &fs);
  auto engine = std::move(Engine::Open({root, false})).value();
  auto hub = std::make_unique<ReplicationHub>(engine.get());
  const std::string file = root + "/staterelease";
  ASSERT_TRUE(WaitFor([&] { return ReadPositionFile(file).ok(); }));  // the first one

  // A megabyte past the persisted release makes the next write due; its
  // sync is held.
  fs.HoldNext(FsOp::kDataSync, "staterelease");
  std::atomic<int> answered{0};
  engine->CommitAsync({{Op::Put("kv", "big", std::string(1200 << 10, 'x'))}},
                      [&](const Status&, Position) { ++answered; });
  ASSERT_TRUE(fs.WaitUntilHeld());
  for (int i = 0; i < 10; ++i) {
    engine->CommitAsync({{Op::Put("kv", "k" + std::to_string(i), "v")}},
                        [&](const Status& st, Position) {
                          EXPECT_TRUE(st.ok()) << st.ToString();
                          ++answered;
                        });
  }
  bool all = WaitFor([&] { return answered == 11; });
  fs.Release();
  EXPECT_TRUE(all) << answered << " of 11 commits answered while staterelease was syncing";
  EXPECT_TRUE(WaitFor([&] {
    auto persisted = ReadPositionFile(file);
    return persisted.ok() && persisted->offset > (1200u << 10);
  }));
}

}  // namespace
}  // namespace tandem::testing
