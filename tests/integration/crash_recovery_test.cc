// Real tandemd processes, SIGKILLed and restarted: what was acknowledged
// must survive; what failed must not come back.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "tests/integration/harness.h"
#include "tests/testing/journal_files.h"

namespace tandem::testing {
namespace {

Result<Response> Call(Client* c, std::vector<std::string> args) {
  return c->Call(Request{"", "", std::move(args)});
}

std::set<std::string> AllKeys(const TandemdProcess& server) {
  auto c = server.Connect();
  std::set<std::string> keys;
  if (!c) {
    ADD_FAILURE() << "cannot connect to " << server.address();
    return keys;
  }
  auto resp = Call(c.get(), {"scan", "kv"});
  if (resp.ok()) {
    for (const Row& r : resp->rows) keys.insert(std::string(FieldOf(r, "key")));
  }
  return keys;
}

TEST(CrashRecoveryTest, KillNineUnderLoadLosesNoAcknowledgedWrite) {
  TempDir dir;
  std::string root = dir.Sub("root");
  auto server = TandemdProcess::Start(root);
  ASSERT_TRUE(server);

  std::mutex mu;
  std::set<std::string> acked;
  std::atomic<int> total{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 8; ++t) {
    clients.emplace_back([&, t] {
      auto c = server->Connect();
      if (!c) return;
      for (int i = 0; i < 5000; ++i) {
        std::string key = "c" + std::to_string(t) + "-" + std::to_string(i);
        auto resp = Call(c.get(), {"put", "kv", key, std::string(100, 'v')});
        if (!resp.ok() || !resp->status.ok()) return;  // the server died under us
        std::lock_guard lock(mu);
        acked.insert(key);
        ++total;
      }
    });
  }
  ASSERT_TRUE(WaitFor([&] { return total >= 3000; }));
  server->Kill9();
  for (auto& th : clients) th.join();

  auto restarted = TandemdProcess::Start(root);
  ASSERT_TRUE(restarted);
  std::set<std::string> present = AllKeys(*restarted);
  size_t missing = 0;
  for (const auto& key : acked) missing += present.count(key) == 0;
  EXPECT_EQ(missing, 0u) << "of " << acked.size() << " acknowledged writes";
  // In-flight commits may have become durable without an ack, never more.
  EXPECT_LE(present.size(), acked.size() + 8);
}

TEST(CrashRecoveryTest, TornTailAfterACrashIsCutAtStartup) {
  TempDir dir;
  std::string root = dir.Sub("root");
  auto server = TandemdProcess::Start(root);
  ASSERT_TRUE(server);
  auto c = server->Connect();
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(Call(c.get(), {"put", "kv", "k" + std::to_string(i), "v"})->status.ok());
  }
  auto info = Call(c.get(), {"info"});
  uint64_t end = std::stoull(std::string(FieldOf(info->rows[0], "sequence")));
  server->Kill9();
  // A record half-written when the machine died.
  std::string bytes = ReadAll(root + "/journal").substr(0, end);
  WriteAll(root + "/journal",
           bytes + std::string("TNDJ\x01\x01\x00\x00\xff\x00\x00\x00garbage", 19));

  auto restarted = TandemdProcess::Start(root);
  ASSERT_TRUE(restarted);
  EXPECT_EQ(AllKeys(*restarted).size(), 50u);
  EXPECT_NE(restarted->Log().find("torn tail at offset " + std::to_string(end)), std::string::npos)
      << restarted->Log();
}

TEST(CrashRecoveryTest, FlippedByteInARotatedJournalRefusesStartupWithFileAndOffset) {
  TempDir dir;
  std::string root = dir.Sub("root");
  {
    auto server = TandemdProcess::Start(root);
    ASSERT_TRUE(server);
    auto c = server->Connect();
    for (int i = 0; i < 50; ++i)
      ASSERT_TRUE(Call(c.get(), {"put", "kv", "k" + std::to_string(i), "v"}).ok());
    ASSERT_TRUE(Call(c.get(), {"admin", "journal"})->status.ok());
    EXPECT_EQ(server->Terminate(), 0);
  }
  std::string rotated = root + "/journals/journal.1";
  FlipByte(rotated, FileSize(rotated) / 2);

  EXPECT_FALSE(TandemdProcess::Start(root)) << "a server started on a damaged journal";
  std::string err = ReadAll(root + ".stderr");
  EXPECT_NE(err.find("journals/journal.1: offset "), std::string::npos) << err;

  CommandResult xv = RunTandemd({"-r", root, "-xv"});
  EXPECT_NE(xv.exit_code, 0);
  EXPECT_NE(xv.out.find("BAD  " + rotated + ": "), std::string::npos) << xv.out;
}

TEST(CrashRecoveryTest, DiskFullFailsTheCommitAndTheServerRecoversWhenSpaceReturns) {
  TempDir dir;
  std::string root = dir.Sub("root");
  SpawnOptions limited;
  limited.file_size_limit = 64 * 1024;
  auto server = TandemdProcess::Start(root, "127.0.0.1:0", limited);
  ASSERT_TRUE(server);
  auto c = server->Connect();
  std::set<std::string> acked;
  Status failure;
  for (int i = 0; i < 2000 && failure.ok(); ++i) {
    std::string key = "k" + std::to_string(i);
    auto resp = Call(c.get(), {"put", "kv", key, std::string(200, 'x')});
    ASSERT_TRUE(resp.ok()) << "the server dropped the connection on a full disk";
    if (resp->status.ok()) {
      acked.insert(key);
    } else {
      failure = resp->status;
    }
  }
  ASSERT_FALSE(failure.ok()) << "the size limit never bit";
  EXPECT_EQ(failure.code(), Code::kNoSpace) << failure.message();
  // Still refusing while full, still answering reads.
  EXPECT_FALSE(Call(c.get(), {"put", "kv", "refused", std::string(200, 'x')})->status.ok());
  EXPECT_TRUE(Call(c.get(), {"get", "kv", *acked.begin()})->status.ok());

  // Space returns: raise the limit of the running process.
  rlimit unlimited{RLIM_INFINITY, RLIM_INFINITY};
  ASSERT_EQ(::prlimit(server->pid(), RLIMIT_FSIZE, &unlimited, nullptr), 0);
  auto after = Call(c.get(), {"put", "kv", "after", "v"});
  ASSERT_TRUE(after.ok());
  ASSERT_TRUE(after->status.ok()) << after->status.message();
  acked.insert("after");
  server->Kill9();

  auto restarted = TandemdProcess::Start(root);
  ASSERT_TRUE(restarted);
  EXPECT_EQ(AllKeys(*restarted), acked);
}

}  // namespace
}  // namespace tandem::testing
