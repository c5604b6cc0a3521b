// Input that once took a server down or made it hoard memory and threads:
// numbers that are not numbers, headers announcing huge frames, idle and
// stalled connections, more connections than allowed, submits stalled at the
// mandatory gate, forged log lines, password guessing, oversized scans, and
// writes to the tables the server's own modules keep.
#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "journal/coding.h"
#include "journal/engine.h"
#include "tests/integration/cluster.h"
#include "tests/testing/journal_files.h"
#include "tests/testing/sanitizers.h"
#include "transport/content_protocol.h"
#include "transport/frame.h"

namespace tandem::testing {
namespace {

using std::chrono::milliseconds;

std::string Header(uint16_t type, uint32_t length) {
  std::string h;
  PutFixed16(&h, kFrameMagic);
  PutFixed16(&h, type);
  PutFixed32(&h, length);
  return h;
}

uint64_t PeakRssBytes(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  return 0;
}

class HostileInputTest : public ClusterTest {
 protected:
  // A master on a fresh root; `settings` are set offline first.
  std::unique_ptr<TandemdProcess> Master(std::vector<std::string> settings = {},
                                         bool secured = false) {
    master_root_ = dir_.Sub("master");
    EXPECT_EQ(RunTandemd({"-r", master_root_, "--id", "master1"}).exit_code, 0);
    if (secured) {
      AddUser(master_root_, "admin", "super", "pw");
      AddUser(master_root_, "bob", "write", "bobpw");
    }
    for (const auto& s : settings) {
      EXPECT_EQ(RunTandemd({"-r", master_root_, "-cset", s}).exit_code, 0);
    }
    return TandemdProcess::Start(master_root_);
  }
  static std::string Ticket(Client& c, const std::string& user, const std::string& pw) {
    auto r = c.Call({user, "", {"login", pw}});
    if (!r.ok() || !r->status.ok() || r->rows.empty()) return "";
    return std::string(FieldOf(r->rows[0], "ticket"));
  }
};

TEST_F(HostileInputTest, ANonNumberWhereANumberBelongsIsAnErrorAndTheServerStaysUp) {
  auto master = Master();
  ASSERT_TRUE(master);
  std::string file = dir_.Sub("f");
  WriteAll(file, "content");
  ASSERT_EQ(RunTandem({"-p", master->address(), "submit", file, "-d", "//depot/f"}).exit_code, 0);
  ASSERT_EQ(RunTandem({"-p", master->address(), "admin", "checkpoint"}).exit_code, 0);
  std::string md5(FieldOf(One(*master, {"files"}), "digest"));
  auto c = master->Connect();
  ASSERT_TRUE(c);
  for (std::vector<std::string> args : {std::vector<std::string>{"archive-fetch", md5, "x"},
                                        {"archive-fetch", md5, "-1"},
                                        {"checkpoint-fetch", "-", "99999999999999999999999"},
                                        {"print", "//depot/f#x"},
                                        {"failover-master", "pause", "sb1", "abc", "1", "m"}}) {
    auto r = c->Call({"", "", args}, milliseconds(10000));
    ASSERT_TRUE(r.ok()) << args[0] << ": " << r.status().ToString();
    EXPECT_EQ(r->status.code(), Code::kInvalidArgument) << args[0] << ": " << r->status.ToString();
  }
  EXPECT_FALSE(master->Exited());
  EXPECT_TRUE(c->Call({"", "", {"put", "kv", "still", "up"}})->status.ok());
}

TEST_F(HostileInputTest, ABadTicketTimeoutDoesNotLockEveryoneOut) {
  auto master = Master({}, /*secured=*/true);
  ASSERT_TRUE(master);
  auto c = master->Connect();
  std::string ticket = Ticket(*c, "admin", "pw");
  ASSERT_FALSE(ticket.empty());
  auto refused = c->Call({"admin", ticket, {"configure", "set", "ticket.timeout=abc"}});
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->status.code(), Code::kInvalidArgument);
  // An older version stored it anyway: logins go on with the default.
  ASSERT_EQ(master->Terminate(), 0);
  {
    auto engine = Engine::Open({master_root_, std::nullopt});
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    ASSERT_TRUE(
        (*engine)->Commit({{Op::Put(std::string(kConfigTable), "ticket.timeout", "abc")}}).ok());
  }
  master = TandemdProcess::Start(master_root_);
  ASSERT_TRUE(master);
  auto again = master->Connect();
  EXPECT_FALSE(Ticket(*again, "bob", "bobpw").empty()) << master->Log();
  EXPECT_FALSE(master->Exited());
  EXPECT_NE(master->Log().find("ticket.timeout must be a whole number"), std::string::npos);
}

TEST_F(HostileInputTest, HeadersAnnouncingHugeFramesCostNothingUntilTheBytesArrive) {
  auto master = Master({"server.frame.timeout=1"});
  ASSERT_TRUE(master);
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 30; ++i) {
    clients.push_back(master->Connect());
    ASSERT_TRUE(clients.back());
    ASSERT_TRUE(clients.back()->SendRaw(Header(1, kMaxFrameBody - 1)).ok());
  }
  // Every header was taken in: each stalled frame is then closed, and logged.
  auto closed = [&] { return CountOf(master->Log(), "for the rest of a frame") >= 30; };
  ASSERT_TRUE(WaitFor(closed));
  if (!kMemorySanitized) {
    EXPECT_LT(PeakRssBytes(master->pid()), 200u << 20) << "buffers were allocated for absent bytes";
  }
}

