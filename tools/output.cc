#include "tools/output.h"

#include <nlohmann/json.hpp>
#include <sstream>

namespace tandem {

std::string FormatText(const std::string& command, const std::vector<Row>& rows) {
  std::ostringstream out;
  if (command == "get") {
    for (const Row& r : rows) out << FieldOf(r, "value") << "\n";
  } else if (command == "scan") {
    for (const Row& r : rows) out << FieldOf(r, "key") << " " << FieldOf(r, "value") << "\n";
  } else if ((command == "put" || command == "del" || command == "txn" || command == "configure" ||
              command == "user-add") &&
             rows.size() == 1 && !FieldOf(rows[0], "sequence").empty()) {
    out << "Committed at Journal " << FieldOf(rows[0], "journal") << ", Sequence "
        << FieldOf(rows[0], "sequence") << ".\n";
  } else if (command == "configure" && (rows.empty() || !FieldOf(rows[0], "name").empty())) {
    for (const Row& r : rows) out << FieldOf(r, "name") << "=" << FieldOf(r, "value") << "\n";
  } else if (command == "journaldbchecksums") {
    if (!rows.empty()) {
      out << "Table checksums at Journal " << FieldOf(rows[0], "journal") << ", Sequence "
          << FieldOf(rows[0], "sequence") << ":\n";
    }
    for (const Row& r : rows) {
      out << FieldOf(r, "table") << " " << FieldOf(r, "checksum") << " rows=" << FieldOf(r, "rows")
          << "\n";
    }
  } else if (rows.size() == 1) {
    for (const auto& [name, value] : rows[0]) out << name << ": " << value << "\n";
  } else {
    for (const Row& r : rows) {
      for (size_t i = 0; i < r.size(); ++i) out << (i ? " " : "") << r[i].second;
      out << "\n";
    }
  }
  return out.str();
}

std::string FormatJson(const std::vector<Row>& rows) {
  nlohmann::ordered_json arr = nlohmann::ordered_json::array();
  for (const Row& r : rows) {
    nlohmann::ordered_json obj = nlohmann::ordered_json::object();
    for (const auto& [name, value] : r) obj[name] = value;
    arr.push_back(std::move(obj));
  }
  return arr.dump(2) + "\n";
}

}  // namespace tandem
