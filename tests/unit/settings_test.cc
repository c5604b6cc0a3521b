// The settings registry: what configure set and -cset accept and refuse,
// what a reader gets for a value an older version stored, and that
// docs/settings.md is what the registry says.
#include "journal/settings.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "journal/table_set.h"

namespace tandem {
namespace {

std::string Refusal(std::string_view key, std::string_view value) {
  Status st = CheckReplicatedSetting(key, value);
  EXPECT_EQ(st.code(), Code::kInvalidArgument) << key << "=" << value;
  return st.message();
}

TEST(SettingsTest, ValuesOutsideWhatASettingAllowsAreRefusedNamingWhatItAllows) {
  EXPECT_NE(Refusal("journal.fsync", "maybe").find("one of always|off"), std::string::npos);
  EXPECT_NE(Refusal("journal.retain", "abc").find("whole number"), std::string::npos);
  EXPECT_NE(Refusal("ticket.timeout", "abc").find("ticket.timeout"), std::string::npos);
  EXPECT_NE(Refusal("ticket.timeout", "0").find("1.."), std::string::npos);
  EXPECT_NE(Refusal("rpl.timeout.ms", "99999999999999999999").find("50..3600000"),
            std::string::npos);
  EXPECT_NE(Refusal("trigger.failed-over", "a\nb").find("control characters"), std::string::npos);
  EXPECT_TRUE(CheckReplicatedSetting("journal.fsync", "off").ok());
  EXPECT_TRUE(CheckReplicatedSetting("sb1#commit.wait", "mandatory").ok());
  EXPECT_TRUE(CheckReplicatedSetting("trigger.failed-over", "").ok());
}

TEST(SettingsTest, UnknownNamesAreRefusedWithTheNearestKnownOne) {
  EXPECT_NE(Refusal("commit.wiat", "local").find("did you mean 'commit.wait'"), std::string::npos);
  EXPECT_NE(Refusal("sb1#rpl.timeout", "5").find("did you mean 'rpl.timeout.ms'"),
            std::string::npos);
  std::string far = Refusal("typo.name", "1");
  EXPECT_NE(far.find("unknown setting 'typo.name'"), std::string::npos);
  EXPECT_EQ(far.find("did you mean"), std::string::npos) << far;
  EXPECT_NE(Refusal("#commit.wait", "local").find("names no server"), std::string::npos);
}

TEST(SettingsTest, LocalSettingsStayLocalButATargetMayBeOverriddenPerServer) {
  EXPECT_NE(Refusal("target", "127.0.0.1:1").find("-cset target="), std::string::npos);
  EXPECT_NE(Refusal("service.password", "x").find("local to each server"), std::string::npos);
  EXPECT_TRUE(CheckReplicatedSetting("r1#target", "127.0.0.1:2666").ok());
  EXPECT_NE(Refusal("r1#target", "nowhere").find("HOST:PORT"), std::string::npos);

  EXPECT_TRUE(CheckLocalSetting("target", "127.0.0.1:1,127.0.0.1:2").ok());
  EXPECT_TRUE(CheckLocalSetting("target", "").ok());  // removes it
  EXPECT_FALSE(CheckLocalSetting("pull.u.threads", "0").ok());
  EXPECT_FALSE(CheckLocalSetting("journalcopy.fsync", "sometimes").ok());
  EXPECT_FALSE(CheckLocalSetting("commit.wait", "local").ok());
  EXPECT_FALSE(CheckLocalSetting("targte", "127.0.0.1:1").ok());
  EXPECT_TRUE(CheckLocalSetting("net.source", "10.0.0.7").ok());
  EXPECT_TRUE(CheckLocalSetting("net.source", "::1").ok());
  EXPECT_TRUE(CheckLocalSetting("net.source", "").ok());
  EXPECT_FALSE(CheckLocalSetting("net.source", "host.example").ok());
  EXPECT_FALSE(CheckLocalSetting("net.source", "127.0.0.1:5").ok());
}

TEST(SettingsTest, AReaderGetsTheDefaultForAValueTheRegistryDoesNotAllow) {
  Tables tables;
  Transaction txn;
  txn.ops.push_back(Op::Put(std::string(kConfigTable), "ticket.timeout", "abc"));
  txn.ops.push_back(Op::Put(std::string(kConfigTable), "rpl.timeout.ms", "500"));
  txn.ops.push_back(Op::Put(std::string(kConfigTable), "sb1#rpl.timeout.ms", "700"));
  tables.Apply(txn);
  EXPECT_EQ(SettingNumber(tables, "master1", "ticket.timeout"), 43200);
  EXPECT_EQ(SettingNumber(tables, "master1", "rpl.timeout.ms"), 500);
  EXPECT_EQ(SettingNumber(tables, "sb1", "rpl.timeout.ms"), 700);
  EXPECT_EQ(SettingValue(tables, "sb1", "commit.wait"), "local");
}

TEST(SettingsTest, EveryDefaultIsAllowedAndTheDocsMatchTheRegistry) {
  for (const SettingDef& def : AllSettings()) {
    if (!def.fallback.empty()) {
      EXPECT_TRUE(CheckSettingValue(def, def.fallback).ok()) << def.name;
    }
    EXPECT_EQ(FindSetting(def.name), &def);
  }
  std::ifstream in(TANDEM_SETTINGS_DOC);
  std::stringstream doc;
  doc << in.rdbuf();
  EXPECT_EQ(doc.str(), SettingsMarkdown())
      << "docs/settings.md is stale: run 'build/tools/tandemd --settings > docs/settings.md'";
}

}  // namespace
}  // namespace tandem
