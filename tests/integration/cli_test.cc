// The tandem and tandemd command lines end to end: data commands, --json,
// checkpoint, restore into a fresh root, validation.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "journal/checkpoint.h"
#include "journal/root_layout.h"
#include "tests/integration/harness.h"
#include "tests/testing/journal_files.h"

namespace tandem::testing {
namespace {

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_.Sub("root");
    ASSERT_EQ(RunTandemd({"-r", root_, "--id", "master1"}).exit_code, 0);
    server_ = TandemdProcess::Start(root_);
    ASSERT_TRUE(server_);
  }
  CommandResult T(std::vector<std::string> args, const std::string& in = "") {
    args.insert(args.begin(), {"-p", server_->address()});
    return RunTandem(args, {in, {}, {}});
  }

  TempDir dir_;
  std::string root_;
  std::unique_ptr<TandemdProcess> server_;
};

TEST_F(CliTest, DataCommandsRoundTrip) {
  EXPECT_EQ(T({"put", "kv", "a", "1"}).out.rfind("Committed at Journal 1, Sequence ", 0), 0u);
  auto txn = T({"txn"}, "put kv b two words\nput kv c 3\ndel kv a\n");
  ASSERT_EQ(txn.exit_code, 0) << txn.err;
  EXPECT_EQ(T({"get", "kv", "b"}).out, "two words\n");
  EXPECT_EQ(T({"scan", "kv"}).out, "b two words\nc 3\n");
  auto missing = T({"get", "kv", "a"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("no key 'a' in table 'kv'"), std::string::npos);
  auto bad = T({"txn"}, "put kv only-two\n");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("bad txn line"), std::string::npos);
}

TEST_F(CliTest, JsonOutputParses) {
  ASSERT_EQ(T({"put", "kv", "k", "v"}).exit_code, 0);
  auto info = nlohmann::json::parse(T({"--json", "info"}).out);
  EXPECT_EQ(info[0]["serverID"], "master1");
  EXPECT_EQ(info[0]["address"], server_->address());
  auto scan = nlohmann::json::parse(T({"--json", "scan", "kv"}).out);
  EXPECT_EQ(scan[0]["key"], "k");
  // Numbers are numbers (docs/json.md), not strings.
  EXPECT_TRUE(info[0]["epoch"].is_number_unsigned()) << info.dump();
  EXPECT_TRUE(info[0]["sequence"].is_number_unsigned()) << info.dump();
  // Errors are JSON too, with a code a script can test.
  auto missing = T({"--json", "get", "kv", "nosuch"});
  EXPECT_EQ(missing.exit_code, 1);
  auto error = nlohmann::json::parse(missing.out, nullptr, false);
  EXPECT_EQ(error["error"]["code"], "not-found") << missing.out;
  EXPECT_NE(error["error"]["message"].get<std::string>().find("nosuch"), std::string::npos);
  // servers -J: one key set for every row, the master's own included.
  auto servers = nlohmann::json::parse(T({"--json", "servers", "-J"}).out);
  ASSERT_FALSE(servers.empty());
  EXPECT_TRUE(servers[0]["mandatory"].is_null());
  EXPECT_TRUE(servers[0]["alive"].is_boolean());
}

