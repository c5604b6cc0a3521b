// Garbage, oversized and unknown frames close only the offending connection.
#include <gtest/gtest.h>

#include "journal/coding.h"
#include "tests/integration/harness.h"
#include "tests/testing/journal_files.h"
#include "transport/frame.h"

namespace tandem::testing {
namespace {

class BadInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = TandemdProcess::Start(dir_.Sub("root"));
    ASSERT_TRUE(server_);
    bystander_ = server_->Connect();
    ASSERT_TRUE(bystander_);
  }

  // Sends bytes on a fresh connection and expects the server to hang up,
  // log why, and keep serving the bystander.
  void ExpectRejected(const std::string& bytes, const std::string& logged) {
    auto c = server_->Connect();
    ASSERT_TRUE(c);
    ASSERT_TRUE(c->SendRaw(bytes).ok());
    EXPECT_TRUE(c->PeerClosed());
    EXPECT_TRUE(WaitFor([&] { return server_->Log().find(logged) != std::string::npos; }))
        << "log lacks '" << logged << "':\n"
        << server_->Log();
    auto resp = bystander_->Call({"", "", {"put", "kv", "still", "here"}});
    ASSERT_TRUE(resp.ok()) << resp.status().message();
    EXPECT_TRUE(resp->status.ok());
  }

  TempDir dir_;
  std::unique_ptr<TandemdProcess> server_;
  std::unique_ptr<Client> bystander_;
};

std::string Header(uint16_t magic, uint16_t type, uint32_t length) {
  std::string h;
  PutFixed16(&h, magic);
  PutFixed16(&h, type);
  PutFixed32(&h, length);
  return h;
}

TEST_F(BadInputTest, OversizedFrameIsRefusedBeforeItsBodyIsRead) {
  ExpectRejected(Header(kFrameMagic, 1, 0xFFFFFFF0u), "exceeds the");
}

TEST_F(BadInputTest, RandomBytesAreRefused) {
  std::string junk = RandomBytes(4096, 42);
  ExpectRejected(junk, "bad frame magic");
}

TEST_F(BadInputTest, ValidFrameOfAnUnknownTypeIsRefused) {
  ExpectRejected(Header(kFrameMagic, 777, 3) + "abc", "unknown frame type 777");
}

TEST_F(BadInputTest, MalformedRequestBodyIsRefused) {
  ExpectRejected(EncodeFrame(MessageType::kRequest, std::string(5, '\xff')), "malformed request");
}

TEST_F(BadInputTest, UnknownCommandIsAnErrorNotADisconnect) {
  auto resp = bystander_->Call({"", "", {"frobnicate"}});
  ASSERT_TRUE(resp.ok());
  EXPECT_EQ(resp->status.code(), Code::kInvalidArgument);
  EXPECT_NE(resp->status.message().find("unknown command 'frobnicate'"), std::string::npos);
  EXPECT_TRUE(bystander_->Call({"", "", {"info"}})->status.ok());
}

}  // namespace
}  // namespace tandem::testing
