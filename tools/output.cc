#include "tools/output.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

namespace tandem {

std::string FormatText(const std::string& command, const std::vector<Row>& rows) {
  std::ostringstream out;
  if (command == "failover" || command == "failback") {
    for (const Row& r : rows) {
      if (r.empty()) continue;
      const auto& [kind, text] = r[0];
      if (kind == "step") {
        out << "==> " << text << "\n";
      } else if (kind == "warning" || kind == "error") {
        out << (kind == "error" ? "ERROR: " : "WARNING: ") << text << "\n";
      } else {
        out << text << "\n";
      }
    }
  } else if (command == "get") {
    for (const Row& r : rows) out << FieldOf(r, "value") << "\n";
  } else if (command == "scan") {
    for (const Row& r : rows) out << FieldOf(r, "key") << " " << FieldOf(r, "value") << "\n";
  } else if ((command == "put" || command == "del" || command == "txn" || command == "configure" ||
              command == "user-add") &&
             rows.size() == 1 && !FieldOf(rows[0], "sequence").empty()) {
    out << "Committed at Journal " << FieldOf(rows[0], "journal") << ", Sequence "
        << FieldOf(rows[0], "sequence") << ".\n";
  } else if (command == "configure" && !rows.empty() && !FieldOf(rows[0], "source").empty()) {
    // show -a: NAME VALUE (DEFAULT) SOURCE
    size_t width = 0;
    for (const Row& r : rows) width = std::max(width, FieldOf(r, "name").size());
    for (const Row& r : rows) {
      std::string name(FieldOf(r, "name"));
      name.resize(width + 2, ' ');
      std::string value(FieldOf(r, "value"));
      out << name << (value.empty() ? "(none)" : value);
      std::string_view fallback = FieldOf(r, "default");
      if (FieldOf(r, "source") != "default") {
        out << "  (default " << (fallback.empty() ? "none" : fallback) << ")";
      }
      out << "  [" << FieldOf(r, "source") << "; " << FieldOf(r, "scope") << ", "
          << FieldOf(r, "takesEffect") << "]\n";
    }
  } else if (command == "configure" && (rows.empty() || !FieldOf(rows[0], "name").empty())) {
    for (const Row& r : rows) out << FieldOf(r, "name") << "=" << FieldOf(r, "value") << "\n";
  } else if (command == "pull" && rows.size() == 1 && !FieldOf(rows[0], "replicaJournal").empty()) {
    const Row& r = rows[0];
    out << "Current replica journal state is:\tJournal " << FieldOf(r, "replicaJournal")
        << ",\tSequence " << FieldOf(r, "replicaSequence") << ".\n"
        << "Current master journal state is:\tJournal " << FieldOf(r, "masterJournal")
        << ",\tSequence " << FieldOf(r, "masterSequence") << ".\n"
        << "Journalcopy position: " << FieldOf(r, "journalcopy")
        << "   applied: " << FieldOf(r, "applied") << "   release: " << FieldOf(r, "release")
        << "\n"
        << "Lag: " << FieldOf(r, "bytesBehind") << " bytes, " << FieldOf(r, "secondsSinceData")
        << " s since the last data" << (FieldOf(r, "connected") == "1" ? "" : "   (NOT CONNECTED)")
        << "\n";
    if (!FieldOf(r, "pullUFiles").empty()) {
      out << "pull -u backlog: " << FieldOf(r, "pullUFiles") << " files, "
          << FieldOf(r, "pullUBytes") << " bytes\n";
    }
    if (!FieldOf(r, "lastError").empty()) out << "Last error: " << FieldOf(r, "lastError") << "\n";
  } else if (command == "server" && rows.size() == 1 && !FieldOf(rows[0], "spec").empty()) {
    out << FieldOf(rows[0], "spec");
  } else if (command == "servers") {
    // One row per server; the master's own row has no pull -u backlog.
    auto line = [&](std::initializer_list<std::string_view> cols) {
      static constexpr int kWidth[] = {14, 18, 12, 6, 16, 16, 12, 12, 0};
      size_t i = 0;
      for (std::string_view c : cols) {
        std::string cell(c);
        if (kWidth[i] > 0 && cell.size() < static_cast<size_t>(kWidth[i]))
          cell.resize(kWidth[i], ' ');
        out << cell << (i + 1 < cols.size() ? " " : "\n");
        ++i;
      }
    };
    line({"ServerID", "Type", "Mandatory", "Alive", "Journalcopy", "Applied", "Lag(bytes)",
          "LastSeen(s)", "PullU(files)"});
    for (const Row& r : rows) {
      std::string_view backlog = FieldOf(r, "pullUFiles");
      line({FieldOf(r, "serverID"), FieldOf(r, "type"), FieldOf(r, "mandatory"),
            FieldOf(r, "alive"), FieldOf(r, "journalcopy"), FieldOf(r, "applied"),
            FieldOf(r, "lagBytes"), FieldOf(r, "lastSeenSecondsAgo"),
            backlog.empty() ? "-" : backlog});
    }
  } else if (command == "files" || command == "filelog" || command == "submit") {
    for (const Row& r : rows) {
      out << FieldOf(r, "depotFile") << "#" << FieldOf(r, "rev") << " change "
          << FieldOf(r, "change") << " " << FieldOf(r, "fileSize") << " bytes "
          << FieldOf(r, "digest") << "\n";
    }
  } else if (command == "verify") {
    for (const Row& r : rows) {
      std::string_view st = FieldOf(r, "status");
      out << FieldOf(r, "depotFile") << "#" << FieldOf(r, "rev") << " - " << FieldOf(r, "digest")
          << " " << FieldOf(r, "fileSize");
      if (st != "ok") out << " " << st;
      out << "\n";
    }
  } else if (command == "journaldbchecksums" && !rows.empty() &&
             !FieldOf(rows[0], "verdict").empty()) {
    out << "Checksum marker applied at Journal " << FieldOf(rows[0], "journal") << ", Sequence "
        << FieldOf(rows[0], "sequence") << ":\n";
    for (const Row& r : rows) {
      out << FieldOf(r, "table") << " " << FieldOf(r, "verdict") << " " << FieldOf(r, "actual")
          << " rows=" << FieldOf(r, "rows") << "\n";
    }
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

}  // namespace tandem
