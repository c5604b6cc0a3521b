#include "tools/json_output.h"

#include <algorithm>

#include "journal/numbers.h"

namespace tandem {
namespace {

using Json = nlohmann::ordered_json;
using T = JsonType;

}  // namespace

const std::vector<JsonField>& JsonFields() {
  // Sorted by name. Fields not listed are strings.
  static const std::vector<JsonField> fields = {
      {"alive", T::kBoolean, "",
       "servers -J: the downstream server was heard within rpl.timeout.ms"},
      {"answered", T::kBoolean, "", "ping: the server answered at all"},
      {"applyLagP50us", T::kInteger, "-", "servers -J: recent applied lag, µs (null: no samples)"},
      {"applyLagP99us", T::kInteger, "-", "servers -J: recent applied lag, µs (null: no samples)"},
      {"bytes", T::kInteger, "", "size in bytes (checkpoint, upload)"},
      {"bytesBehind", T::kInteger, "",
       "pull -lj: bytes of the master's journal not yet applied here"},
      {"change", T::kInteger, "", "submit: the change number"},
      {"connected", T::kBoolean, "", "pull -lj: heard from the upstream within rpl.timeout.ms"},
      {"end", T::kBoolean, "", "the last row of a stream"},
      {"epoch", T::kInteger, "", "the epoch: one more per failover"},
      {"fileSize", T::kInteger, "-", "archive file size in bytes"},
      {"flushLagP50us", T::kInteger, "-",
       "servers -J: recent journalcopy lag, µs (null: no samples)"},
      {"flushLagP99us", T::kInteger, "-",
       "servers -J: recent journalcopy lag, µs (null: no samples)"},
      {"journal", T::kInteger, "", "a journal number"},
      {"journalsBehind", T::kInteger, "",
       "pull -lj: journals between the master and what is applied"},
      {"lagBytes", T::kInteger, "",
       "servers -J: bytes of the master's journal not yet applied there"},
      {"lagJournals", T::kInteger, "",
       "servers -J: journals between the master and what is applied"},
      {"lastSeenSecondsAgo", T::kInteger, "-1",
       "servers -J: seconds since its last acknowledgement (null: never since the master started)"},
      {"mandatory", T::kBoolean, "-", "servers -J: a mandatory standby (null: the master itself)"},
      {"masterJournal", T::kInteger, "-1",
       "pull -lj: the upstream's durable journal (null: not heard)"},
      {"masterSequence", T::kInteger, "-1",
       "pull -lj: the upstream's durable offset (null: not heard)"},
      {"ms", T::kInteger, "", "how long it took, in milliseconds (admin checkpoint, reseed)"},
      {"offset", T::kInteger, "", "a byte offset"},
      {"progress", T::kBoolean, "", "the reply is followed by a progress stream"},
      {"promoted", T::kBoolean, "", "failover: this server is the master now"},
      {"pullUBytes", T::kInteger, "", "pull -u backlog in bytes"},
      {"pullUFiles", T::kInteger, "", "pull -u backlog in files"},
      {"ready", T::kBoolean, "", "ping: ready for its role"},
      {"received", T::kInteger, "", "upload: bytes received"},
      {"replicaJournal", T::kInteger, "", "pull -lj: the journal applied here"},
      {"replicaSequence", T::kInteger, "", "pull -lj: the offset applied here"},
      {"rev", T::kInteger, "-", "a file revision"},
      {"rotated", T::kInteger, "", "admin journal: the journal that was rotated"},
      {"rows", T::kInteger, "", "a row count"},
      {"secondsSinceData", T::kInteger, "-1",
       "pull -lj: seconds since data last came (null: never)"},
      {"sequence", T::kInteger, "", "a byte offset in `journal`"},
      {"size", T::kInteger, "", "a size in bytes"},
  };
  return fields;
}

namespace {

const JsonField* FindField(std::string_view field) {
  const auto& fields = JsonFields();
  auto it = std::lower_bound(fields.begin(), fields.end(), field,
                             [](const JsonField& f, std::string_view n) { return f.name < n; });
  return it != fields.end() && it->name == field ? &*it : nullptr;
}

}  // namespace

JsonType JsonTypeOf(std::string_view field) {
  const JsonField* f = FindField(field);
  return f ? f->type : T::kString;
}

Json JsonValue(std::string_view field, std::string_view value) {
  const JsonField* it = FindField(field);
  if (!it) return Json(std::string(value));
  if (value.empty() || value == "-" || (!it->null_when.empty() && value == it->null_when)) {
    return nullptr;
  }
  if (it->type == T::kInteger) {
    if (auto n = ParseDecimal<uint64_t>(value)) return *n;
    if (!value.empty() && value[0] == '-') {
      if (auto n = ParseDecimal<uint64_t>(value.substr(1)); n && *n <= uint64_t{1} << 62) {
        return -static_cast<int64_t>(*n);
      }
    }
  } else if (it->type == T::kBoolean) {
    if (value == "1" || value == "yes" || value == "true" || value == field) return true;
    if (value == "0" || value == "no" || value == "false" || value == "no" + std::string(field)) {
      return false;
    }
  }
  return Json(std::string(value));  // not its type: shown as sent, never dropped
}

Json JsonObject(const Row& row) {
  Json obj = Json::object();
  for (const auto& [name, value] : row) obj[name] = JsonValue(name, value);
  return obj;
}

std::string FormatJson(const std::vector<Row>& rows) {
  Json arr = Json::array();
  for (const Row& r : rows) arr.push_back(JsonObject(r));
  return arr.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

std::string FormatJsonLines(const std::vector<Row>& rows) {
  std::string out;
  for (const Row& r : rows)
    out += JsonObject(r).dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
  return out;
}

std::string FormatJsonProgress(const std::vector<Row>& rows) {
  std::string out;
  for (const Row& r : rows) {
    if (r.empty()) continue;
    Json obj = {{"kind", r[0].first}, {"message", r[0].second}};
    out += obj.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
  }
  return out;
}

std::string FormatJsonError(const Status& st) {
  Json obj = {{"error", {{"code", std::string(CodeName(st.code()))}, {"message", st.message()}}}};
  return obj.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

}  // namespace tandem
