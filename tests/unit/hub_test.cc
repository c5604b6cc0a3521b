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

TEST(HubTest, ACommitWaitingForAMandatoryStandbyFailsWhenTheHubGoes) {
  TempDir dir;
  auto engine = std::move(Engine::Open({dir.path(), false})).value();
  auto hub = std::make_unique<ReplicationHub>(engine.get());
  auto spec = ServerSpec::Parse("ServerID: sb1\nServices: standby\nOptions: mandatory\n");
  ASSERT_TRUE(engine->Commit({{ServerSpecOp(*spec)}}).ok());
  ASSERT_TRUE(engine->Commit({{Op::Put("config", "commit.wait", "mandatory")}}).ok());
  hub->Recompute();
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

}  // namespace
}  // namespace tandem::testing