// docs/json.md: every command's rows share one key set, on every role.
TEST_F(CliTest, EveryCommandsJsonRowsHaveOneKeySet) {
  std::ofstream(dir_.Sub("f.txt")) << "content\n";
  ASSERT_EQ(T({"submit", dir_.Sub("f.txt"), "-d", "//depot/f.txt"}).exit_code, 0);
  ASSERT_EQ(T({"put", "kv", "k", "v"}).exit_code, 0);
  std::string spec =
      "ServerID: sb1\nServices: standby\nOptions: mandatory\nReplicatingFrom: master1\n";
  ASSERT_EQ(T({"server", "-i"}, spec).exit_code, 0);
  std::string sb_root = dir_.Sub("sb1");
  ASSERT_EQ(RunTandemd({"-r", sb_root, "--id", "sb1"}).exit_code, 0);
  ASSERT_EQ(RunTandemd({"-r", sb_root, "-cset", "target=" + server_->address()}).exit_code, 0);
  auto standby = TandemdProcess::Start(sb_root);
  ASSERT_TRUE(standby);
  ASSERT_EQ(T({"journaldbchecksums"}).exit_code, 0);
  ASSERT_TRUE(WaitFor([&] {
    auto r = RunTandem({"-p", standby->address(), "journaldbchecksums", "-s"});
    return r.exit_code == 0 && r.out.find("kv match") != std::string::npos;
  }));

  std::vector<std::pair<const TandemdProcess*, std::vector<std::string>>> commands = {
      {server_.get(), {"info"}},
      {server_.get(), {"servers", "-J"}},
      {server_.get(), {"configure", "show", "-a"}},
      {server_.get(), {"configure", "show"}},
      {server_.get(), {"scan", "kv"}},
      {server_.get(), {"journaldbchecksums"}},
      {server_.get(), {"files"}},
      {server_.get(), {"filelog", "//depot/f.txt"}},
      {server_.get(), {"verify"}},
      {server_.get(), {"server", "-o", "sb1"}},
      {server_.get(), {"admin", "checkpoint"}},
      {standby.get(), {"info"}},
      {standby.get(), {"pull", "-lj"}},
      {standby.get(), {"pull", "-l"}},
      {standby.get(), {"journaldbchecksums", "-s"}},
      {standby.get(), {"configure", "show", "-a"}},
      {standby.get(), {"failover"}},
  };
  for (const auto& [server, args] : commands) {
    std::vector<std::string> full = {"-p", server->address(), "--json"};
    full.insert(full.end(), args.begin(), args.end());
    CommandResult r = RunTandem(full);
    std::string what = (server == standby.get() ? "standby: " : "master: ") + args[0] +
                       (args.size() > 1 ? " " + args[1] : "");
    EXPECT_EQ(r.exit_code, 0) << what << ": " << r.out << r.err;
    // A reply is one array; a stream (failover) one object per line.
    std::vector<nlohmann::json> rows;
    auto parsed = nlohmann::json::parse(r.out, nullptr, false);
    if (parsed.is_array()) {
      for (auto& row : parsed) rows.push_back(row);
    } else {
      std::istringstream lines(r.out);
      for (std::string line; std::getline(lines, line);) {
        rows.push_back(nlohmann::json::parse(line, nullptr, false));
      }
    }
    if (rows.empty()) continue;  // nothing to show (configure show, nothing set)
    std::set<std::string> keys;
    for (auto& [k, v] : rows[0].items()) keys.insert(k);
    for (const auto& row : rows) {
      ASSERT_TRUE(row.is_object()) << what << ": " << r.out;
      std::set<std::string> these;
      for (auto& [k, v] : row.items()) these.insert(k);
      EXPECT_EQ(these, keys) << what << ": " << r.out;
    }
  }
}

TEST_F(CliTest, CheckpointRestoresIntoAFreshRootWithEqualChecksums) {
  for (int i = 0; i < 100; ++i)
    ASSERT_EQ(T({"put", "kv", "k" + std::to_string(i), "v"}).exit_code, 0);
  auto ckp = nlohmann::json::parse(T({"--json", "admin", "checkpoint"}).out);
  std::string ckp_path = ckp[0]["checkpoint"];
  ASSERT_EQ(T({"put", "kv", "after", "checkpoint"}).exit_code, 0);  // lands in journal 2
  auto sums = T({"journaldbchecksums"});
  ASSERT_EQ(sums.exit_code, 0);
  EXPECT_EQ(server_->Terminate(), 0);

  std::string fresh = dir_.Sub("fresh");
  auto restore = RunTandemd({"-r", fresh, "-jr", ckp_path, root_ + "/journal"});
  ASSERT_EQ(restore.exit_code, 0) << restore.err;
  auto copy = TandemdProcess::Start(fresh);
  ASSERT_TRUE(copy);
  auto copy_sums = RunTandem({"-p", copy->address(), "journaldbchecksums"});
  // Same table lines; the header line names each server's own position.
  auto body = [](const std::string& s) { return s.substr(s.find('\n') + 1); };
  EXPECT_EQ(body(copy_sums.out), body(sums.out));
  EXPECT_NE(body(sums.out).find("kv 0x"), std::string::npos);
  EXPECT_EQ(RunTandem({"-p", copy->address(), "get", "kv", "after"}).out, "checkpoint\n");
}

