// What a client of the archive (tandem print, and pull -u on every
// downstream server) does with a server whose answers are bad: an error that
// names the field, never an exception (in pull -u that would end the server).
#include <gtest/gtest.h>

#include "transport/content_client.h"
#include "transport/dispatcher.h"
#include "transport/server.h"

namespace tandem {
namespace {

// A server whose archive commands answer with what the test gives.
class RogueArchive : public ::testing::Test {
 protected:
  void Serve(Row fetch_row, Row print_row) {
    dispatcher_.Register("archive-fetch", {AccessLevel::kNone, false, false,
                                           [fetch_row](const auto&, const auto&, Reply reply) {
                                             reply(Response::Rows({fetch_row}));
                                           }});
    dispatcher_.Register("print", {AccessLevel::kNone, false, false,
                                   [print_row](const auto&, const auto&, Reply reply) {
                                     reply(Response::Rows({print_row}));
                                   }});
    ServerOptions options;
    options.address = *Address::Parse("127.0.0.1:0");
    server_ = std::make_unique<Server>(options, &dispatcher_);
    ASSERT_TRUE(server_->Start().ok());
    auto client = Client::Connect(server_->bound(), {});
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    client_ = std::move(client).value();
  }

  Tables tables_;
  Dispatcher dispatcher_{&tables_};
  std::unique_ptr<Server> server_;
  std::unique_ptr<Client> client_;
};

const std::string kMd5(32, 'a');

TEST_F(RogueArchive, AFetchWithASizeThatIsNoNumberIsTheServersError) {
  Serve({{"name", kMd5}, {"size", "lots"}, {"data", "x"}}, {});
  Status st = FetchStored(client_.get(), {}, kMd5,
                          [](const std::string&, std::string_view) { return Status::Ok(); });
  EXPECT_EQ(st.code(), Code::kCorruption) << st.ToString();
  EXPECT_NE(st.message().find("bad size 'lots'"), std::string::npos) << st.ToString();
}

TEST_F(RogueArchive, APrintWithAFileSizeBeyondAnyNumberIsTheServersError) {
  Serve({}, {{"depotFile", "//d/f"},
             {"rev", "1"},
             {"digest", kMd5},
             {"fileSize", "99999999999999999999999999"}});
  auto row =
      PrintRevision(client_.get(), {}, "//d/f", [](std::string_view) { return Status::Ok(); });
  ASSERT_FALSE(row.ok());
  EXPECT_EQ(row.status().code(), Code::kCorruption);
  EXPECT_NE(row.status().message().find("bad fileSize"), std::string::npos)
      << row.status().ToString();
}

}  // namespace
}  // namespace tandem
