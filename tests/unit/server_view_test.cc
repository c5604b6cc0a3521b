// Readiness as /readyz and `tandem ping` report it, for a master whose
// journal has stopped taking commits (a failed sync): not ready, and why.
#include <gtest/gtest.h>

#include "journal/server_identity.h"
#include "observe/server_view.h"
#include "tests/testing/fault_fs.h"
#include "tests/testing/temp_dir.h"

namespace tandem::testing {
namespace {

TEST(ServerViewTest, AMasterWhoseJournalRefusesCommitsIsNotReady) {
  TempDir dir;
  FaultFs fs(dir.Sub("scratch"));
  std::string root = dir.Sub("root");
  ScopedMount mount(root, &fs);
  ASSERT_TRUE(CreateDirs(root).ok());
  ASSERT_TRUE(WriteServerIdentity(RootLayout(root), {.id = "master1"}).ok());
  auto engine = Engine::Open({root, /*fsync=*/true});
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  ReplicationHub hub(engine->get());
  ServerView view = ServerView::OfMaster(engine->get(), &hub);
  EXPECT_TRUE(view.Ready().ready);

  fs.Inject({FsOp::kDataSync, "/journal", EIO, 0, 1, 0, false});
  EXPECT_FALSE((*engine)->Commit({{Op::Put("t", "k", "v")}}).ok());
  Readiness r = view.Ready();
  EXPECT_FALSE(r.ready);
  EXPECT_EQ(r.role, "master");
  EXPECT_NE(r.reason.find("commits are refused"), std::string::npos) << r.reason;
  EXPECT_NE(view.Metrics().find("tandem_ready 0"), std::string::npos);
}

}  // namespace
}  // namespace tandem::testing
