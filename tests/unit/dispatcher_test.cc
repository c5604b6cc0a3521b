// The dispatcher's own guarantees: a handler that throws costs its request
// only, and a reply is given exactly once.
#include "transport/dispatcher.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace tandem {
namespace {

TEST(DispatcherTest, AHandlerThatThrowsAnswersWithAnInternalErrorOnce) {
  Tables tables;
  Dispatcher d(&tables);
  d.Register("boom",
             {AccessLevel::kRead, false, true, [](const RequestContext&, const auto&, Reply) {
                throw std::invalid_argument("stoull");
              }});
  d.Register("half",
             {AccessLevel::kRead, false, true, [](const RequestContext&, const auto&, Reply reply) {
                reply(Response::Rows({{{"ok", "1"}}}));
                throw std::runtime_error("after answering");
              }});
  int answers = 0;
  Response last;
  auto record = [&](Response r) {
    ++answers;
    last = std::move(r);
  };
  d.Dispatch({"", "", {"boom"}}, true, "test", record);
  EXPECT_EQ(answers, 1);
  EXPECT_EQ(last.status.code(), Code::kInternal);
  EXPECT_NE(last.status.message().find("stoull"), std::string::npos);
  d.Dispatch({"", "", {"half"}}, true, "test", record);
  EXPECT_EQ(answers, 2) << "answered twice";
  EXPECT_TRUE(last.status.ok());
}

TEST(DispatcherTest, ReservedTablesNameTheirOwner) {
  Tables tables;
  Dispatcher d(&tables);
  d.ReserveTable("failover", "failover");
  EXPECT_EQ(d.TableOwner("failover"), "failover");
  EXPECT_FALSE(d.TableOwner("kv"));
}

}  // namespace
}  // namespace tandem
