// Versioned file content on the master: submit, print, files, filelog,
// verify, and depot paths that must be refused.
#include <gtest/gtest.h>

#include <filesystem>

#include "journal/archive_store.h"
#include "tests/integration/harness.h"
#include "tests/testing/journal_files.h"
#include "transport/archive_commands.h"

namespace tandem::testing {
namespace {

class ArchiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_.Sub("root");
    server_ = TandemdProcess::Start(root_);
    ASSERT_TRUE(server_);
  }
  CommandResult T(std::vector<std::string> args) {
    args.insert(args.begin(), {"-p", server_->address()});
    return RunTandem(args);
  }
  std::string Local(const std::string& name, const std::string& content) {
    std::string path = dir_.Sub(name);
    WriteAll(path, content);
    return path;
  }
  // The archive file holding `content`, compressed or not.
  std::string ArchiveFile(const std::string& content) {
    std::string md5 = Md5::Of(content);
    std::string base = root_ + "/archive/" + md5.substr(0, 2) + "/" + md5;
    return std::filesystem::exists(base) ? base : base + ".gz";
  }

  TempDir dir_;
  std::string root_;
  std::unique_ptr<TandemdProcess> server_;
};

TEST_F(ArchiveTest, SubmitPrintFilesAndFilelog) {
  std::string v1(100000, 'a'), v2 = "second revision\n";
  ASSERT_EQ(T({"submit", Local("a.txt", v1), "-d", "//depot/docs/a.txt"}).exit_code, 0);
  auto second = T({"submit", Local("a2.txt", v2), "-d", "//depot/docs/a.txt"});
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_NE(second.out.find("//depot/docs/a.txt#2 change 2"), std::string::npos) << second.out;
  // Not on a terminal: one summary line with the duration, on stderr.
  EXPECT_NE(second.err.find("submit //depot/docs/a.txt: 0.0 MB in "), std::string::npos)
      << second.err;

  EXPECT_EQ(T({"print", "//depot/docs/a.txt"}).out, v2);
  EXPECT_EQ(T({"print", "//depot/docs/a.txt#1"}).out, v1);
  EXPECT_NE(T({"files", "//depot/"}).out.find("//depot/docs/a.txt#2"), std::string::npos);
  auto log = T({"filelog", "//depot/docs/a.txt"}).out;
  EXPECT_LT(log.find("#2"), log.find("#1")) << log;
  EXPECT_TRUE(ArchiveFile(v1).ends_with(".gz")) << "compressible content is stored compressed";
  EXPECT_EQ(T({"verify"}).exit_code, 0);
}

TEST_F(ArchiveTest, BadDepotPathsAreRefusedAndNothingIsWritten) {
  std::string file = Local("x", "x");
  std::vector<std::string> bad_paths{"//depot/../etc/passwd",
                                     "/etc/passwd",
                                     "//depot//x",
                                     "//depot/./x",
                                     "relative/x",
                                     "//depot/a#1",
                                     "//depot/" + std::string(1100, 'a')};
  for (const std::string& bad : bad_paths) {
    auto r = T({"submit", file, "-d", bad});
    EXPECT_NE(r.exit_code, 0) << bad;
    EXPECT_NE(r.err.find("bad depot path"), std::string::npos) << bad << ": " << r.err;
  }
  EXPECT_FALSE(std::filesystem::exists(root_ + "/archive")) << "refused submits wrote content";
}

TEST_F(ArchiveTest, VerifyReportsBadAndMissingContent) {
  std::string good = "kept intact", altered = "will be altered", lost = "will go missing";
  ASSERT_EQ(T({"submit", Local("g", good), "-d", "//depot/g"}).exit_code, 0);
  ASSERT_EQ(T({"submit", Local("a", altered), "-d", "//depot/a"}).exit_code, 0);
  ASSERT_EQ(T({"submit", Local("l", lost), "-d", "//depot/l"}).exit_code, 0);
  FlipByte(ArchiveFile(altered), 3);
  std::filesystem::remove(ArchiveFile(lost));

  auto v = T({"verify", "-q"});
  EXPECT_EQ(v.exit_code, 1);
  EXPECT_NE(v.out.find("//depot/a#1"), std::string::npos);
  EXPECT_NE(v.out.find("BAD!"), std::string::npos) << v.out;
  EXPECT_NE(v.out.find("//depot/l#1"), std::string::npos);
  EXPECT_NE(v.out.find("MISSING!"), std::string::npos) << v.out;
  EXPECT_EQ(v.out.find("//depot/g"), std::string::npos) << "-q lists only problems";
  auto print = T({"print", "//depot/a"});
  EXPECT_NE(print.exit_code, 0) << "served content that fails its digest";
}

TEST_F(ArchiveTest, OrphanArchiveFileIsHarmlessAndReported) {
  ASSERT_EQ(T({"submit", Local("k", "kept"), "-d", "//depot/k"}).exit_code, 0);
  // As if the master died after the archive write, before the metadata commit.
  ArchiveStore archive(root_ + "/archive");
  ASSERT_TRUE(archive.Put("content that never got a revision").ok());
  auto v = T({"verify"});
  EXPECT_EQ(v.exit_code, 0) << "an orphan is not an error";
  EXPECT_NE(v.out.find("orphan"), std::string::npos) << v.out;
  EXPECT_EQ(T({"files"}).out.find("never"), std::string::npos);
}

