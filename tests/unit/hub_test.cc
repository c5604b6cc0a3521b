// The master's hub: a commit waiting at the mandatory gate is never lost
// track of, whatever happens to the hub.
#include "replica/hub.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "replica/server_spec.h"
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

}  // namespace
}  // namespace tandem::testing