TEST_F(HostileInputTest, AConnectionThatHasNotLoggedInMaySendOnlySmallFrames) {
  auto master = Master({}, /*secured=*/true);
  ASSERT_TRUE(master);
  auto anonymous = master->Connect();
  std::string body = EncodeRequest({"nobody", "forged-ticket", {"put", "kv", "k", "v"}});
  ASSERT_TRUE(anonymous->SendRaw(Header(1, 2u << 20) + body).ok());
  EXPECT_TRUE(anonymous->PeerClosed());
  EXPECT_TRUE(
      WaitFor([&] { return master->Log().find("without a valid ticket") != std::string::npos; }));
  // A client whose first request carries a valid ticket may send a large one.
  std::string ticket = Ticket(*master->Connect(), "bob", "bobpw");
  auto fresh = master->Connect();
  auto big = fresh->Call({"bob", ticket, {"put", "kv", "big", std::string(2u << 20, 'x')}});
  ASSERT_TRUE(big.ok()) << big.status().ToString();
  EXPECT_TRUE(big->status.ok()) << big->status.ToString();
}

TEST_F(HostileInputTest, ConnectionsBeyondTheLimitAreRefused) {
  auto master = Master({"server.maxconnections=3"});
  ASSERT_TRUE(master);
  std::vector<std::unique_ptr<Client>> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(master->Connect());
    ASSERT_TRUE(held.back()->Call({"", "", {"info"}})->status.ok());
  }
  auto extra = master->Connect();
  ASSERT_TRUE(extra);
  EXPECT_TRUE(extra->PeerClosed());
  EXPECT_NE(master->Log().find("server.maxconnections"), std::string::npos);
  held.pop_back();  // room again, once the server has seen it go
  EXPECT_TRUE(WaitFor([&] {
    auto c = master->Connect();
    auto r = c ? c->Call({"", "", {"info"}}, milliseconds(2000)) : Status::Unavailable("");
    return r.ok() && r->status.ok();
  }));
}

TEST_F(HostileInputTest, ConnectionsNotLoggedInGetHalfTheSlots) {
  auto master = Master({"server.maxconnections=4"}, /*secured=*/true);
  ASSERT_TRUE(master);
  std::vector<std::unique_ptr<Client>> strangers;
  for (int i = 0; i < 2; ++i) {
    strangers.push_back(master->Connect());
    ASSERT_TRUE(strangers.back()->Call({"", "", {"ping"}})->status.ok());  // no login needed
  }
  auto third = master->Connect();
  ASSERT_TRUE(third);
  EXPECT_TRUE(third->PeerClosed());
  EXPECT_NE(master->Log().find("2 of them not logged in"), std::string::npos) << master->Log();
  // Once one of them has used a ticket, it is no stranger: one may connect.
  std::string ticket = Ticket(*strangers[0], "bob", "bobpw");
  ASSERT_NE(ticket, "");
  ASSERT_TRUE(strangers[0]->Call({"bob", ticket, {"info"}})->status.ok());
  auto fourth = master->Connect();
  ASSERT_TRUE(fourth);
  auto answered = fourth->Call({"", "", {"ping"}}, milliseconds(5000));
  ASSERT_TRUE(answered.ok()) << answered.status().ToString();
  EXPECT_TRUE(answered->status.ok());
}