TEST(ArchiveDiskFullTest, SubmitFailsCleanlyWhenTheDiskIsFull) {
  TempDir dir;
  std::string root = dir.Sub("root");
  SpawnOptions limited;
  limited.file_size_limit = 1 << 20;  // no file over 1 MiB
  auto server = TandemdProcess::Start(root, "127.0.0.1:0", limited);
  ASSERT_TRUE(server);
  std::string big = RandomBytes(3 << 20, 7);  // incompressible
  WriteAll(dir.Sub("big"), big);
  auto r = RunTandem({"-p", server->address(), "submit", dir.Sub("big"), "-d", "//depot/big"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("archive write"), std::string::npos) << r.err;
  EXPECT_EQ(RunTandem({"-p", server->address(), "files"}).out, "") << "a revision without content";
  // The server still takes what fits.
  WriteAll(dir.Sub("small"), "fits");
  EXPECT_EQ(
      RunTandem({"-p", server->address(), "submit", dir.Sub("small"), "-d", "//depot/s"}).exit_code,
      0);
}

TEST(VerifyRecentTest, FindsRecentRevisionsWithoutContent) {
  TempDir dir;
  ArchiveStore archive(dir.Sub("archive"));
  auto present = archive.Put("present");
  ASSERT_TRUE(present.ok());
  Tables tables;
  auto rev = [](const ArchiveEntry& e, int64_t time) {
    return e.md5 + " " + std::to_string(e.size) + " " + std::to_string(time) + " 1";
  };
  ArchiveEntry missing{Md5::Of("absent"), 6};
  tables.Apply({{Op::Put("rev", "//d/present#0000000001", rev(*present, 1000)),
                 Op::Put("rev", "//d/old#0000000001", rev(missing, 10)),
                 Op::Put("rev", "//d/new#0000000001", rev(missing, 2000))}});
  auto problems = VerifyRecentRevisions(tables, archive, 500);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(FieldOf(problems[0], "depotFile"), "//d/new");
  EXPECT_EQ(FieldOf(problems[0], "status"), "MISSING!");
}

TEST_F(ArchiveTest, ReplicaFetchesContentSurvivesSigkillAndRepairsBadFiles) {
  ASSERT_EQ(RunTandemd({"-r", root_, "--id", "master1"}).exit_code, 0);  // for the spec's sake
  auto spec = RunTandem({"-p", server_->address(), "server", "-i"},
                        {"ServerID: r1\nServices: replica\nReplicatingFrom: master1\n", {}, {}});
  ASSERT_EQ(spec.exit_code, 0) << spec.err;
  std::string small = "small file\n";
  std::string big(24 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 2654435761u) >> 13);
  ASSERT_EQ(T({"submit", Local("small", small), "-d", "//depot/small"}).exit_code, 0);
  ASSERT_EQ(T({"submit", Local("big", big), "-d", "//depot/big"}).exit_code, 0);

  std::string rroot = dir_.Sub("r1");
  ASSERT_EQ(RunTandemd({"-r", rroot, "--id", "r1"}).exit_code, 0);
  ASSERT_EQ(RunTandemd({"-r", rroot, "-cset", "target=" + server_->address()}).exit_code, 0);
  // The replica kills itself (SIGKILL) once part of the big file is here.
  SpawnOptions faulty;
  faulty.env["TANDEM_FAULTS"] = "pull-u.mid-transfer=crash";
  auto replica = TandemdProcess::Start(rroot, "127.0.0.1:0", faulty);
  ASSERT_TRUE(replica);
  auto R = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"-p", replica->address()});
    return RunTandem(args);
  };
  ASSERT_TRUE(WaitFor([&] { return replica->Exited(); }));
  ArchiveStore replica_archive(rroot + "/archive");
  ArchiveEntry big_entry{Md5::Of(big), big.size()};
  EXPECT_EQ(replica_archive.StoredName(big_entry.md5).status().code(), Code::kNotFound)
      << "a partial file is visible under its real name";
  EXPECT_FALSE(std::filesystem::is_empty(rroot + "/archive/tmp")) << "it died mid-transfer";
  replica = TandemdProcess::Start(rroot);
  ASSERT_TRUE(replica);
  ASSERT_TRUE(WaitFor([&] { return R({"print", "//depot/big"}).out == big; }));
  EXPECT_EQ(R({"verify"}).exit_code, 0);
  EXPECT_EQ(R({"print", "//depot/small"}).out, small);
  // The master's view of the replica's backlog catches up with it too.
  EXPECT_TRUE(WaitFor([&] {
    auto rows = server_->Connect()->Call({"", "", {"servers", "-J"}});
    for (const Row& row : rows.ok() ? rows->rows : std::vector<Row>{}) {
      if (FieldOf(row, "serverID") == "r1") return FieldOf(row, "pullUFiles") == "0";
    }
    return false;
  })) << "servers -J still shows a pull -u backlog on r1";

  // Damage the replica's copy: verify says BAD!, verify -t fetches it again.
  std::string md5 = Md5::Of(small);
  std::string path = rroot + "/archive/" + md5.substr(0, 2) + "/" + md5;
  if (!std::filesystem::exists(path)) path += ".gz";
  FlipByte(path, 2);
  auto bad = R({"verify", "-q"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.out.find("BAD!"), std::string::npos) << bad.out;
  R({"verify", "-t"});
  ASSERT_TRUE(WaitFor([&] { return R({"verify"}).exit_code == 0; }));
  EXPECT_EQ(R({"print", "//depot/small"}).out, small);
}

}  // namespace
}  // namespace tandem::testing
