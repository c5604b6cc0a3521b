// Settings through tandem and tandemd: configure set and -cset refuse what
// the registry does not allow (and commit nothing), configure show -a
// answers on a master and on a replica, and a bad ROOT/config.local stops a
// downstream server from starting with a message that names it.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/integration/cluster.h"

namespace tandem::testing {
namespace {

class ConfigureTest : public ClusterTest {
 protected:
  static nlohmann::json ShowAll(const TandemdProcess& p) {
    auto r = RunTandem({"-p", p.address(), "--json", "configure", "show", "-a"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return nlohmann::json::parse(r.out, nullptr, false);
  }
  static nlohmann::json Row(const nlohmann::json& rows, const std::string& name) {
    for (const auto& r : rows) {
      if (r["name"] == name) return r;
    }
    return {};
  }
};

TEST_F(ConfigureTest, ConfigureSetRefusesWhatNoSettingAllowsAndCommitsNothing) {
  auto master = StartMaster();
  for (const auto& [kv, says] : std::vector<std::pair<std::string, std::string>>{
           {"journal.fsync=maybe", "one of always|off"},
           {"typo.name=1", "unknown setting 'typo.name'"},
           {"journal.retian=3", "did you mean 'journal.retain'"},
           {"journal.retain=abc", "whole number"},
           {"ticket.timeout=abc", "ticket.timeout must be a whole number of seconds"},
           {"target=127.0.0.1:1", "local to each server"},
           {"r1#target=nowhere", "HOST:PORT"}}) {
    auto r = RunTandem({"-p", master->address(), "configure", "set", kv});
    EXPECT_NE(r.exit_code, 0) << kv;
    EXPECT_NE(r.err.find(says), std::string::npos) << kv << ": " << r.err;
  }
  EXPECT_EQ(RunTandem({"-p", master->address(), "configure", "show"}).out, "");
  auto ok = RunTandem({"-p", master->address(), "configure", "set", "r1#target=127.0.0.1:1"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(RunTandem({"-p", master->address(), "configure", "show"}).out,
            "r1#target=127.0.0.1:1\n");
}

TEST_F(ConfigureTest, CsetRefusesTheSameOffline) {
  std::string root = dir_.Sub("root");
  ASSERT_EQ(RunTandemd({"-r", root, "--id", "master1"}).exit_code, 0);
  for (const char* kv : {"journal.fsync=maybe", "typo.name=1", "pull.u.threads=0",
                         "commit.wait=sometimes", "master1#ticket.timeout=-5"}) {
    auto r = RunTandemd({"-r", root, "-cset", kv});
    EXPECT_NE(r.exit_code, 0) << kv;
    EXPECT_FALSE(r.err.empty()) << kv;
  }
  EXPECT_EQ(RunTandemd({"-r", root, "-cset", "master1#journal.retain=4"}).exit_code, 0);
}

TEST_F(ConfigureTest, ShowAllListsEverySettingWithWhereItsValueComesFromOnEveryRole) {
  auto master = StartMaster();
  AddSpec(*master, "r1", "replica", false);
  Configure(*master, "journal.retain=3");
  Configure(*master, "r1#rpl.timeout.ms=1500");
  std::string r1_root = dir_.Sub("r1");
  ASSERT_EQ(RunTandemd({"-r", r1_root, "--id", "r1"}).exit_code, 0);
  ASSERT_EQ(RunTandemd({"-r", r1_root, "-cset", "target=" + master->address()}).exit_code, 0);
  auto r1 = StartDownstream("r1", *master);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*r1, *master); })) << r1->Log();

  auto on_master = ShowAll(*master);
  auto on_r1 = ShowAll(*r1);
  ASSERT_TRUE(on_master.is_array() && on_r1.is_array());
  EXPECT_GE(on_master.size(), 19u);
  EXPECT_EQ(on_master.size(), on_r1.size());
  EXPECT_EQ(Row(on_master, "journal.retain")["value"], "3");
  EXPECT_EQ(Row(on_master, "journal.retain")["source"], "config");
  EXPECT_EQ(Row(on_master, "journal.fsync")["source"], "default");
  EXPECT_EQ(Row(on_master, "journal.fsync")["value"], "always");
  EXPECT_EQ(Row(on_master, "rpl.timeout.ms")["value"], "2000");
  EXPECT_EQ(Row(on_r1, "rpl.timeout.ms")["value"], "1500");
  EXPECT_EQ(Row(on_r1, "rpl.timeout.ms")["source"], "r1#rpl.timeout.ms");
  EXPECT_EQ(Row(on_r1, "target")["source"], "config.local");
  EXPECT_EQ(Row(on_r1, "target")["value"], master->address());
  // A replica shows, and refuses to change, naming the master.
  auto set = RunTandem({"-p", r1->address(), "configure", "set", "journal.retain=2"});
  EXPECT_NE(set.exit_code, 0);
  EXPECT_NE(set.err.find("send writes to the master"), std::string::npos) << set.err;
}

TEST_F(ConfigureTest, ADownstreamServerWithABadLocalSettingDoesNotStartAndSaysWhich) {
  auto master = StartMaster();
  AddSpec(*master, "r1", "replica", false);
  std::string root = dir_.Sub("r1");
  ASSERT_EQ(RunTandemd({"-r", root, "--id", "r1"}).exit_code, 0);
  ASSERT_EQ(RunTandemd({"-r", root, "-cset", "target=" + master->address()}).exit_code, 0);
  std::ofstream(root + "/config.local", std::ios::app) << "pull.u.threads=lots\n";
  auto r = RunTandemd({"-r", root, "-p", "127.0.0.1:0"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("config.local: pull.u.threads must be a whole number"), std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace tandem::testing
