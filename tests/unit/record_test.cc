#include "journal/record.h"

#include <gtest/gtest.h>

#include "journal/coding.h"
#include "journal/markers.h"
#include "journal/transaction.h"

namespace tandem {
namespace {

TEST(RecordTest, RoundTripsEveryField) {
  Transaction txn{{Op::Put("kv", "k1", "v1"), Op::Delete("kv", "k0")}};
  std::string buf;
  EncodeRecord(RecordType::kTransaction, 0, Epoch{3}, 42, EncodeTransaction(txn), &buf);
  Record rec;
  ParseResult r = ParseRecord(buf, &rec);
  ASSERT_EQ(r.outcome, ParseOutcome::kRecord);
  EXPECT_EQ(r.size, buf.size());
  EXPECT_EQ(rec.epoch, Epoch{3});
  EXPECT_EQ(rec.txn_id, 42u);
  auto decoded = DecodeTransaction(rec.payload);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, txn);
}

TEST(RecordTest, MatchesTheWorkedExampleInFormatMd) {
  Transaction txn{{Op::Put("kv", "k1", "v1")}};
  std::string payload = EncodeTransaction(txn);
  EXPECT_EQ(payload, std::string("\x01\x00\x00\x00\x01\x02kv\x02k1\x02v1", 14));
  std::string buf;
  EncodeRecord(RecordType::kTransaction, 0, Epoch{1}, 7, payload, &buf);
  EXPECT_EQ(buf.substr(0, 16),
            std::string("TNDJ\x01\x01\x00\x00\x0e\x00\x00\x00\x01\x00\x00\x00", 16));
}

TEST(RecordTest, EveryFlippedByteIsDetected) {
  std::string buf;
  EncodeRecord(RecordType::kTransaction, 0, Epoch{1}, 9,
               EncodeTransaction({{Op::Put("t", "key", "value")}}), &buf);
  for (size_t i = 0; i < buf.size(); ++i) {
    std::string bad = buf;
    bad[i] ^= 0x01;
    Record rec;
    EXPECT_NE(ParseRecord(bad, &rec).outcome, ParseOutcome::kRecord) << "byte " << i;
  }
}

TEST(RecordTest, ShortInputIsIncompleteNotBad) {
  std::string buf;
  EncodeRecord(RecordType::kHeartbeat, 0, Epoch{1}, 1, "", &buf);
  Record rec;
  for (size_t n = 0; n < buf.size(); ++n) {
    EXPECT_EQ(ParseRecord(std::string_view(buf).substr(0, n), &rec).outcome,
              ParseOutcome::kIncomplete);
  }
}

TEST(RecordTest, ZeroHeaderIsTheEndOfData) {
  std::string zeros(64, '\0');
  Record rec;
  ParseResult r = ParseRecord(zeros, &rec);
  EXPECT_EQ(r.outcome, ParseOutcome::kIncomplete);
  EXPECT_STREQ(r.why, "zero header");
}

TEST(RecordTest, UnknownTypeFailsUnlessSafeToIgnore) {
  std::string buf;
  EncodeRecord(static_cast<RecordType>(99), 0, Epoch{1}, 1, "x", &buf);
  Record rec;
  EXPECT_EQ(ParseRecord(buf, &rec).outcome, ParseOutcome::kBad);
  buf.clear();
  EncodeRecord(static_cast<RecordType>(99), kFlagSafeToIgnore, Epoch{1}, 1, "x", &buf);
  EXPECT_EQ(ParseRecord(buf, &rec).outcome, ParseOutcome::kRecord);
}

TEST(TransactionTest, RejectsLyingOpCount) {
  std::string payload;
  PutFixed32(&payload, 1000000);
  EXPECT_FALSE(DecodeTransaction(payload).ok());
}

TEST(MarkersTest, ChecksumMarkerRoundTrips) {
  std::vector<TableChecksum> sums{{"a", 3, 0xdeadbeef}, {"b", 1, 7}};
  auto decoded = DecodeChecksumMarker(EncodeChecksumMarker(sums));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, sums);
}

TEST(PositionTest, OrdersByJournalThenOffsetAndParsesTokens) {
  EXPECT_LT((Position{1, 900}), (Position{2, 0}));
  EXPECT_LT((Position{2, 5}), (Position{2, 6}));
  Position p;
  ASSERT_TRUE(Position::ParseToken("12/3456", &p));
  EXPECT_EQ(p, (Position{12, 3456}));
  EXPECT_FALSE(Position::ParseToken("12/", &p));
  EXPECT_FALSE(Position::ParseToken("x/1", &p));
  EXPECT_EQ((Position{3, 7}).ToString(), "Journal 3, Sequence 7");
}

}  // namespace
}  // namespace tandem
