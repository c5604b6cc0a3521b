// Users, tickets, access levels and TLS trust, through real processes.
#include <gtest/gtest.h>

#include "tests/integration/harness.h"
#include "tests/testing/journal_files.h"
#include "transport/tls.h"

namespace tandem::testing {
namespace {

class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_.Sub("root");
    AddUser("admin", "super", "adminpw");
    AddUser("writer", "write", "writerpw");
    AddUser("reader", "read", "readerpw");
    server_ = TandemdProcess::Start(root_);
    ASSERT_TRUE(server_);
  }

  void AddUser(const std::string& name, const std::string& level, const std::string& pw) {
    auto r = RunTandemd({"-r", root_, "--add-user", name, "--level", level}, {pw + "\n", {}, {}});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  SpawnOptions Env(const std::string& password = "") {
    SpawnOptions o;
    o.env = {{"TANDEM_TICKETS", dir_.Sub("tickets")}, {"TANDEM_TRUST", dir_.Sub("trust")}};
    if (!password.empty()) o.env["TANDEM_PASSWORD"] = password;
    return o;
  }

  CommandResult As(const std::string& user, std::vector<std::string> args,
                   const SpawnOptions& opts) {
    std::vector<std::string> full{"-p", server_->address(), "-u", user};
    full.insert(full.end(), args.begin(), args.end());
    return RunTandem(full, opts);
  }
  CommandResult As(const std::string& user, std::vector<std::string> args) {
    return As(user, std::move(args), Env());
  }
  void Login(const std::string& user, const std::string& pw) {
    auto r = As(user, {"login"}, Env(pw));
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  TempDir dir_;
  std::string root_;
  std::unique_ptr<TandemdProcess> server_;
};

TEST_F(AuthTest, CommandsWithoutATicketAreRefused) {
  auto r = As("writer", {"put", "kv", "a", "1"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("login required"), std::string::npos) << r.err;
}

TEST_F(AuthTest, WrongPasswordIsRefusedAndTheServerKeepsServing) {
  auto r = As("writer", {"login"}, Env("not-the-password"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("login failed"), std::string::npos) << r.err;
  EXPECT_TRUE(WaitFor(
      [&] { return server_->Log().find("failed login for 'writer'") != std::string::npos; }));
  Login("writer", "writerpw");
  EXPECT_EQ(As("writer", {"put", "kv", "a", "1"}).exit_code, 0);
}

TEST_F(AuthTest, ReadUserCannotWrite) {
  Login("reader", "readerpw");
  auto r = As("reader", {"put", "kv", "a", "1"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("has read access; 'put' needs write"), std::string::npos) << r.err;
  EXPECT_NE(As("reader", {"get", "kv", "a"}).err.find("no key"), std::string::npos);
}

TEST_F(AuthTest, OnlySuperAddsUsersOnline) {
  Login("writer", "writerpw");
  auto refused = As("writer", {"user-add", "bob", "--level", "write"}, {"bobpw\n", Env().env, {}});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("needs super"), std::string::npos) << refused.err;

  Login("admin", "adminpw");
  auto added = As("admin", {"user-add", "bob", "--level", "write"}, {"bobpw\n", Env().env, {}});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  Login("bob", "bobpw");
  EXPECT_EQ(As("bob", {"put", "kv", "b", "2"}).exit_code, 0);
}

TEST_F(AuthTest, ExpiredTicketIsRefused) {
  Login("admin", "adminpw");
  ASSERT_EQ(As("admin", {"configure", "set", "ticket.timeout=1"}).exit_code, 0);
  Login("reader", "readerpw");
  bool expired =
      WaitFor([&] { return As("reader", {"info"}).err.find("has expired") != std::string::npos; });
  EXPECT_TRUE(expired);
}

TEST_F(AuthTest, UserTableIsNotReadableByClients) {
  Login("admin", "adminpw");
  auto r = As("admin", {"scan", "user"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("not readable"), std::string::npos) << r.err;
}

TEST(TlsTest, ClientPinsTheServerFingerprint) {
  TempDir dir;
  std::string root = dir.Sub("root");
  auto server = TandemdProcess::Start(root, "ssl:127.0.0.1:0");
  ASSERT_TRUE(server);
  SpawnOptions env;
  env.env = {{"TANDEM_TRUST", dir.Sub("trust")}, {"TANDEM_TICKETS", dir.Sub("tickets")}};
  auto fp = FingerprintOfPemFile(root + "/ssl/certificate.pem");
  ASSERT_TRUE(fp.ok());

  auto untrusted = RunTandem({"-p", server->address(), "info"}, env);
  EXPECT_NE(untrusted.exit_code, 0);
  EXPECT_NE(untrusted.err.find("can't be established"), std::string::npos) << untrusted.err;
  EXPECT_NE(untrusted.err.find(*fp), std::string::npos) << untrusted.err;

  auto trust = RunTandem({"-p", server->address(), "trust", "-y"}, env);
  ASSERT_EQ(trust.exit_code, 0) << trust.err;
  auto put = RunTandem({"-p", server->address(), "put", "kv", "a", "1"}, env);
  EXPECT_EQ(put.exit_code, 0) << put.err;

  // A different key at the same address is an alarm, not a prompt.
  WriteAll(dir.Sub("trust"), server->address() + " AA:BB\n");
  auto changed = RunTandem({"-p", server->address(), "info"}, env);
  EXPECT_NE(changed.exit_code, 0);
  EXPECT_NE(changed.err.find("has changed"), std::string::npos) << changed.err;

  // A plain-TCP client talking to the TLS port is just a bad frame.
  auto plain = RunTandem({"-p", server->address().substr(4), "info"}, env);
  EXPECT_NE(plain.exit_code, 0);
}

}  // namespace
}  // namespace tandem::testing