TEST_F(HostileInputTest, AnIdleConnectionAndAStalledFrameAreClosed) {
  auto master = Master({"server.idle.timeout=1", "server.frame.timeout=1"});
  ASSERT_TRUE(master);
  auto idle = master->Connect();
  auto stalled = master->Connect();
  ASSERT_TRUE(stalled->SendRaw(Header(1, 100) + "only ten.").ok());
  EXPECT_TRUE(idle->PeerClosed());
  EXPECT_TRUE(stalled->PeerClosed());
  std::string log = master->Log();
  EXPECT_NE(log.find("waited 1000 ms for a request"), std::string::npos) << log;
  EXPECT_NE(log.find("waited 1000 ms for the rest of a frame"), std::string::npos) << log;
}

TEST_F(HostileInputTest, ATlsHandshakeThatNeverComesIsClosed) {
  master_root_ = dir_.Sub("master");
  ASSERT_EQ(RunTandemd({"-r", master_root_, "--id", "master1"}).exit_code, 0);
  ASSERT_EQ(RunTandemd({"-r", master_root_, "-cset", "server.frame.timeout=1"}).exit_code, 0);
  auto master = TandemdProcess::Start(master_root_, "ssl:127.0.0.1:0");
  ASSERT_TRUE(master);
  // Plain TCP to the TLS port: connected, and then not a byte.
  auto plain = Address::Parse("127.0.0.1:" + std::to_string(master->parsed_address().port));
  ASSERT_TRUE(plain.ok());
  auto silent = Client::Connect(*plain, {});
  ASSERT_TRUE(silent.ok()) << silent.status().ToString();
  EXPECT_TRUE((*silent)->PeerClosed());
  EXPECT_NE(master->Log().find("waited 1000 ms for the TLS handshake"), std::string::npos)
      << master->Log();
}

TEST_F(HostileInputTest, SubmitsStalledAtTheMandatoryGateHoldNoThreads) {
  auto master = Master();
  ASSERT_TRUE(master);
  AddSpec(*master, "sb1", "standby", true);  // never started
  EXPECT_EQ(master->Terminate(), 0);
  ASSERT_EQ(RunTandemd({"-r", master_root_, "-cset", "commit.wait=mandatory"}).exit_code, 0);
  master = TandemdProcess::Start(master_root_);
  ASSERT_TRUE(master);
  std::vector<std::unique_ptr<Client>> uploads;
  for (int i = 0; i < 12; ++i) {  // more than the blocking pool has threads
    uploads.push_back(master->Connect());
    Client& c = *uploads.back();
    auto opened = c.Call({"", "", {"submit", "//depot/f" + std::to_string(i), "1"}});
    ASSERT_TRUE(opened.ok() && opened->status.ok());
    ASSERT_TRUE(c.SendFrame(MessageType::kContent, "x").ok());
    auto received = c.ReadFrame();  // the chunk is written; the commit now waits
    ASSERT_TRUE(received.ok());
  }
  // Blocking commands still run: the stalled submits hold no pool thread.
  auto c = master->Connect();
  auto checkpoint = c->Call({"", "", {"admin", "checkpoint"}}, milliseconds(20000));
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status().ToString();
  EXPECT_TRUE(checkpoint->status.ok()) << checkpoint->status.ToString();
  // And the operator can switch to local at once (the gate is stalled).
  auto local = c->Call({"", "", {"configure", "set", "commit.wait=local"}}, milliseconds(20000));
  ASSERT_TRUE(local.ok()) << local.status().ToString();
  EXPECT_TRUE(local->status.ok()) << local->status.ToString();
  EXPECT_TRUE(c->Call({"", "", {"put", "kv", "now", "local"}}, milliseconds(20000))->status.ok());
}

