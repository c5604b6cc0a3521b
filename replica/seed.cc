#include "replica/seed.h"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "journal/checkpoint.h"
#include "journal/file.h"
#include "journal/log.h"
#include "journal/numbers.h"

namespace tandem {

namespace {

// ckp.N.gz: the only names a checkpoint may have (they come from the peer).
bool IsCheckpointName(std::string_view name) {
  if (!name.starts_with("ckp.") || !name.ends_with(".gz")) return false;
  return ParseDecimal<uint32_t>(name.substr(4, name.size() - 7)).has_value();
}

std::string MegabytesPerSecond(uint64_t bytes, std::chrono::steady_clock::duration took) {
  double s = std::chrono::duration<double>(took).count();
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MB/s", s > 0 ? static_cast<double>(bytes) / 1e6 / s : 0.0);
  return buf;
}

}  // namespace

Result<FetchedCheckpoint> FetchCheckpoint(const std::string& dir, const UpstreamOptions& upstream) {
  TANDEM_ASSIGN_OR_RETURN(UpstreamConnection conn, ConnectUpstream(upstream));
  TANDEM_RETURN_IF_ERROR(CreateDirs(dir));
  std::string name = "-", md5, tmp;
  uint64_t offset = 0, size = 0;
  auto started = std::chrono::steady_clock::now();
  auto reported = started;
  File out;
  auto fail = [&](Status st) {
    out = File();
    if (!tmp.empty()) (void)RemoveFile(tmp);
    return st.Annotate("fetching the checkpoint");
  };
  do {
    auto r = conn.client->Call(
        {conn.user, conn.ticket, {"checkpoint-fetch", name, std::to_string(offset)}});
    if (!r.ok()) return fail(r.status());
    if (!r->status.ok()) return fail(r->status);
    if (r->rows.empty()) return fail(Status::Corruption("the upstream's answer has no row"));
    const Row& row = r->rows[0];
    if (name == "-") {
      name = std::string(FieldOf(row, "name"));
      md5 = std::string(FieldOf(row, "md5"));
      auto parsed = ParseDecimal<uint64_t>(FieldOf(row, "size"), "checkpoint size");
      if (!IsCheckpointName(name)) {
        return fail(Status::Corruption("the upstream names its checkpoint '" + name.substr(0, 64) +
                                       "', not ckp.N.gz"));
      }
      if (!parsed.ok()) return fail(parsed.status());
      size = *parsed;
      tmp = dir + "/" + name + ".fetch";
      auto opened = File::Open(tmp, O_WRONLY | O_CREAT | O_TRUNC);
      if (!opened.ok()) return fail(opened.status());
      out = std::move(opened).value();
      LogInfo() << "fetching " << name << " (" << size << " bytes) from "
                << upstream.target.ToString();
    }
    std::string_view data = FieldOf(row, "data");
    if (data.empty() && offset < size) {
      return fail(Status::Unavailable("checkpoint fetch made no progress"));
    }
    if (data.size() > size - offset) return fail(Status::Corruption("more bytes than announced"));
    if (Status st = out.PWriteAll(data, offset); !st.ok()) return fail(st);
    offset += data.size();
    // A large seed (or reseed) says how far it is, every 5 s.
    if (auto now = std::chrono::steady_clock::now(); now - reported >= std::chrono::seconds(5)) {
      reported = now;
      LogInfo() << "fetching " << name << ": " << offset << " of " << size << " bytes, "
                << MegabytesPerSecond(offset, now - started);
    }
  } while (offset < size);
  if (Status st = out.Sync(); !st.ok()) return fail(st);
  out = File();
  std::string path = dir + "/" + name;
  Status st = WriteFileDurably(path + ".md5", md5 + "  " + name + "\n");
  if (st.ok()) st = RenameDurably(tmp, path);
  if (!st.ok()) return fail(st);
  // Verify digest and content before anything relies on it.
  auto loaded = ReadCheckpoint(path);
  if (!loaded.ok()) {
    (void)RemoveFile(path);
    (void)RemoveFile(path + ".md5");
    return loaded.status().Annotate("the fetched checkpoint");
  }
  LogInfo() << "fetched " << name << " (" << size << " bytes in "
            << std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - started)
                   .count()
            << " ms, " << MegabytesPerSecond(size, std::chrono::steady_clock::now() - started)
            << "): the state at the start of journal " << loaded->meta.journal;
  return FetchedCheckpoint{loaded->meta.journal, path};
}

Status ClearDownstreamState(const RootLayout& layout) {
  TANDEM_RETURN_IF_ERROR(RemoveTree(layout.rep_dir()));
  TANDEM_RETURN_IF_ERROR(RemoveTree(layout.checkpoint_dir()));
  for (const auto& f : {layout.state(), layout.statejcopy()}) TANDEM_RETURN_IF_ERROR(RemoveFile(f));
  TANDEM_RETURN_IF_ERROR(layout.EnsureDirs());
  TANDEM_RETURN_IF_ERROR(CreateDirs(layout.rep_dir()));
  return SyncDir(layout.root());
}

}  // namespace tandem
