// A fixture for tests with a master and downstream servers as real processes.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "journal/position.h"
#include "tests/integration/harness.h"

namespace tandem::testing {

class ClusterTest : public ::testing::Test {
 protected:
  std::unique_ptr<TandemdProcess> StartMaster(const SpawnOptions& options = {}) {
    master_root_ = dir_.Sub("master");
    EXPECT_EQ(RunTandemd({"-r", master_root_, "--id", "master1"}).exit_code, 0);
    auto m = TandemdProcess::Start(master_root_, "127.0.0.1:0", options);
    EXPECT_TRUE(m);
    return m;
  }

  // Without `address`, the server's spec gets the address it announces.
  void AddSpec(const TandemdProcess& master, const std::string& id, const std::string& type,
               bool mandatory, const std::string& address = "") {
    std::string spec = "ServerID: " + id + "\nServices: " + type +
                       "\nOptions: " + (mandatory ? "mandatory" : "nomandatory") +
                       "\nReplicatingFrom: master1\n" +
                       (address.empty() ? "" : "Address: " + address + "\n");
    auto r = RunTandem({"-p", master.address(), "server", "-i"}, {spec, {}, {}});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  std::unique_ptr<TandemdProcess> StartDownstream(const std::string& id,
                                                  const TandemdProcess& master,
                                                  const SpawnOptions& options = {}) {
    return StartDownstream(id, master.address(), options);
  }
  // `target` may list several addresses.
  std::unique_ptr<TandemdProcess> StartDownstream(const std::string& id, const std::string& target,
                                                  const SpawnOptions& options = {}) {
    std::string root = dir_.Sub(id);
    if (!std::filesystem::exists(root)) {
      EXPECT_EQ(RunTandemd({"-r", root, "--id", id}).exit_code, 0);
      EXPECT_EQ(RunTandemd({"-r", root, "-cset", "target=" + target}).exit_code, 0);
    }
    auto p = TandemdProcess::Start(root, "127.0.0.1:0", options);
    EXPECT_TRUE(p);
    return p;
  }

  // Adds a user to a root offline.
  static void AddUser(const std::string& root, const std::string& name, const std::string& level,
                      const std::string& password) {
    ASSERT_EQ(
        RunTandemd({"-r", root, "--add-user", name, "--level", level}, {password + "\n", {}, {}})
            .exit_code,
        0);
  }

  static std::set<std::string> Keys(const TandemdProcess& p, const std::string& table) {
    std::set<std::string> out;
    auto c = p.Connect();
    if (!c) return out;
    auto r = c->Call({"", "", {"scan", table}});
    if (!r.ok() || !r->status.ok()) return out;
    for (const Row& row : r->rows) out.insert(std::string(FieldOf(row, "key")));
    return out;
  }
  static std::string Role(const TandemdProcess& p) {
    return std::string(FieldOf(One(p, {"info"}), "role"));
  }
  // A promoted standby serves again on the same address once it is master.
  static bool IsMaster(const TandemdProcess& p) { return Role(p) == "standard"; }
  static CommandResult Failover(const TandemdProcess& standby, std::vector<std::string> flags) {
    std::vector<std::string> args = {"-p", standby.address(), "failover"};
    args.insert(args.end(), flags.begin(), flags.end());
    return RunTandem(args);
  }

  // The master has recorded the address downstream server `id` announced.
  static bool Announced(const TandemdProcess& master, const std::string& id,
                        const TandemdProcess& server) {
    return RunTandem({"-p", master.address(), "server", "-o", id})
               .out.find("Address: " + server.address()) != std::string::npos;
  }

  static void Configure(const TandemdProcess& master, const std::string& name_value) {
    auto r = RunTandem({"-p", master.address(), "configure", "set", name_value});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  static Row One(const TandemdProcess& p, std::vector<std::string> args) {
    auto c = p.Connect();
    if (!c) return {};
    auto r = c->Call({"", "", std::move(args)});
    if (!r.ok() || !r->status.ok() || r->rows.empty()) return {};
    return r->rows[0];
  }
  static Position Durable(const TandemdProcess& master) {
    Row info = One(master, {"info"});
    return {static_cast<uint32_t>(std::stoul(std::string(FieldOf(info, "journal")))),
            std::stoull(std::string(FieldOf(info, "sequence")))};
  }
  static Position PullPosition(const TandemdProcess& p, const char* field) {
    Position pos;
    Position::ParseToken(std::string(FieldOf(One(p, {"pull", "-lj"}), field)), &pos);
    return pos;
  }
  static bool CaughtUp(const TandemdProcess& p, const TandemdProcess& master) {
    return PullPosition(p, "applied") == Durable(master);
  }
  static void Put(const TandemdProcess& master, int from, int to) {
    auto c = master.Connect();
    ASSERT_TRUE(c);
    for (int i = from; i < to; ++i) {
      auto r = c->Call({"", "", {"put", "kv", "k" + std::to_string(i), std::string(100, 'v')}});
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      ASSERT_TRUE(r->status.ok()) << r->status.ToString();
    }
  }

  TempDir dir_;
  std::string master_root_;
};

}  // namespace tandem::testing