TEST_F(CliTest, RestoreRefusesADamagedCheckpointAndANonEmptyRoot) {
  ASSERT_EQ(T({"put", "kv", "a", "1"}).exit_code, 0);
  auto ckp = nlohmann::json::parse(T({"--json", "admin", "checkpoint"}).out);
  std::string ckp_path = ckp[0]["checkpoint"];
  auto nonempty = RunTandemd({"-r", root_, "-jr", ckp_path});
  EXPECT_NE(nonempty.exit_code, 0);
  EXPECT_NE(nonempty.err.find("empty root"), std::string::npos) << nonempty.err;

  FlipByte(ckp_path, 20);
  auto damaged = RunTandemd({"-r", dir_.Sub("fresh"), "-jr", ckp_path});
  EXPECT_NE(damaged.exit_code, 0);
  EXPECT_NE(damaged.err.find("truncated or altered"), std::string::npos) << damaged.err;
}

TEST_F(CliTest, ConfigureSetAndShow) {
  ASSERT_EQ(T({"configure", "set", "journal.retain=3"}).exit_code, 0);
  EXPECT_NE(T({"configure", "show"}).out.find("journal.retain=3"), std::string::npos);
  EXPECT_NE(T({"configure", "set", "novalue"}).exit_code, 0);
}

