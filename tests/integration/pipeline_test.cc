// A connection may pipeline commits: the server takes the next one in before
// the one before is answered, answers them in order, and holds back any other
// request until everything before it is answered.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/integration/cluster.h"
#include "transport/frame.h"

namespace tandem::testing {
namespace {

using std::chrono::milliseconds;

class PipelineTest : public ClusterTest {};

std::string RequestFrame(std::vector<std::string> args) {
  return EncodeFrame(MessageType::kRequest, EncodeRequest({"", "", std::move(args)}));
}

Result<Response> NextResponse(Client& c) {
  auto frame = c.ReadFrame(milliseconds(20000));
  if (!frame.ok()) return frame.status();
  if (frame->first != MessageType::kResponse) return Status::Corruption("not a response");
  return DecodeResponse(frame->second);
}

TEST_F(PipelineTest, ACommitIsTakenInBeforeTheOneBeforeItIsAnsweredAndAnswersKeepTheirOrder) {
  auto master = StartMaster();
  ASSERT_TRUE(master);
  AddSpec(*master, "sb1", "standby", true);     // not started yet: every commit waits for it
  Configure(*master, "commit.wait.timeout=0");  // for as long as it takes
  Configure(*master, "commit.wait=mandatory");
  auto c = master->Connect();
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->SendRaw(RequestFrame({"put", "kv", "a", "1"}) +
                         RequestFrame({"put", "kv", "b", "2"}) + RequestFrame({"get", "kv", "b"}))
                  .ok());
  // Both commits are in the journal while the first still waits for sb1
  // (one at a time, b would not be taken in until a was answered).
  auto other = master->Connect();
  ASSERT_TRUE(other);
  EXPECT_TRUE(WaitFor([&] {
    auto got = other->Call({"", "", {"get", "kv", "b"}});
    return got.ok() && got->status.ok();
  }));
  // Once sb1 holds them, both are answered, in order, and only then the get.
  auto sb1 = StartDownstream("sb1", *master);
  ASSERT_TRUE(sb1);
  uint64_t last = 0;
  for (const char* key : {"a", "b"}) {
    auto resp = NextResponse(*c);
    ASSERT_TRUE(resp.ok()) << key << ": " << resp.status().ToString();
    ASSERT_TRUE(resp->status.ok()) << key << ": " << resp->status.ToString();
    uint64_t at = std::stoull(std::string(FieldOf(resp->rows.at(0), "sequence")));
    EXPECT_GT(at, last) << key;
    last = at;
  }
  auto got = NextResponse(*c);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_TRUE(got->status.ok()) << got->status.ToString();
  ASSERT_EQ(got->rows.size(), 1u);
  EXPECT_EQ(FieldOf(got->rows[0], "value"), "2");
}

// A master of `root`, started with `settings` set first.
std::unique_ptr<TandemdProcess> MasterWith(const std::string& root,
                                           const std::vector<std::string>& settings) {
  EXPECT_EQ(RunTandemd({"-r", root, "--id", "master1"}).exit_code, 0);
  for (const std::string& s : settings)
    EXPECT_EQ(RunTandemd({"-r", root, "-cset", s}).exit_code, 0);
  return TandemdProcess::Start(root);
}

// After a commit the session had a read posted, and the idle clock was never
// started again: a connection that went quiet after one commit stayed open
// for good (a stranger's refused put held a pre-login slot for ever).
TEST_F(PipelineTest, AConnectionThatGoesQuietAfterACommitIsClosedForIdling) {
  auto master = MasterWith(dir_.Sub("idle"), {"server.idle.timeout=1"});
  ASSERT_TRUE(master);
  auto c = master->Connect();
  ASSERT_TRUE(c);
  auto put = c->Call({"", "", {"put", "kv", "a", "1"}});
  ASSERT_TRUE(put.ok() && put->status.ok());
  auto next = c->ReadFrame(milliseconds(20000));
  ASSERT_FALSE(next.ok());
  EXPECT_NE(next.status().code(), Code::kTimeout) << "still open: " << next.status().ToString();
  EXPECT_TRUE(WaitFor([&] {
    return master->Log().find("waited 1000 ms for a request") != std::string::npos;
  })) << master->Log();
}

// A get that arrived in two pieces behind a commit still waiting for its
// standby: whole, it waits for the commit, and the frame timeout armed for
// its second piece must not close the connection meanwhile.
TEST_F(PipelineTest, ARequestWaitingForTheCommitsBeforeItIsNotTimedOutAsAPartialFrame) {
  master_root_ = dir_.Sub("master");
  auto master = MasterWith(master_root_, {"server.frame.timeout=1"});
  ASSERT_TRUE(master);
  AddSpec(*master, "sb1", "standby", true);
  Configure(*master, "commit.wait.timeout=0");
  Configure(*master, "commit.wait=mandatory");
  auto c = master->Connect();
  ASSERT_TRUE(c);
  std::string get = RequestFrame({"get", "kv", "a"});
  ASSERT_TRUE(c->SendRaw(RequestFrame({"put", "kv", "a", "1"}) + get.substr(0, 5)).ok());
  auto other = master->Connect();
  ASSERT_TRUE(other);
  EXPECT_TRUE(WaitFor([&] {
    auto got = other->Call({"", "", {"get", "kv", "a"}});
    return got.ok() && got->status.ok();  // the put is in, its answer waits for sb1
  }));
  ASSERT_TRUE(c->SendRaw(get.substr(5)).ok());
  // A second connection's partial frame, sent after the get's first piece,
  // times out: by then the get's frame timer would have fired too.
  auto partial = master->Connect();
  ASSERT_TRUE(partial);
  ASSERT_TRUE(partial->SendRaw(get.substr(0, 5)).ok());
  EXPECT_TRUE(partial->PeerClosed());
  auto sb1 = StartDownstream("sb1", *master);
  ASSERT_TRUE(sb1);
  auto put = NextResponse(*c);
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_TRUE(put->status.ok()) << put->status.ToString();
  auto got = NextResponse(*c);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_TRUE(got->status.ok()) << got->status.ToString();
  EXPECT_EQ(FieldOf(got->rows.at(0), "value"), "1");
}

TEST_F(PipelineTest, APeerThatShutsDownItsSideStillGetsEveryAnswer) {
  auto master = StartMaster();
  ASSERT_TRUE(master);
  auto address = Address::Parse(master->address());
  ASSERT_TRUE(address.ok());
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(address->port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  constexpr int kCommits = 40;
  std::string requests;
  for (int i = 0; i < kCommits; ++i)
    requests += RequestFrame({"put", "kv", "k", std::to_string(i)});
  requests += RequestFrame({"get", "kv", "k"});
  ASSERT_EQ(::write(fd, requests.data(), requests.size()), static_cast<ssize_t>(requests.size()));
  ASSERT_EQ(::shutdown(fd, SHUT_WR), 0);
  std::string in;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) in.append(buf, static_cast<size_t>(n));
  ::close(fd);
  std::vector<Response> answers;
  for (size_t at = 0; in.size() - at >= kFrameHeaderSize;) {
    auto h = DecodeFrameHeader(std::string_view(in).substr(at, kFrameHeaderSize), kMaxFrameBody);
    ASSERT_TRUE(h.ok());
    ASSERT_GE(in.size() - at, kFrameHeaderSize + h->length);
    auto resp = DecodeResponse(std::string_view(in).substr(at + kFrameHeaderSize, h->length));
    ASSERT_TRUE(resp.ok());
    answers.push_back(*resp);
    at += kFrameHeaderSize + h->length;
  }
  ASSERT_EQ(answers.size(), static_cast<size_t>(kCommits + 1));
  uint64_t last = 0;
  for (int i = 0; i < kCommits; ++i) {
    ASSERT_TRUE(answers[i].status.ok()) << answers[i].status.ToString();
    uint64_t at = std::stoull(std::string(FieldOf(answers[i].rows.at(0), "sequence")));
    EXPECT_GT(at, last) << "commit " << i << " answered out of order";
    last = at;
  }
  ASSERT_TRUE(answers.back().status.ok());
  EXPECT_EQ(FieldOf(answers.back().rows.at(0), "value"), std::to_string(kCommits - 1));
}

}  // namespace
}  // namespace tandem::testing
