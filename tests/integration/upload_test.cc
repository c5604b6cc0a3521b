// Content streams through submit and print in chunks: a file larger than
// any frame goes both ways, an upload cut short or overlong leaves nothing
// behind, and a master killed between the archive write and the metadata
// commit leaves an orphan, never a revision without content.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "journal/archive_store.h"
#include "tests/integration/harness.h"
#include "tests/testing/journal_files.h"
#include "tests/testing/sanitizers.h"
#include "transport/content_client.h"
#include "transport/content_protocol.h"
#include "transport/frame.h"

namespace tandem::testing {
namespace {

// Peak resident memory of a process, from /proc.
uint64_t PeakRssBytes(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  return 0;
}

bool TempFilesLeft(const std::string& root) {
  std::error_code ec;
  auto it = std::filesystem::directory_iterator(root + "/archive/tmp", ec);
  return !ec && it != std::filesystem::directory_iterator();
}

class UploadTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(); }
  void Start(const SpawnOptions& options = {}) {
    server_ = TandemdProcess::Start(root_, "127.0.0.1:0", options);
    ASSERT_TRUE(server_);
  }
  CommandResult T(std::vector<std::string> args) {
    args.insert(args.begin(), {"-p", server_->address()});
    return RunTandem(args);
  }

  TempDir dir_;
  std::string root_ = dir_.Sub("root");
  std::unique_ptr<TandemdProcess> server_;
};

TEST_F(UploadTest, FileLargerThanAnyFrameStreamsBothWays) {
  std::string big = RandomBytes(kMaxFrameBody + (16 << 20), 11);
  WriteAll(dir_.Sub("big"), big);
  auto submit = T({"submit", dir_.Sub("big"), "-d", "//depot/big.bin"});
  ASSERT_EQ(submit.exit_code, 0) << submit.err;
  EXPECT_NE(submit.out.find("//depot/big.bin#1"), std::string::npos) << submit.out;
  auto print = T({"print", "//depot/big.bin"});
  ASSERT_EQ(print.exit_code, 0) << print.err;
  EXPECT_TRUE(print.out == big) << "print gave " << print.out.size() << " bytes";
  EXPECT_EQ(T({"verify", "-q"}).exit_code, 0);
  // The server never held the file: a few chunks in flight, not 96 MiB.
  // (A sanitizer keeps memory resident of its own, so only the plain build
  // can check this.) Three quarters, not half: jemalloc keeps freed chunks
  // resident for a while in each of its arenas, and on a busy machine the
  // chunks pass through more threads, so the peak was seen at 51 MiB.
  if (!kMemorySanitized) {
    EXPECT_LT(PeakRssBytes(server_->pid()), big.size() * 3 / 4)
        << "tandemd's peak memory suggests it buffered the whole file";
  }
}