TEST_F(CliTest, OfflineCsetIsSeenAfterStart) {
  EXPECT_EQ(server_->Terminate(), 0);
  auto r = RunTandemd({"-r", root_, "-cset", "master1#journal.retain=4"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  server_ = TandemdProcess::Start(root_);
  ASSERT_TRUE(server_);
  EXPECT_NE(T({"configure", "show"}).out.find("master1#journal.retain=4"), std::string::npos);
}

TEST_F(CliTest, HelpAndVersionAreAnsweredWithoutAServer) {
  auto help = RunTandem({"-p", "127.0.0.1:1", "help"});
  EXPECT_EQ(help.exit_code, 0) << help.err;
  for (const char* command :
       {"failover", "failback", "admin reseed", "pull -l", "verify [-q] [-t]"})
    EXPECT_NE(help.out.find(command), std::string::npos) << command;
  auto one = RunTandem({"-p", "127.0.0.1:1", "help", "failover"});
  EXPECT_EQ(one.exit_code, 0);
  EXPECT_NE(one.out.find("failover [-y]"), std::string::npos) << one.out;
  EXPECT_EQ(one.out.find("submit"), std::string::npos) << one.out;
  // COMMAND -h is help, whatever the command, and never reaches a server.
  auto reseed = RunTandem({"-p", "127.0.0.1:1", "admin", "reseed", "-h"});
  EXPECT_EQ(reseed.exit_code, 0) << reseed.err;
  EXPECT_NE(reseed.out.find("admin reseed -y"), std::string::npos) << reseed.out;
  EXPECT_EQ(RunTandem({"help", "nosuchcommand"}).exit_code, 2);

  std::string version = RunTandem({"--version"}).out;
  EXPECT_EQ(version.rfind("tandem ", 0), 0u) << version;
  EXPECT_EQ(RunTandemd({"--version"}).out, "tandemd " + version.substr(7));
  EXPECT_EQ(tandem::testing::Run(TANDEM_BENCH_PATH, {"--version"}).out,
            "tandem-bench " + version.substr(7));
  auto info = nlohmann::json::parse(T({"--json", "info"}).out);
  EXPECT_EQ(version.substr(7), info[0]["version"].get<std::string>() + "\n");
}

TEST_F(CliTest, UnderSystemdItSaysWhenItServesAndWhenItStops) {
  EXPECT_EQ(server_->Terminate(), 0);
  // What systemd listens on for a Type=notify unit.
  std::string path = dir_.Sub("notify.sock");
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  ASSERT_LT(path.size(), sizeof addr.sun_path);
  std::memcpy(addr.sun_path, path.c_str(), path.size());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  timeval five{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &five, sizeof five);
  auto next = [fd] {
    char buf[512];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
  };

  server_ = TandemdProcess::Start(root_, "127.0.0.1:0", {"", {{"NOTIFY_SOCKET", path}}, {}});
  ASSERT_TRUE(server_);
  std::string ready = next();
  EXPECT_EQ(ready.rfind("READY=1\nSTATUS=serving " + server_->address() + " as the master", 0), 0u)
      << ready;
  EXPECT_EQ(server_->Terminate(), 0);
  EXPECT_EQ(next(), "STOPPING=1");
  ::close(fd);
}

TEST_F(CliTest, HeartbeatUnderJsonIsOneObjectPerEvent) {
  auto r =
      RunTandem({"-p", "127.0.0.1:1", "--json", "heartbeat", "-i", "10", "-w", "100", "-m", "2"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;  // dead
  std::istringstream lines(r.out);
  std::vector<std::string> events;
  for (std::string line; std::getline(lines, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    ASSERT_TRUE(j.is_object()) << line;
    EXPECT_EQ(j["target"], "127.0.0.1:1");
    EXPECT_TRUE(j["missed"].is_number()) << line;
    events.push_back(j["event"]);
  }
  EXPECT_EQ(events, (std::vector<std::string>{"missing", "missing", "dead"}));
}

TEST_F(CliTest, TheServerRefusesArgumentsACommandDoesNotTake) {
  for (std::vector<std::string> args : {std::vector<std::string>{"info", "extra"},
                                        {"servers", "-J", "extra"},
                                        {"pull", "-lj", "extra"},
                                        {"admin", "checkpoint", "now"},
                                        {"files", "//depot/", "extra"},
                                        {"verify", "-q", "//depot/", "extra"}}) {
    auto r = T(args);
    EXPECT_EQ(r.exit_code, 2) << args[0] << ": " << r.out << r.err;
    EXPECT_NE(r.err.find("is one argument too many"), std::string::npos) << r.err;
  }
  EXPECT_EQ(T({"admin", "checkpoint"}).exit_code, 0);
}

TEST_F(CliTest, NumbersOnTheCommandLineAreCheckedNotGuessed) {
  auto heartbeat = T({"heartbeat", "-i", "abc"});
  EXPECT_EQ(heartbeat.exit_code, 2);
  EXPECT_NE(heartbeat.err.find("-i: Value abc not in range"), std::string::npos) << heartbeat.err;
  EXPECT_EQ(T({"--bogus", "info"}).exit_code, 2);
  for (std::vector<std::string> args : {std::vector<std::string>{"put", "-c", "abc"},
                                        {"put", "-d", "soon"},
                                        {"content", "-s", "4096,big"},
                                        {"failover", "--runs", "-1"}}) {
    auto bench = tandem::testing::Run(TANDEM_BENCH_PATH, args);
    EXPECT_EQ(bench.exit_code, 2) << args[1] << ": " << bench.err;  // not 134 (abort)
    EXPECT_NE(bench.err.find(args[1]), std::string::npos) << bench.err;
  }
}

TEST_F(CliTest, LogLinesNameTimeProcessAndServerAndSighupReopensTheFile) {
  std::string log = server_->Log();
  std::regex line("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z " +
                  std::to_string(server_->pid()) + " master1 (debug|info|WARNING|ERROR) ");
  std::string last = log.substr(log.rfind('\n', log.size() - 2) + 1);
  EXPECT_TRUE(std::regex_search(last, line)) << last;

  // As logrotate does: move the file, then SIGHUP.
  const std::string path = server_->log_path();
  ASSERT_EQ(::rename(path.c_str(), (path + ".1").c_str()), 0);
  ::kill(server_->pid(), SIGHUP);
  ASSERT_TRUE(
      WaitFor([&] { return server_->Log().find("SIGHUP: log reopened") != std::string::npos; }));
  EXPECT_EQ(T({"put", "kv", "still", "serving"}).exit_code, 0);
  EXPECT_FALSE(server_->Exited());

  // log.level takes effect at once.
  ASSERT_EQ(T({"configure", "set", "log.level=warning"}).exit_code, 0);
  ASSERT_EQ(T({"configure", "set", "journal.retain=3"}).exit_code, 0);
  ASSERT_EQ(T({"configure", "unset", "log.level"}).exit_code, 0);
  ASSERT_EQ(T({"configure", "set", "journal.retain=4"}).exit_code, 0);
  EXPECT_EQ(server_->Log().find("journal.retain=3"), std::string::npos) << server_->Log();
  EXPECT_NE(server_->Log().find("configure set journal.retain=4 by"), std::string::npos)
      << server_->Log();
}

TEST_F(CliTest, SuperUserCommandsAreAuditedWithWhoWhatAndHowLongButNoPassword) {
  ASSERT_EQ(T({"admin", "checkpoint"}).exit_code, 0);
  EXPECT_NE(T({"admin", "nonsense"}).exit_code, 0);
  ASSERT_EQ(T({"user-add", "bob", "--level", "read"}, "s3cret-pw\n").exit_code, 0);
  std::string log = server_->Log();
  EXPECT_TRUE(std::regex_search(log, std::regex("audit: '[^']*' from 127\\.0\\.0\\.1:[0-9]+: "
                                                "admin checkpoint: ok \\([0-9]+ ms\\)")))
      << log;
  EXPECT_NE(log.find("user-add bob --level read (password): ok"), std::string::npos) << log;
  EXPECT_EQ(log.find("s3cret-pw"), std::string::npos) << "a password in the log";
  EXPECT_NE(log.find("admin nonsense: invalid-argument: "), std::string::npos) << log;
  // With a user now, a request without a ticket is refused, and audited too.
  EXPECT_NE(T({"admin", "checkpoint"}).exit_code, 0);
  EXPECT_TRUE(WaitFor([&] {
    return server_->Log().find("admin checkpoint: unauthenticated: ") != std::string::npos;
  })) << server_->Log();
  // A mistyped user-add never logs what may be its password.
  T({"user-add", "eve", "super"}, "another-secret\n");
  EXPECT_EQ(server_->Log().find("another-secret"), std::string::npos);
}

// Each run used to leave its servers' roots (about 100 MB) in /tmp,
// whatever TMPDIR said.
TEST_F(CliTest, TandemBenchLeavesNothingBehindInItsTemporaryDirectory) {
  auto in_tmp = [] {
    std::set<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator("/tmp")) {
      std::string name = e.path().filename().string();
      if (name.rfind("tandem-bench-", 0) == 0) names.insert(name);
    }
    return names;
  };
  std::set<std::string> before = in_tmp();
  std::string tmp = dir_.Sub("tmp");
  std::filesystem::create_directories(tmp);
  auto r = tandem::testing::Run(TANDEM_BENCH_PATH, {"put", "-c", "2", "-n", "50"},
                                {"", {{"TMPDIR", tmp}}, {}});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(std::filesystem::is_empty(tmp));
  for (const std::string& name : in_tmp()) EXPECT_TRUE(before.count(name)) << "/tmp/" << name;
}

// -P keeps several requests in flight on each connection; every one of them
// is answered, in order, and counted once.
TEST_F(CliTest, TandemBenchPipelinesRequestsAndCountsEachAnswerOnce) {
  auto r =
      tandem::testing::Run(TANDEM_BENCH_PATH, {"put", "-p", server_->address(), "-c", "3", "-P",
                                               "16", "-n", "500", "-k", "1000", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["commits"], 500) << r.out;
  EXPECT_EQ(j["failed"], 0) << r.out;
  EXPECT_EQ(j["pipeline"], 16) << r.out;
  // The 500th request (n = 499) wrote key (499 * 7919) % 1000.
  auto got = T({"get", "bench", "k" + std::to_string(499 * 7919 % 1000)});
  EXPECT_EQ(got.exit_code, 0) << got.err;
}

TEST_F(CliTest, TandemBenchMeasuresCommitsWithAndWithoutCheckpointsBeside) {
  auto r = tandem::testing::Run(TANDEM_BENCH_PATH, {"checkpoint", "-k", "2000", "-d", "0.3", "-c",
                                                    "2", "--root", dir_.Sub("ckbench")});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m, std::regex("checkpoints taken +([0-9]+)"))) << r.out;
  EXPECT_GE(std::stoi(m[1]), 1) << r.out;
  EXPECT_NE(r.out.find("p99 ratio"), std::string::npos) << r.out;
  // Each one it took was rebuilt from the files and verifies.
  auto ckps = tandem::RootLayout(dir_.Sub("ckbench") + "/master").ListCheckpoints();
  ASSERT_TRUE(ckps.ok());
  EXPECT_GE(ckps->size(), 2u);
  for (uint32_t n : *ckps) {
    auto loaded =
        tandem::ReadCheckpoint(tandem::RootLayout(dir_.Sub("ckbench") + "/master").checkpoint(n));
    EXPECT_TRUE(loaded.ok()) << n << ": " << loaded.status().ToString();
  }
}

TEST_F(CliTest, TandemBenchWritesTheTimeSeriesOfAFailoverUnderLoad) {
  std::string csv = dir_.Sub("series.csv");
  auto r = tandem::testing::Run(TANDEM_BENCH_PATH, {"failover", "--runs", "1", "-c", "2",
                                                    "--series", csv, "--root", dir_.Sub("bench")});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  std::ifstream in(csv);
  std::string header, line;
  std::getline(in, header);
  EXPECT_EQ(header, "t_s,kind,name,value");
  std::map<std::string, int> kinds;
  std::set<std::string> events;
  while (std::getline(in, line)) {
    std::smatch m;
    ASSERT_TRUE(std::regex_match(line, m, std::regex("([0-9.]+),([a-z0-9_]+),([^,]*),([0-9.]+)")))
        << line;
    kinds[m[2]]++;
    if (m[2] == "event") events.insert(m[3]);
  }
  EXPECT_GT(kinds["commits_per_s"], 10);
  EXPECT_EQ(kinds["commits_per_s"], kinds["p99_ms"]);
  EXPECT_GT(kinds["lag_bytes"], 0);
  EXPECT_EQ(events, (std::set<std::string>{"failover-start", "failover-end"}));
}

TEST_F(CliTest, AHungServerInTheListDoesNotHoldUpTheCommandAndTimeoutBoundsTheWait) {
  // A second, hung server listed first: finding the master used to wait on
  // it for ever.
  std::string hung_root = dir_.Sub("hung");
  ASSERT_EQ(RunTandemd({"-r", hung_root, "--id", "other"}).exit_code, 0);
  auto hung = TandemdProcess::Start(hung_root);
  ASSERT_TRUE(hung);
  hung->Stop();
  ASSERT_EQ(T({"put", "kv", "a", "1"}).exit_code, 0);
  auto found = RunTandem({"-p", hung->address() + "," + server_->address(), "get", "kv", "a"});
  EXPECT_EQ(found.exit_code, 0) << found.err;
  EXPECT_NE(found.out.find("1"), std::string::npos) << found.out;
  auto bounded = RunTandem({"--timeout", "1", "-p", hung->address(), "info"});
  EXPECT_EQ(bounded.exit_code, 1) << bounded.out << bounded.err;
  EXPECT_NE(bounded.err.find(hung->address()), std::string::npos) << bounded.err;
  EXPECT_EQ(RunTandem({"--timeout", "x", "info"}).exit_code, 2);
  hung->Continue();
}

TEST_F(CliTest, AdminStopEndsTheServerCleanly) {
  auto r = T({"admin", "stop"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(WaitFor([&] { return server_->Log().find("stopped") != std::string::npos; }));
}

}  // namespace
}  // namespace tandem::testing
