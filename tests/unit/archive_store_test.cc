#include "journal/archive_store.h"

#include <gtest/gtest.h>

#include <random>

#include "tests/testing/journal_files.h"
#include "tests/testing/temp_dir.h"

namespace tandem {
namespace {

using testing::TempDir;

std::string Random(size_t n) {
  std::mt19937 rng(3);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

std::string StoredPath(const TempDir& dir, const ArchiveStore& store, const std::string& md5) {
  return dir.Sub("archive/" + md5.substr(0, 2) + "/" + *store.StoredName(md5));
}

TEST(ArchiveStoreTest, StoresCompressibleContentCompressedAndVerifiesBothForms) {
  TempDir dir;
  ArchiveStore store(dir.Sub("archive"));
  std::string text(3 << 20, 'a'), noise = Random(3 << 20);
  auto t = store.Put(text);
  auto n = store.Put(noise);
  ASSERT_TRUE(t.ok() && n.ok());
  EXPECT_EQ(*store.StoredName(t->md5), t->md5 + ".gz");
  EXPECT_EQ(*store.StoredName(n->md5), n->md5);
  EXPECT_TRUE(store.Verify(*t).ok());
  EXPECT_TRUE(store.Verify(*n).ok());
  EXPECT_EQ(*store.Get(*t), text);
  EXPECT_TRUE(store.Put(text).ok()) << "storing the same bytes twice is harmless";
}

TEST(ArchiveStoreTest, DamageIsBadAndAbsenceIsMissing) {
  TempDir dir;
  ArchiveStore store(dir.Sub("archive"));
  auto t = store.Put(std::string(1 << 20, 'b'));
  auto n = store.Put(Random(1 << 20));
  ASSERT_TRUE(t.ok() && n.ok());
  testing::TruncateFile(StoredPath(dir, store, t->md5), 100);
  EXPECT_EQ(store.Verify(*t).code(), Code::kCorruption);
  testing::FlipByte(StoredPath(dir, store, n->md5), 12345);
  EXPECT_EQ(store.Verify(*n).code(), Code::kCorruption);
  store.Remove(n->md5);
  EXPECT_EQ(store.Verify(*n).code(), Code::kNotFound);
  EXPECT_EQ(store.Verify({std::string(31, 'z'), 1}).code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace tandem