TEST_F(UploadTest, ConcurrentSubmitsGetDistinctConsecutiveNumbers) {
  constexpr int kThreads = 8, kEach = 5;
  std::vector<std::thread> threads;
  std::atomic<int> failed{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        std::string body = "thread " + std::to_string(t) + " file " + std::to_string(i);
        auto client = server_->Connect();
        auto row = SubmitContent(client.get(), {}, "//depot/shared", body.size(),
                                 [&](char* buf, size_t n, uint64_t offset) -> Result<size_t> {
                                   size_t got = std::min<size_t>(n, body.size() - offset);
                                   std::memcpy(buf, body.data() + offset, got);
                                   return got;
                                 });
        failed += !row.ok();
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_EQ(failed, 0);
  auto log = server_->Connect()->Call({"", "", {"filelog", "//depot/shared"}});
  ASSERT_TRUE(log.ok() && log->status.ok());
  std::set<std::string> revs, changes;
  for (const Row& row : log->rows) {
    revs.insert(std::string(FieldOf(row, "rev")));
    changes.insert(std::string(FieldOf(row, "change")));
  }
  EXPECT_EQ(log->rows.size(), size_t{kThreads * kEach});
  EXPECT_EQ(revs.size(), size_t{kThreads * kEach}) << "two submits got the same revision";
  EXPECT_EQ(changes.size(), size_t{kThreads * kEach}) << "two submits got the same change";
  EXPECT_TRUE(revs.count(std::to_string(kThreads * kEach))) << "revisions skip numbers";
  EXPECT_EQ(T({"verify", "-q"}).exit_code, 0);
}

TEST_F(UploadTest, EmptyFileIsARevisionToo) {
  WriteAll(dir_.Sub("empty"), "");
  ASSERT_EQ(T({"submit", dir_.Sub("empty"), "-d", "//depot/empty"}).exit_code, 0);
  auto print = T({"print", "//depot/empty"});
  EXPECT_EQ(print.exit_code, 0) << print.err;
  EXPECT_EQ(print.out, "");
}

TEST_F(UploadTest, AbandonedUploadLeavesNothing) {
  {
    auto client = server_->Connect();
    auto open = client->Call({"", "", {"submit", "//depot/cut", std::to_string(8 << 20)}});
    ASSERT_TRUE(open.ok() && open->status.ok());
    ASSERT_TRUE(client->SendFrame(MessageType::kContent, RandomBytes(kContentChunk, 3)).ok());
    auto ack = client->ReadFrame();
    ASSERT_TRUE(ack.ok()) << "the chunk was written and acknowledged";
    EXPECT_TRUE(TempFilesLeft(root_)) << "the upload is under way in archive/tmp";
  }  // the client goes away mid-upload
  EXPECT_TRUE(WaitFor([&] { return !TempFilesLeft(root_); })) << "the temp file stays behind";
  EXPECT_EQ(T({"files"}).out, "");
  EXPECT_EQ(T({"verify"}).out, "") << "nothing reached the archive";
}

TEST_F(UploadTest, UploadBeyondItsDeclaredSizeIsRefused) {
  auto client = server_->Connect();
  ASSERT_TRUE(client->Call({"", "", {"submit", "//depot/long", "10"}})->status.ok());
  ASSERT_TRUE(client->SendFrame(MessageType::kContent, std::string(11, 'x')).ok());
  auto answer = client->ReadFrame();
  ASSERT_TRUE(answer.ok());
  auto resp = DecodeResponse(answer->second);
  ASSERT_TRUE(resp.ok());
  EXPECT_FALSE(resp->status.ok());
  EXPECT_NE(resp->status.message().find("longer than the 10 bytes"), std::string::npos)
      << resp->status.message();
  client.reset();
  EXPECT_TRUE(WaitFor([&] { return !TempFilesLeft(root_); }));
  EXPECT_EQ(T({"files"}).out, "");

  // A request frame in the middle of an upload is a protocol error.
  auto other = server_->Connect();
  ASSERT_TRUE(other->Call({"", "", {"submit", "//depot/x", "10"}})->status.ok());
  ASSERT_TRUE(other->SendFrame(MessageType::kRequest, EncodeRequest({"", "", {"info"}})).ok());
  EXPECT_FALSE(other->ReadFrame().ok()) << "the server should close the connection";
  auto oversized = server_->Connect();
  ASSERT_TRUE(
      oversized->Call({"", "", {"submit", "//depot/z", std::to_string(8 << 20)}})->status.ok());
  ASSERT_TRUE(
      oversized->SendFrame(MessageType::kContent, std::string(kContentChunk + 1, 'z')).ok());
  EXPECT_FALSE(oversized->ReadFrame().ok()) << "a chunk over the limit should close the connection";
  for (const char* size : {"-1", "x", "", "99999999999999999999"}) {
    auto r = server_->Connect()->Call({"", "", {"submit", "//depot/y", size}});
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(r->status.ok()) << "size '" << size << "' accepted";
  }
}

TEST_F(UploadTest, KilledBetweenArchiveWriteAndCommitLeavesAnOrphanOnly) {
  server_->Kill9();
  SpawnOptions faulty;
  faulty.env["TANDEM_FAULTS"] = "submit.after-archive=crash";
  Start(faulty);
  std::string content = RandomBytes(3 << 20, 5);
  WriteAll(dir_.Sub("f"), content);
  auto r = T({"submit", dir_.Sub("f"), "-d", "//depot/f"});
  EXPECT_NE(r.exit_code, 0) << "the master was SIGKILLed before it could answer";
  server_->Kill9();  // reaps it

  Start();
  EXPECT_EQ(T({"files"}).out, "") << "a revision was committed";
  std::string md5 = Md5::Of(content);
  ArchiveStore archive(root_ + "/archive");
  EXPECT_TRUE(archive.Verify({md5, content.size()}).ok()) << "the content was durable first";
  auto v = T({"verify"});
  EXPECT_EQ(v.exit_code, 0) << "an orphan is harmless";
  EXPECT_NE(v.out.find("orphan"), std::string::npos) << v.out;
  // Submitting again stores nothing twice and adopts the orphan.
  ASSERT_EQ(T({"submit", dir_.Sub("f"), "-d", "//depot/f"}).exit_code, 0);
  v = T({"verify"});
  EXPECT_EQ(v.out.find("orphan"), std::string::npos) << v.out;
  EXPECT_TRUE(T({"print", "//depot/f"}).out == content);
}

}  // namespace
}  // namespace tandem::testing
