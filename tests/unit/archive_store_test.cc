#include "journal/archive_store.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "tests/testing/journal_files.h"
#include "tests/testing/temp_dir.h"

namespace tandem {
namespace {

using testing::RandomBytes;
using testing::TempDir;

std::string StoredPath(const TempDir& dir, const ArchiveStore& store, const std::string& md5) {
  return dir.Sub("archive/" + md5.substr(0, 2) + "/" + *store.StoredName(md5));
}

TEST(ArchiveStoreTest, StoresCompressibleContentCompressedAndVerifiesBothForms) {
  TempDir dir;
  ArchiveStore store(dir.Sub("archive"));
  std::string text(3 << 20, 'a'), noise = RandomBytes(3 << 20, 3);
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
  auto n = store.Put(RandomBytes(1 << 20, 3));
  ASSERT_TRUE(t.ok() && n.ok());
  testing::TruncateFile(StoredPath(dir, store, t->md5), 100);
  EXPECT_EQ(store.Verify(*t).code(), Code::kCorruption);
  testing::FlipByte(StoredPath(dir, store, n->md5), 12345);
  EXPECT_EQ(store.Verify(*n).code(), Code::kCorruption);
  store.Remove(n->md5);
  EXPECT_EQ(store.Verify(*n).code(), Code::kNotFound);
  EXPECT_EQ(store.Verify({std::string(31, 'z'), 1}).code(), Code::kInvalidArgument);
}

TEST(ArchiveStoreTest, WriterFedInPiecesStoresWhatPutStores) {
  TempDir dir;
  ArchiveStore store(dir.Sub("archive"));
  std::string text(200000, 'c');
  text += RandomBytes(5000, 3);
  auto writer = ArchiveWriter::Create(&store);
  ASSERT_TRUE(writer.ok());
  for (size_t at = 0; at < text.size(); at += 777) {
    ASSERT_TRUE((*writer)->Append(std::string_view(text).substr(at, 777)).ok());
  }
  auto entry = (*writer)->Commit();
  ASSERT_TRUE(entry.ok());
  EXPECT_EQ(entry->md5, Md5::Of(text));
  EXPECT_EQ(entry->size, text.size());
  EXPECT_EQ(*store.StoredName(entry->md5), entry->md5 + ".gz");
  EXPECT_EQ(*store.Get(*entry), text);
}

TEST(ArchiveStoreTest, DamagedCopyIsReplacedAndAbandonedWriterLeavesNothing) {
  TempDir dir;
  ArchiveStore store(dir.Sub("archive"));
  std::string noise = RandomBytes(100000, 3);
  auto first = store.Put(noise);
  ASSERT_TRUE(first.ok());
  testing::FlipByte(StoredPath(dir, store, first->md5), 7);
  ASSERT_TRUE(store.Put(noise).ok());
  EXPECT_TRUE(store.Verify(*first).ok()) << "storing again repairs a damaged copy";
  {
    auto writer = ArchiveWriter::Create(&store);
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Append(noise).ok());
  }  // never committed
  EXPECT_TRUE(std::filesystem::is_empty(dir.Sub("archive/tmp")));
}

TEST(ArchiveStoreTest, DecoderTakesStoredBytesInAnySplit) {
  TempDir dir;
  ArchiveStore store(dir.Sub("archive"));
  std::string text(300000, 'd');
  auto entry = store.Put(text);
  ASSERT_TRUE(entry.ok());
  auto stored = ReadFileToString(StoredPath(dir, store, entry->md5));
  ASSERT_TRUE(stored.ok());
  for (size_t piece : {size_t{1}, size_t{17}, stored->size()}) {
    ContentDecoder decoder(*entry, true);
    std::string out;
    for (size_t at = 0; at < stored->size(); at += piece) {
      ASSERT_TRUE(decoder
                      .Write(std::string_view(*stored).substr(at, piece),
                             [&](std::string_view d) {
                               out.append(d);
                               return Status::Ok();
                             })
                      .ok());
    }
    EXPECT_TRUE(decoder.Finish().ok());
    EXPECT_EQ(out, text);
  }
  ContentDecoder cut(*entry, true);
  ASSERT_TRUE(cut.Write(std::string_view(*stored).substr(0, stored->size() / 2), nullptr).ok());
  EXPECT_EQ(cut.Finish().code(), Code::kCorruption) << "a truncated transfer must not pass";
}

}  // namespace
}  // namespace tandem
