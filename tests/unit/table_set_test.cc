#include "journal/table_set.h"

#include <gtest/gtest.h>
#include <xxhash.h>

#include "journal/coding.h"

namespace tandem {
namespace {

// journal/FORMAT.md: XXH3-64 of (lpstr key ++ lpstr value), whatever buffer
// the code hashes from (rows that fit on the stack and rows that do not).
TEST(TableSetTest, RowHashIsTheFormatsOnEveryRowSize) {
  for (size_t n : {0, 1, 100, 127, 128, 490, 500, 501, 502, 4096, 70000}) {
    std::string key = "key" + std::to_string(n), value(n, 'v');
    std::string buf;
    PutLengthPrefixed(&buf, key);
    PutLengthPrefixed(&buf, value);
    EXPECT_EQ(RowHash(key, value), XXH3_64bits(buf.data(), buf.size())) << n;
  }
}

TEST(TableSetTest, ChecksumDoesNotDependOnWriteOrder) {
  TableSet a, b;
  a.Apply(Transaction{{Op::Put("t", "1", "a"), Op::Put("t", "2", "b"), Op::Put("t", "3", "c")}});
  b.Apply(Transaction{{Op::Put("t", "3", "c"), Op::Put("t", "1", "x"), Op::Put("t", "2", "b"),
                       Op::Put("t", "1", "a")}});
  EXPECT_EQ(a.Checksums(), b.Checksums());
}

TEST(TableSetTest, ChecksumFollowsDeletesBackToEmpty) {
  TableSet s;
  s.Apply(Transaction{{Op::Put("t", "k", "v")}});
  ASSERT_EQ(s.Checksums().size(), 1u);
  EXPECT_EQ(s.Checksums()[0].rows, 1u);
  s.Apply(Transaction{{Op::Delete("t", "k")}});
  EXPECT_TRUE(s.Checksums().empty());
}

TEST(TableSetTest, DifferentValuesGiveDifferentChecksums) {
  TableSet a, b;
  a.Apply(Transaction{{Op::Put("t", "k", "v1")}});
  b.Apply(Transaction{{Op::Put("t", "k", "v2")}});
  EXPECT_NE(a.Checksums()[0].checksum, b.Checksums()[0].checksum);
}

TEST(TablesTest, ScanReturnsPrefixInKeyOrder) {
  Tables t;
  t.Apply(Transaction{{Op::Put("t", "b2", "2"), Op::Put("t", "a", "0"), Op::Put("t", "b1", "1"),
                       Op::Put("t", "c", "3")}});
  auto rows = t.Scan("t", "b", 100);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].first, "b1");
  EXPECT_EQ(rows[1].first, "b2");
  EXPECT_EQ(t.Get("t", "c"), "3");
  EXPECT_FALSE(t.Get("t", "zz").has_value());
  EXPECT_FALSE(t.Get("nope", "a").has_value());
}

}  // namespace
}  // namespace tandem
