#include "transport/hello.h"

#include "journal/numbers.h"
#include "transport/client.h"
#include "transport/deadline.h"

namespace tandem {

Result<HelloAnswer> SayHello(const Address& address, std::chrono::milliseconds timeout,
                             const std::string& source) {
  ClientOptions options;
  options.accept_unknown = true;
  options.source = source;
  options.connect_timeout = options.io_timeout = timeout;
  Deadline deadline(timeout);
  TANDEM_ASSIGN_OR_RETURN(auto client, Client::Connect(address, options));
  TANDEM_ASSIGN_OR_RETURN(Response r, client->Call({"", "", {"hello"}}, deadline.Left()));
  const std::string where = address.ToString();
  if (!r.status.ok()) return r.status.Annotate("hello to " + where);
  if (r.rows.empty()) return Status::Corruption(where + " answered hello with nothing");
  const Row& row = r.rows[0];
  HelloAnswer answer;
  answer.server_id = std::string(FieldOf(row, "serverID"));
  answer.role = std::string(FieldOf(row, "role"));
  answer.address = std::string(FieldOf(row, "address"));
  auto epoch = ParseDecimal<uint32_t>(FieldOf(row, "epoch"), "hello epoch");
  if (!epoch.ok()) return epoch.status().Annotate(where);
  answer.epoch = *epoch;
  answer.upstream = std::string(FieldOf(row, "upstream"));
  answer.upstream_role = std::string(FieldOf(row, "upstreamRole"));
  answer.new_master = std::string(FieldOf(row, "newMaster"));
  if (std::string_view heard = FieldOf(row, "heardMsAgo"); !heard.empty()) {
    auto ms = ParseDecimal<int64_t>(heard, "hello heardMsAgo");
    if (!ms.ok()) return ms.status().Annotate(where);
    answer.heard_ms_ago = *ms;
  }
  return answer;
}

}  // namespace tandem
