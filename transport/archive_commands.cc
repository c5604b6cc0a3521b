#include "transport/archive_commands.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <set>
#include <sstream>

#include <fcntl.h>

#include "journal/archive_store.h"
#include "journal/file.h"
#include "journal/numbers.h"
#include "transport/content_protocol.h"

namespace tandem {
namespace {

struct RevRow {
  std::string path;
  uint64_t rev = 0;
  ArchiveEntry entry;
  std::string time;
  std::string change;
};

std::optional<RevRow> ParseRev(std::string_view key, std::string_view value) {
  auto hash = key.rfind('#');
  if (hash == std::string_view::npos) return std::nullopt;
  RevRow r;
  r.path = key.substr(0, hash);
  auto rev = ParseDecimal<uint64_t>(key.substr(hash + 1));
  if (!rev) return std::nullopt;
  r.rev = *rev;
  std::istringstream in{std::string(value)};
  in >> r.entry.md5 >> r.entry.size >> r.time >> r.change;
  if (!in || !ParseDecimal<int64_t>(r.time)) return std::nullopt;
  return r;
}

Row RevToRow(const RevRow& r) {
  return {{"depotFile", r.path},
          {"rev", std::to_string(r.rev)},
          {"change", r.change},
          {"digest", r.entry.md5},
          {"fileSize", std::to_string(r.entry.size)},
          {"time", r.time}};
}

Result<RevRow> LookupRev(const Tables& tables, std::string_view spec) {
  std::string path(spec);
  uint64_t rev = 0;
  if (auto hash = spec.rfind('#'); hash != std::string_view::npos) {
    path = spec.substr(0, hash);
    TANDEM_ASSIGN_OR_RETURN(rev, ParseDecimal<uint64_t>(spec.substr(hash + 1), "revision"));
  }
  TANDEM_RETURN_IF_ERROR(ValidateDepotPath(path));
  if (rev == 0) {
    auto head = tables.Get(kHeadTable, path);
    if (!head) return Status::NotFound(path + " - no such file");
    auto parsed = ParseDecimal<uint64_t>(*head);
    if (!parsed) return Status::Corruption("unreadable head revision for " + path);
    rev = *parsed;
  }
  auto value = tables.Get(kRevTable, RevisionKey(path, rev));
  if (!value) return Status::NotFound(path + "#" + std::to_string(rev) + " - no such revision");
  auto row = ParseRev(RevisionKey(path, rev), *value);
  if (!row) return Status::Corruption("unreadable revision row for " + path);
  return *row;
}

}  // namespace

std::string RevisionKey(std::string_view path, uint64_t rev) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%010llu", static_cast<unsigned long long>(rev));
  return std::string(path) + "#" + buf;
}

std::optional<ArchiveEntry> ArchiveEntryOfRevision(std::string_view value) {
  std::istringstream in{std::string(value)};
  ArchiveEntry e;
  in >> e.md5 >> e.size;
  if (!in || e.md5.size() != 32) return std::nullopt;
  return e;
}

Status ValidateDepotPath(std::string_view path) {
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("bad depot path: " + why + " (expected //depot/dir/file)");
  };
  if (path.size() > 1024) return bad("longer than 1024 bytes");
  if (path.size() < 3 || path.substr(0, 2) != "//") return bad("must start with //");
  if (path.find_first_of(std::string_view("\0\\#@", 4)) != std::string_view::npos) {
    return bad("NUL, '\\', '#' and '@' are not allowed");
  }
  if (std::any_of(path.begin(), path.end(),
                  [](unsigned char c) { return c < 0x20 || c == 0x7f; })) {
    return bad("control characters are not allowed");
  }
  size_t start = 2;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view seg = path.substr(start, end - start);
    if (seg.empty()) return bad("empty path segment");
    if (seg == "." || seg == "..") return bad("'.' and '..' are not allowed");
    start = end + 1;
  }
  return Status::Ok();
}

std::vector<Row> VerifyArchive(const Tables& tables, const ArchiveStore& archive,
                               const std::string& prefix, bool quiet,
                               const std::function<void(const ArchiveEntry&)>& on_bad) {
  std::vector<Row> rows;
  for (const auto& [key, value] : tables.Scan(kRevTable, prefix, SIZE_MAX)) {
    auto rev = ParseRev(key, value);
    if (!rev) continue;
    Status st = archive.Verify(rev->entry);
    if (!st.ok() && on_bad) on_bad(rev->entry);
    if (quiet && st.ok()) continue;
    Row row = RevToRow(*rev);
    row.emplace_back("status", st.ok() ? "ok" : st.code() == Code::kNotFound ? "MISSING!" : "BAD!");
    rows.push_back(std::move(row));
  }
  return rows;
}

std::vector<Row> VerifyRecentRevisions(const Tables& tables, const ArchiveStore& archive,
                                       int64_t since_unix) {
  std::vector<Row> rows;
  for (const auto& [key, value] : tables.Scan(kRevTable, "", SIZE_MAX)) {
    auto rev = ParseRev(key, value);
    if (!rev || *ParseDecimal<int64_t>(rev->time) < since_unix) continue;
    Status st = archive.Verify(rev->entry);
    if (st.ok()) continue;
    Row row = RevToRow(*rev);
    row.emplace_back("status", st.code() == Code::kNotFound ? "MISSING!" : "BAD!");
    rows.push_back(std::move(row));
  }
  return rows;
}

