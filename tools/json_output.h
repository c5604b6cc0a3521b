// What `tandem --json` prints (docs/json.md): every field typed by its name
// (numbers as numbers, flags as booleans, "not known" as null), a reply as
// one array, a stream (failover progress) as one object per line, and an
// error as {"error": {"code": ..., "message": ...}}.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "journal/status.h"
#include "transport/message.h"

namespace tandem {

enum class JsonType { kString, kInteger, kBoolean };

// The type `--json` gives a field, by its name (kString if not listed).
JsonType JsonTypeOf(std::string_view field);
// One field's value as JSON: "-", "" (and -1 where a field means "never")
// become null; a value that does not parse as its type stays a string.
nlohmann::ordered_json JsonValue(std::string_view field, std::string_view value);
nlohmann::ordered_json JsonObject(const Row& row);

std::string FormatJson(const std::vector<Row>& rows);       // one array
std::string FormatJsonLines(const std::vector<Row>& rows);  // one object per line
// A failover/failback progress line {"kind": "step", "message": "..."}.
std::string FormatJsonProgress(const std::vector<Row>& rows);
std::string FormatJsonError(const Status& st);

// The field table, for docs/json.md and its test: name, type, null when.
struct JsonField {
  std::string_view name;
  JsonType type;
  std::string_view null_when;  // "" never; "-", "-1"
  std::string_view meaning;
};
const std::vector<JsonField>& JsonFields();

}  // namespace tandem
