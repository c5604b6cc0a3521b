// The registry of every setting a server reads: its name, type, default,
// allowed values, where it lives and when it takes effect. `configure set`
// and `tandemd -cset` refuse anything it does not allow; readers take their
// defaults and ranges from it; docs/settings.md is generated from it.
//
// Replicated settings live in the `config` table (so every server reads the
// master's), as NAME or as SERVERID#NAME for one server only. Local settings
// live in ROOT/config.local: how a downstream server reaches its upstream,
// which it must know before it has replicated anything.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "journal/status.h"

namespace tandem {

class Tables;

inline constexpr std::string_view kConfigTable = "config";

enum class SettingType {
  kNumber,       // a whole number in [min, max]
  kChoice,       // one of `choices` ("a|b")
  kText,         // any printable text
  kAddressList,  // [ssl:]HOST:PORT[,...]
  kIpAddress,    // an IPv4 or IPv6 address, no port
  kSecret,       // text that is never shown
};

enum class SettingScope { kReplicated, kLocal };

enum class SettingTakesEffect {
  kAtOnce,      // the next time it is read: the next commit, login, check
  kNextStream,  // for journal streams opened after the change
  kAtRestart,   // read when the server starts
};

struct SettingDef {
  std::string_view name;
  SettingType type;
  std::string_view fallback;  // the default, as text; "" for none
  int64_t min = 0;
  int64_t max = 0;
  std::string_view choices;
  std::string_view unit;  // "ms", "s", "bytes", ...; "" for none
  SettingScope scope = SettingScope::kReplicated;
  SettingTakesEffect takes_effect = SettingTakesEffect::kAtOnce;
  std::string_view description;
};

std::span<const SettingDef> AllSettings();
std::string_view SettingScopeName(SettingScope scope);             // "replicated", "local"
std::string_view SettingTakesEffectName(SettingTakesEffect when);  // "at once", ...
const SettingDef* FindSetting(std::string_view name);

// A `config` key: "NAME" or "SERVERID#NAME".
struct SettingKey {
  std::string server_id;  // empty: every server
  std::string name;
};
SettingKey SplitSettingKey(std::string_view key);

// Whether `value` is allowed for `def`; the error names the setting and
// what it allows.
Status CheckSettingValue(const SettingDef& def, std::string_view value);
// What `configure set KEY=VALUE` may write into the replicated `config`
// table: a known replicated setting (or SERVERID#target, the override of a
// downstream server's local target) with an allowed value. Unknown names
// are refused with the nearest known one.
Status CheckReplicatedSetting(std::string_view key, std::string_view value);
// What `tandemd -cset NAME=VALUE` may write into ROOT/config.local; an empty
// value removes the setting.
Status CheckLocalSetting(std::string_view name, std::string_view value);

// The value in force for `server_id`: SERVERID#NAME, then NAME, then the
// default. A stored value the registry does not allow (written by an older
// version) is logged and the default used, so it can never stop a server.
std::string SettingValue(const Tables& tables, std::string_view server_id, std::string_view name);
int64_t SettingNumber(const Tables& tables, std::string_view server_id, std::string_view name);

// Sets the log level from log.level as it stands for `server_id`.
void ApplyLogLevel(const Tables& tables, std::string_view server_id);

// docs/settings.md.
std::string SettingsMarkdown();

}  // namespace tandem
