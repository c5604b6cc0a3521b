// The dispatcher's own guarantees: a handler that throws costs its request
// only, and a reply is given exactly once.
#include "transport/dispatcher.h"

#include <gtest/gtest.h>

#include <map>
#include <stdexcept>

#include "transport/auth.h"
#include "transport/configure_command.h"

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

TEST(DispatcherTest, ConfigureShowAllNeverShowsASecretAndFlagsStoredJunk) {
  Tables tables;
  Transaction junk;
  junk.ops.push_back(Op::Put(std::string(kConfigTable), "typo.name", "1"));
  junk.ops.push_back(Op::Put(std::string(kConfigTable), "journal.fsync", "maybe"));
  tables.Apply(junk);
  Dispatcher d(&tables);
  RegisterConfigureCommand(
      &d, {&tables, "r1",
           [] {
             return std::map<std::string, std::string>{{"service.password", "hunter2"}};
           },
           nullptr, [] { return Status::FailedPrecondition("read-only"); }});
  Response shown;
  d.Dispatch({"", "", {"configure", "show", "-a"}}, true, "test",
             [&](Response r) { shown = std::move(r); });
  ASSERT_TRUE(shown.status.ok()) << shown.status.ToString();
  std::map<std::string, std::pair<std::string, std::string>> by_name;  // the first row of each
  for (const Row& r : shown.rows) {
    by_name.emplace(
        std::string(FieldOf(r, "name")),
        std::make_pair(std::string(FieldOf(r, "value")), std::string(FieldOf(r, "source"))));
  }
  EXPECT_EQ(by_name["service.password"],
            std::make_pair(std::string("(hidden)"), std::string("config.local")));
  EXPECT_EQ(by_name["journal.fsync"].second, "default");                // "maybe" is not used...
  EXPECT_EQ(by_name["typo.name"].second, "config (unknown: ignored)");  // ...and both are listed
  EXPECT_EQ(shown.rows.back()[0].second, "typo.name");
  Response set;
  d.Dispatch({"", "", {"configure", "set", "journal.fsync=off"}}, true, "test",
             [&](Response r) { set = std::move(r); });
  EXPECT_EQ(set.status.code(), Code::kFailedPrecondition);
}

TEST(DispatcherTest, ReservedTablesNameTheirOwner) {
  Tables tables;
  Dispatcher d(&tables);
  d.ReserveTable("failover", "failover");
  EXPECT_EQ(d.TableOwner("failover"), "failover");
  EXPECT_FALSE(d.TableOwner("kv"));
}

TEST(LoginThrottleTest, FloodingNewNamesDoesNotClearALongBackOff) {
  // A guesser at 11 failures waits 60 s; then it fails once or more with
  // each of 10,100 new names, more than the throttle keeps, to push its own
  // entry out. The back-offs that end soonest go first, not its own.
  LoginThrottle throttle;
  auto now = LoginThrottle::Clock::now();
  for (int i = 0; i < 11; ++i) throttle.Failed("admin@10.0.0.9", now);
  for (int n = 0; n < 10100; ++n) {
    for (int i = 0; i < 5; ++i) throttle.Failed("x" + std::to_string(n) + "@10.0.0.9", now);
  }
  EXPECT_FALSE(throttle.Check("admin@10.0.0.9", now + std::chrono::seconds(2)).ok());
  EXPECT_TRUE(throttle.Check("admin@10.0.0.9", now + std::chrono::seconds(61)).ok());
}

}  // namespace
}  // namespace tandem
