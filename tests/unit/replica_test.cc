#include <gtest/gtest.h>

#include "replica/catch_up_log.h"
#include "replica/pull_applier.h"
#include "replica/server_spec.h"
#include "replica/stream_messages.h"

namespace tandem {
namespace {

TEST(ServerSpecTest, RoundTripsTheHelixForm) {
  auto spec = ServerSpec::Parse(
      "ServerID: sb1\nServices: standby\nOptions: mandatory\nReplicatingFrom: master1\n"
      "Address: 10.0.0.2:1666\n");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_TRUE(spec->mandatory);
  EXPECT_TRUE(spec->is_standby());
  auto again = ServerSpec::Parse(spec->Format());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->Format(), spec->Format());
}

TEST(ServerSpecTest, RefusesWhatHelixWouldRefuse) {
  EXPECT_FALSE(ServerSpec::Parse("Services: standby\n").ok());  // no ServerID
  EXPECT_FALSE(ServerSpec::Parse("ServerID: r1\nServices: replica\nOptions: mandatory\n").ok());
  auto bad = ServerSpec::Parse("ServerID: x\nServices: edge-server\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("line 2"), std::string::npos);
  EXPECT_FALSE(ServerSpec::Parse("ServerID: x\nColour: blue\n").ok());
}

TEST(StreamMessagesTest, DataAndAckRoundTrip) {
  JournalData d{{3, 100}, {3, 900}, {3, 500}, Epoch{2}, "journal bytes"};
  std::string wire = EncodeJournalData(d);
  auto back = DecodeJournalData(wire);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->at, d.at);
  EXPECT_EQ(back->durable, d.durable);
  EXPECT_EQ(back->release, d.release);
  EXPECT_EQ(back->epoch, d.epoch);
  EXPECT_EQ(back->bytes, "journal bytes");
  EXPECT_EQ(wire.size(), kJournalDataHeaderSize + d.bytes.size());

  auto ack = DecodeJournalAck(EncodeJournalAck({{3, 100}, {3, 50}, 7, 0, 0, {3, 120}}));
  ASSERT_TRUE(ack.ok());
  EXPECT_EQ(ack->frames, 7u);
  EXPECT_EQ(ack->written, (Position{3, 120}));
  EXPECT_FALSE(DecodeJournalAck("short").ok());
  EXPECT_FALSE(DecodeJournalData(std::string(10, 'x')).ok());
}

TEST(CompareChecksumsTest, ReportsMissingAndDifferentTables) {
  auto verdicts = CompareChecksums({{"a", 1, 10}, {"b", 2, 20}}, {{"a", 1, 10}, {"c", 1, 30}});
  ASSERT_EQ(verdicts.size(), 3u);
  EXPECT_TRUE(verdicts[0].match);   // a
  EXPECT_FALSE(verdicts[1].match);  // b: missing here
  EXPECT_FALSE(verdicts[2].match);  // c: extra here
}

}  // namespace
}  // namespace tandem

namespace tandem {
namespace {

TEST(CatchUpLogTest, AFarBehindServerReportsRateAndTimeLeftThenThatItCaughtUp) {
  CatchUpLog log;
  auto t = CatchUpLog::Clock::now();
  const uint64_t kMb = 1'000'000;
  EXPECT_FALSE(log.Observe(t, 1 * kMb, 0, {1, 0}));  // ordinary lag: quiet
  auto first = log.Observe(t + std::chrono::seconds(5), 500 * kMb, 0, {1, 0});
  ASSERT_TRUE(first);
  EXPECT_EQ(*first, "journalcopy catching up: 500.0 MB behind the master");
  EXPECT_FALSE(log.Observe(t + std::chrono::seconds(6), 400 * kMb, 0, {1, 100 * kMb}));  // not due
  auto second = log.Observe(t + std::chrono::seconds(10), 300 * kMb, 0, {1, 200 * kMb});
  ASSERT_TRUE(second);
  EXPECT_EQ(*second,
            "journalcopy catching up: 300.0 MB behind the master, 40.0 MB/s, about 8 s left");
  auto done = log.Observe(t + std::chrono::seconds(15), 0, 0, {2, 100 * kMb});
  ASSERT_TRUE(done);
  EXPECT_EQ(*done, "journalcopy caught up: 300.0 MB in 10.0 s");
  EXPECT_FALSE(log.Observe(t + std::chrono::seconds(20), 0, 0, {2, 100 * kMb}));
  // In an older journal than the master's, only journals can be counted.
  auto journals = log.Observe(t + std::chrono::seconds(25), std::nullopt, 7, {2, 100 * kMb});
  ASSERT_TRUE(journals);
  EXPECT_EQ(*journals, "journalcopy catching up: 7 journals behind the master");
}

}  // namespace
}  // namespace tandem
