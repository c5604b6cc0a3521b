// The client side of versioned content (transport/content_protocol.h):
// submit streams a file up; print and pull -u stream a stored file down.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "journal/file.h"
#include "transport/client.h"
#include "transport/message.h"

namespace tandem {

struct Credentials {
  std::string user;
  std::string ticket;
};

// Reads a source from `offset`: how many bytes went into `buf` (0 at its end).
using ContentSource = std::function<Result<size_t>(char* buf, size_t n, uint64_t offset)>;

// Submits `size` bytes from `source` as a new revision of `depot_path`; the
// answer is the revision row. The connection cannot be used afterwards.
Result<Row> SubmitContent(Client* client, const Credentials& who, const std::string& depot_path,
                          uint64_t size, const ContentSource& source);
Result<Row> SubmitFile(Client* client, const Credentials& who, const std::string& depot_path,
                       const std::string& local_path);

// Reads the stored file of `md5` from the server; `sink` gets its stored name
// ("MD5" or "MD5.gz") with every chunk of stored bytes.
Status FetchStored(Client* client, const Credentials& who, const std::string& md5,
                   const std::function<Status(const std::string& name, std::string_view)>& sink);

// print: streams a revision's content to `content`, verified against its
// digest at the end (so bad bytes may have reached `content` before the
// error). Returns the revision row.
Result<Row> PrintRevision(Client* client, const Credentials& who, const std::string& spec,
                          const ByteSink& content);

}  // namespace tandem