std::vector<std::string> OrphanArchiveFiles(const Tables& tables, const std::string& archive_dir) {
  std::set<std::string> named;
  for (const auto& [key, value] : tables.Scan(kRevTable, "", SIZE_MAX)) {
    if (auto e = ArchiveEntryOfRevision(value)) named.insert(e->md5);
  }
  std::vector<std::string> orphans;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(archive_dir, ec);
       it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    const auto& f = *it;
    if (f.is_directory() && f.path().filename() == "tmp") {
      it.disable_recursion_pending();  // uploads and transfers under way
      continue;
    }
    if (!f.is_regular_file()) continue;
    std::string name = f.path().filename().string();
    std::string md5 = name.substr(0, name.find('.'));
    if (!named.count(md5)) orphans.push_back(f.path().string());
  }
  return orphans;
}

void RegisterArchiveReadCommands(const Tables* tables, std::string root, Dispatcher* d) {
  auto archive = std::make_shared<ArchiveStore>(root + "/archive");
  d->Register(
      "print",
      {AccessLevel::kRead, true, true,
       [tables, archive](const RequestContext&, const auto& args, Reply reply) {
         if (args.size() != 1)
           return reply(Response::Error(Status::InvalidArgument("usage: print DEPOTPATH[#REV]")));
         auto rev = LookupRev(*tables, args[0]);
         if (!rev.ok()) return reply(Response::Error(rev.status()));
         // The client fetches the content itself (archive-fetch), in chunks.
         if (auto stored = archive->StoredName(rev->entry.md5); !stored.ok()) {
           return reply(Response::Error(
               stored.status().code() == Code::kNotFound
                   ? Status::NotFound(rev->path + "#" + std::to_string(rev->rev) +
                                      ": content not (yet) in this server's archive")
                   : stored.status()));
         }
         reply(Response::Rows({RevToRow(*rev)}));
       }});
  // print and pull -u read stored files in chunks (transport/content_protocol.h).
  d->Register(
      "archive-fetch",
      {AccessLevel::kRead, true, true,
       [archive](const RequestContext&, const auto& args, Reply reply) {
         if (args.size() != 2) {
           return reply(
               Response::Error(Status::InvalidArgument("usage: archive-fetch MD5 OFFSET")));
         }
         auto name = archive->StoredName(args[0]);
         if (!name.ok()) return reply(Response::Error(name.status()));
         auto file = File::Open(archive->PathForName(*name), O_RDONLY);
         if (!file.ok()) return reply(Response::Error(file.status()));
         auto parsed = ParseDecimal<uint64_t>(args[1], "OFFSET");
         if (!parsed.ok()) return reply(Response::Error(parsed.status()));
         uint64_t offset = *parsed;
         auto size_or = file->Size();
         uint64_t size = size_or.ok() ? *size_or : 0;
         std::string data(std::min<uint64_t>(size > offset ? size - offset : 0, kContentChunk),
                          '\0');
         auto n = file->PRead(data.data(), data.size(), offset);
         if (!n.ok()) return reply(Response::Error(n.status()));
         data.resize(*n);
         reply(Response::Rows(
             {{{"name", *name}, {"size", std::to_string(size)}, {"data", std::move(data)}}}));
       }});
  d->Register("files",
              {AccessLevel::kRead, false, true,
               [tables](const RequestContext&, const auto& args, Reply reply) {
                 std::string prefix = args.empty() ? "//" : args[0];
                 std::vector<Row> rows;
                 for (const auto& [path, head] : tables->Scan(kHeadTable, prefix, 100000)) {
                   if (auto rev = LookupRev(*tables, path + "#" + head); rev.ok())
                     rows.push_back(RevToRow(*rev));
                 }
                 reply(Response::Rows(std::move(rows)));
               },
               1, "files [PREFIX]"});
  d->Register(
      "filelog",
      {AccessLevel::kRead, false, true,
       [tables](const RequestContext&, const auto& args, Reply reply) {
         if (args.size() != 1)
           return reply(Response::Error(Status::InvalidArgument("usage: filelog DEPOTPATH")));
         if (Status st = ValidateDepotPath(args[0]); !st.ok()) return reply(Response::Error(st));
         std::vector<Row> rows;
         for (const auto& [key, value] : tables->Scan(kRevTable, args[0] + "#", 100000)) {
           if (auto rev = ParseRev(key, value)) rows.insert(rows.begin(), RevToRow(*rev));
         }
         if (rows.empty())
           return reply(Response::Error(Status::NotFound(args[0] + " - no such file")));
         reply(Response::Rows(std::move(rows)));
       }});
  d->Register("verify",
              {AccessLevel::kRead, true, true,
               [tables, archive, root](const RequestContext&, const auto& args, Reply reply) {
                 bool quiet = !args.empty() && args[0] == "-q";
                 if (args.size() > (quiet ? 2u : 1u)) {
                   return reply(Response::Error(
                       Status::InvalidArgument("usage: verify [-q] [PREFIX] (one PREFIX)")));
                 }
                 std::string prefix = args.size() > (quiet ? 1u : 0u) ? args[quiet ? 1 : 0] : "//";
                 std::vector<Row> rows = VerifyArchive(*tables, *archive, prefix, quiet, nullptr);
                 if (prefix == "//") {
                   for (const auto& path : OrphanArchiveFiles(*tables, root + "/archive")) {
                     rows.push_back(Row{{"depotFile", "(no revision)"},
                                        {"rev", "-"},
                                        {"digest", path},
                                        {"fileSize", "-"},
                                        {"status", "orphan"}});
                   }
                 }
                 reply(Response::Rows(std::move(rows)));
               },
               2, "verify [-q] [PREFIX]"});
}

}  // namespace tandem
