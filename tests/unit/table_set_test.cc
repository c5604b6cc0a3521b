#include "journal/table_set.h"

#include <gtest/gtest.h>
#include <xxhash.h>

#include <map>

#include "journal/coding.h"

namespace tandem {
namespace {

// xorshift64: the same mix of operations on every run.
struct Xorshift {
  uint64_t x;
  uint64_t operator()() {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  }
};

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

// The apply path finds rows through a hash index beside the ordered rows:
// after any mix of puts and deletes (long probe runs, deletes from their
// middle, growth) it must agree with a plain map, row for row.
TEST(TableSetTest, RandomPutsAndDeletesAgreeWithAPlainMap) {
  TableSet s;
  std::map<std::string, std::string> want;
  Xorshift next{42};
  for (int i = 0; i < 200000; ++i) {
    std::string key = "k" + std::to_string(next() % 3000);
    if (next() % 3 == 0) {
      s.Apply(Op::Delete("t", key));
      want.erase(key);
    } else {
      std::string value = std::to_string(i);
      s.Apply(Op::Put("t", key, value));
      want[key] = value;
    }
  }
  const Table* t = s.Find("t");
  ASSERT_NE(t, nullptr);
  ASSERT_EQ(t->rows.size(), want.size());
  uint64_t sum = 0;
  for (const auto& [key, value] : want) {
    auto it = t->rows.find(key);
    ASSERT_NE(it, t->rows.end()) << key;
    EXPECT_EQ(it->second, value) << key;
    sum += RowHash(key, value);
  }
  EXPECT_EQ(t->checksum, sum);
  // Every remaining key is found by the apply path too: deleting them all
  // empties the table.
  for (const auto& [key, value] : want) s.Apply(Op::Delete("t", key));
  EXPECT_EQ(s.Find("t"), nullptr);
}

// The batched apply of a replay (with its look-ahead hints) ends where
// applying each transaction in turn does: across tables, with tables emptied
// and made again inside a batch, keys written twice in one batch, and a copy
// whose index is built only on its first write.
TEST(TableSetTest, ApplyAllEndsWhereApplyingOneByOneDoes) {
  Xorshift next{7};
  TableSet one_by_one;
  TableSet batched;
  for (int round = 0; round < 400; ++round) {
    if (round == 200) batched = TableSet(batched);  // a copy: no index until its next write
    std::vector<Transaction> txns(1 + next() % 100);
    for (Transaction& txn : txns) {
      for (uint64_t n = 1 + next() % 3; n > 0; --n) {
        std::string table = "t" + std::to_string(next() % 3);
        std::string key = "k" + std::to_string(next() % (table == "t0" ? 4 : 500));
        if (next() % 3 == 0) {
          txn.ops.push_back(Op::Delete(table, key));
        } else {
          txn.ops.push_back(Op::Put(table, key, std::to_string(next())));
        }
      }
    }
    for (const Transaction& txn : txns) one_by_one.Apply(txn);
    batched.ApplyAll(txns);
    ASSERT_EQ(batched.Checksums(), one_by_one.Checksums()) << "round " << round;
  }
  for (const auto& [name, table] : one_by_one.tables()) {
    ASSERT_NE(batched.Find(name), nullptr) << name;
    EXPECT_EQ(batched.Find(name)->rows, table.rows) << name;
  }
}

// A snapshot (a copy, for a checkpoint) and the live tables change apart:
// neither may reach the other's rows through its index.
TEST(TableSetTest, ACopyAndItsOriginalChangeApart) {
  TableSet live;
  for (int i = 0; i < 100; ++i) live.Apply(Op::Put("t", "k" + std::to_string(i), "old"));
  TableSet snapshot = live;
  live.Apply(Op::Put("t", "k1", "new"));
  live.Apply(Op::Delete("t", "k2"));
  EXPECT_EQ(snapshot.Find("t")->rows.at("k1"), "old");
  EXPECT_EQ(snapshot.Find("t")->rows.count("k2"), 1u);
  snapshot.Apply(Op::Put("t", "k3", "snap"));
  snapshot.Apply(Op::Delete("t", "k4"));
  EXPECT_EQ(live.Find("t")->rows.at("k3"), "old");
  EXPECT_EQ(live.Find("t")->rows.count("k4"), 1u);
  EXPECT_EQ(live.Find("t")->rows.at("k1"), "new");
  EXPECT_EQ(live.Find("t")->rows.count("k2"), 0u);
  EXPECT_EQ(snapshot.Find("t")->rows.at("k3"), "snap");
  EXPECT_EQ(snapshot.Find("t")->rows.count("k4"), 0u);
  EXPECT_EQ(live.Find("t")->rows.size(), 99u);
  EXPECT_EQ(snapshot.Find("t")->rows.size(), 99u);
  // The copy's index is built afresh, with the hashes of the rows it holds.
  for (const TableSet* s : {&live, &snapshot}) {
    uint64_t sum = 0;
    for (const auto& [key, value] : s->Find("t")->rows) sum += RowHash(key, value);
    EXPECT_EQ(s->Find("t")->checksum, sum);
  }
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
