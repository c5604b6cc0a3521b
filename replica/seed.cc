#include "replica/seed.h"

#include <fcntl.h>
#include <unistd.h>

#include "journal/checkpoint.h"
#include "journal/file.h"
#include "journal/log.h"

namespace tandem {

Result<uint32_t> FetchCheckpoint(const RootLayout& layout, const UpstreamOptions& upstream) {
  TANDEM_ASSIGN_OR_RETURN(UpstreamConnection conn, ConnectUpstream(upstream));
  Client* client = conn.client.get();
  const std::string& ticket = conn.ticket;
  TANDEM_RETURN_IF_ERROR(layout.EnsureDirs());
  std::string name = "-", md5, tmp;
  uint64_t offset = 0, size = 0;
  File out;
  do {
    TANDEM_ASSIGN_OR_RETURN(
        Response r,
        client->Call({upstream.user, ticket, {"checkpoint-fetch", name, std::to_string(offset)}}));
    if (!r.status.ok()) return r.status;
    const Row& row = r.rows.at(0);
    if (name == "-") {
      name = std::string(FieldOf(row, "name"));
      md5 = std::string(FieldOf(row, "md5"));
      size = std::stoull(std::string(FieldOf(row, "size")));
      tmp = layout.checkpoint_dir() + "/" + name + ".fetch";
      TANDEM_ASSIGN_OR_RETURN(out, File::Open(tmp, O_WRONLY | O_CREAT | O_TRUNC));
      LogInfo() << "seeding from " << upstream.target.ToString() << ": fetching " << name << " ("
                << size << " bytes)";
    }
    std::string_view data = FieldOf(row, "data");
    if (data.empty() && offset < size)
      return Status::Unavailable("checkpoint fetch made no progress");
    TANDEM_RETURN_IF_ERROR(out.PWriteAll(data, offset));
    offset += data.size();
  } while (offset < size);
  TANDEM_RETURN_IF_ERROR(out.Sync());
  TANDEM_RETURN_IF_ERROR(out.Close());
  std::string path = layout.checkpoint_dir() + "/" + name;
  TANDEM_RETURN_IF_ERROR(WriteFileDurably(path + ".md5", md5 + "  " + name + "\n"));
  TANDEM_RETURN_IF_ERROR(RenameDurably(tmp, path));
  // Verify digest and content before anything relies on it.
  auto loaded = ReadCheckpoint(path);
  if (!loaded.ok()) {
    (void)RemoveFile(path);
    (void)RemoveFile(path + ".md5");
    return loaded.status().Annotate("seeding");
  }
  LogInfo() << "seeded from " << name << ": state at the start of journal " << loaded->meta.journal;
  return loaded->meta.journal;
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
