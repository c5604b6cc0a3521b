#include "transport/content_client.h"

#include <fcntl.h>

#include <memory>

#include "journal/archive_store.h"
#include "journal/log.h"
#include "journal/numbers.h"
#include "transport/content_protocol.h"

namespace tandem {
namespace {

Status BadNumber(const std::string& what, std::string_view field, std::string_view value) {
  return Status::Corruption(what + ": the server's answer has a bad " + std::string(field) + " '" +
                            Escaped(value.substr(0, 64)) + "'");
}

Result<Response> ReadResponse(Client* client) {
  TANDEM_ASSIGN_OR_RETURN(auto frame, client->ReadFrame());
  if (frame.first != MessageType::kResponse) {
    return Status::Corruption("expected a response, got frame type " +
                              std::to_string(static_cast<int>(frame.first)));
  }
  return DecodeResponse(frame.second);
}

}  // namespace

Result<Row> SubmitContent(Client* client, const Credentials& who, const std::string& depot_path,
                          uint64_t size, const ContentSource& source) {
  TANDEM_ASSIGN_OR_RETURN(
      Response open,
      client->Call({who.user, who.ticket, {"submit", depot_path, std::to_string(size)}}));
  if (!open.status.ok()) return open.status;
  std::string chunk(kContentChunk, '\0');
  uint64_t sent = 0;
  size_t unanswered = 0;
  // An answer that is not an acknowledgement ends the upload: the revision,
  // or why the server gave up (a full disk, say) while chunks were in flight.
  auto answer = [&]() -> Result<Response> {
    TANDEM_ASSIGN_OR_RETURN(Response r, ReadResponse(client));
    if (!r.status.ok()) return r.status;
    if (!r.rows.empty() && !FieldOf(r.rows[0], "received").empty()) --unanswered;
    return r;
  };
  while (sent < size) {
    if (unanswered == kUploadWindow) {
      TANDEM_ASSIGN_OR_RETURN(Response r, answer());
      if (FieldOf(r.rows.at(0), "received").empty()) {
        return Status::Corruption("server ended the upload early");
      }
    }
    size_t want = static_cast<size_t>(std::min<uint64_t>(chunk.size(), size - sent));
    TANDEM_ASSIGN_OR_RETURN(size_t n, source(chunk.data(), want, sent));
    if (n == 0) {
      return Status::FailedPrecondition("content ended after " + std::to_string(sent) + " of " +
                                        std::to_string(size) + " bytes (changed while sent?)");
    }
    TANDEM_RETURN_IF_ERROR(
        client->SendFrame(MessageType::kContent, std::string_view(chunk.data(), n)));
    sent += n;
    ++unanswered;
  }
  for (;;) {
    TANDEM_ASSIGN_OR_RETURN(Response r, answer());
    if (r.rows.empty()) return Status::Corruption("empty answer to submit");
    if (FieldOf(r.rows[0], "received").empty()) return r.rows[0];
  }
}

Result<Row> SubmitFile(Client* client, const Credentials& who, const std::string& depot_path,
                       const std::string& local_path) {
  TANDEM_ASSIGN_OR_RETURN(File f, File::Open(local_path, O_RDONLY));
  TANDEM_ASSIGN_OR_RETURN(uint64_t size, f.Size());
  return SubmitContent(client, who, depot_path, size, [&f](char* buf, size_t n, uint64_t offset) {
    return f.PRead(buf, n, offset);
  });
}

Status FetchStored(Client* client, const Credentials& who, const std::string& md5,
                   const std::function<Status(const std::string& name, std::string_view)>& sink) {
  std::string name;
  uint64_t offset = 0, size = 0;
  do {
    TANDEM_ASSIGN_OR_RETURN(
        Response r,
        client->Call({who.user, who.ticket, {"archive-fetch", md5, std::to_string(offset)}}));
    if (!r.status.ok()) return r.status;
    if (r.rows.empty()) return Status::Corruption("empty answer to archive-fetch");
    const Row& row = r.rows[0];
    std::string this_name(FieldOf(row, "name"));
    if (this_name != md5 && this_name != md5 + ".gz") {
      return Status::Corruption("server sent " + this_name + " for " + md5);
    }
    if (name.empty()) {
      name = this_name;
      // A peer's number, checked: a bad one is the peer's error, never an
      // exception in a pull -u thread.
      auto parsed = ParseDecimal<uint64_t>(FieldOf(row, "size"));
      if (!parsed) return BadNumber("archive-fetch of " + md5, "size", FieldOf(row, "size"));
      size = *parsed;
    } else if (name != this_name) {
      return Status::Unavailable("stored file of " + md5 + " changed during the transfer");
    }
    std::string_view data = FieldOf(row, "data");
    if (data.empty() && offset < size) return Status::Unavailable("transfer made no progress");
    TANDEM_RETURN_IF_ERROR(sink(name, data));
    offset += data.size();
  } while (offset < size);
  return Status::Ok();
}

Result<Row> PrintRevision(Client* client, const Credentials& who, const std::string& spec,
                          const ByteSink& content) {
  TANDEM_ASSIGN_OR_RETURN(Response r, client->Call({who.user, who.ticket, {"print", spec}}));
  if (!r.status.ok()) return r.status;
  if (r.rows.empty()) return Status::Corruption("empty answer to print");
  Row row = r.rows[0];
  auto file_size = ParseDecimal<uint64_t>(FieldOf(row, "fileSize"));
  if (!file_size) return BadNumber("print " + spec, "fileSize", FieldOf(row, "fileSize"));
  ArchiveEntry entry{std::string(FieldOf(row, "digest")), *file_size};
  std::unique_ptr<ContentDecoder> decoder;
  TANDEM_RETURN_IF_ERROR(
      FetchStored(client, who, entry.md5, [&](const std::string& name, std::string_view stored) {
        if (!decoder) decoder = std::make_unique<ContentDecoder>(entry, name.ends_with(".gz"));
        return decoder->Write(stored, content);
      }));
  if (!decoder) decoder = std::make_unique<ContentDecoder>(entry, false);  // empty file
  if (Status st = decoder->Finish(); !st.ok()) {
    return st.Annotate(std::string(FieldOf(row, "depotFile")) + "#" +
                       std::string(FieldOf(row, "rev")) + ": content");
  }
  return row;
}

}  // namespace tandem