TEST_F(HostileInputTest, AUserNameCannotForgeALogLine) {
  auto master = Master({}, /*secured=*/true);
  ASSERT_TRUE(master);
  auto c = master->Connect();
  EXPECT_EQ(Ticket(*c, "bob\n2026/01/01 00:00:00.000 ERROR forged", "wrong"), "");
  ASSERT_TRUE(WaitFor([&] { return master->Log().find("failed login") != std::string::npos; }));
  std::string log = master->Log();
  EXPECT_EQ(log.find("\n2026/01/01 00:00:00.000 ERROR forged"), std::string::npos) << log;
  EXPECT_NE(log.find("bob\\x0a2026"), std::string::npos) << log;
  // Nor can such a name be given to a user.
  std::string root = dir_.Sub("offline");
  ASSERT_EQ(RunTandemd({"-r", root, "--id", "m2"}).exit_code, 0);
  for (const char* name : {"eve\nforged", "eve\x01", "eve\x7f", "eve"}) {
    auto added = RunTandemd({"-r", root, "--add-user", name, "--level", "read"}, {"pw\n", {}, {}});
    if (std::string(name) == "eve") {
      EXPECT_EQ(added.exit_code, 0) << added.err;
    } else {
      EXPECT_NE(added.err.find("bad user name"), std::string::npos) << added.err;
    }
  }
}

TEST_F(HostileInputTest, PasswordGuessingIsSlowedDown) {
  auto master = Master({}, /*secured=*/true);
  ASSERT_TRUE(master);
  auto c = master->Connect();
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Ticket(*c, "bob", "guess" + std::to_string(i)), "");
  auto right = c->Call({"bob", "", {"login", "bobpw"}});
  ASSERT_TRUE(right.ok());
  EXPECT_EQ(right->status.code(), Code::kUnavailable) << right->status.ToString();
  EXPECT_NE(right->status.message().find("too many failed logins"), std::string::npos);
  EXPECT_FALSE(Ticket(*c, "admin", "pw").empty()) << "other users are not affected";
  EXPECT_TRUE(WaitFor([&] { return !Ticket(*c, "bob", "bobpw").empty(); }));
}

TEST_F(HostileInputTest, DepotPathsWithControlCharactersAreRefused) {
  auto master = Master();
  ASSERT_TRUE(master);
  auto r = master->Connect()->Call({"", "", {"submit", "//depot/a\nb", "1"}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status.code(), Code::kInvalidArgument);
  EXPECT_NE(r->status.message().find("control characters"), std::string::npos);
}

TEST_F(HostileInputTest, AScanComesInPagesThatAnyClientCanRead) {
  auto master = Master();
  ASSERT_TRUE(master);
  auto c = master->Connect();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(
        c->Call({"", "", {"put", "big", "k" + std::to_string(i), std::string(7u << 20, 'v')}})
            ->status.ok());
  }
  auto page = c->Call({"", "", {"scan", "big"}});
  ASSERT_TRUE(page.ok() && page->status.ok());
  ASSERT_FALSE(page->rows.empty());
  EXPECT_FALSE(FieldOf(page->rows.back(), "next").empty()) << "21 MiB came as one page";
  auto all = RunTandem({"-p", master->address(), "scan", "big"});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  for (int i = 0; i < 3; ++i) {
    EXPECT_NE(all.out.find("k" + std::to_string(i)), std::string::npos) << "k" << i;
  }
}

TEST_F(HostileInputTest, ClientsCannotWriteTheTablesTheServersModulesKeep) {
  auto master = Master();
  ASSERT_TRUE(master);
  auto c = master->Connect();
  for (const char* table : {"failover", "server", "config", "rev", "head", "user", "auth"}) {
    auto r = c->Call({"", "", {"put", table, "epoch.0000000002", "point=1/0 master=x standby=y"}});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status.code(), Code::kPermissionDenied) << table;
    auto del = c->Call({"", "", {"del", table, "epoch.0000000002"}});
    ASSERT_TRUE(del.ok());
    EXPECT_EQ(del->status.code(), Code::kPermissionDenied) << "del " << table;
  }
  auto txn = c->Call({"", "", {"txn", "put kv a 1", "put failover epoch.0000000009 forged"}});
  ASSERT_TRUE(txn.ok());
  EXPECT_EQ(txn->status.code(), Code::kPermissionDenied);
  EXPECT_NE(txn->status.message().find("belongs to failover"), std::string::npos);
}

}  // namespace
}  // namespace tandem::testing
