#include "transport/message.h"

#include "journal/coding.h"

namespace tandem {
namespace {

constexpr uint32_t kMaxArgs = 1u << 20;

}  // namespace

std::string EncodeRequest(const Request& req) {
  std::string out;
  PutLengthPrefixed(&out, req.user);
  PutLengthPrefixed(&out, req.ticket);
  PutFixed32(&out, static_cast<uint32_t>(req.args.size()));
  for (const auto& a : req.args) PutLengthPrefixed(&out, a);
  return out;
}

Result<Request> DecodeRequest(std::string_view body) {
  Decoder d(body);
  std::string_view user, ticket;
  uint32_t argc;
  if (!d.GetLengthPrefixed(&user) || !d.GetLengthPrefixed(&ticket) || !d.GetFixed32(&argc)) {
    return Status::Corruption("malformed request header");
  }
  if (argc > kMaxArgs || argc > d.remaining()) return Status::Corruption("request argc too large");
  Request req{std::string(user), std::string(ticket), {}};
  req.args.reserve(argc);
  for (uint32_t i = 0; i < argc; ++i) {
    std::string_view a;
    if (!d.GetLengthPrefixed(&a)) return Status::Corruption("truncated request argument");
    req.args.emplace_back(a);
  }
  if (!d.empty()) return Status::Corruption("trailing bytes in request");
  return req;
}

std::optional<std::pair<std::string_view, std::string_view>> PeekRequestCredentials(
    std::string_view body_prefix) {
  Decoder d(body_prefix);
  std::string_view user, ticket;
  if (!d.GetLengthPrefixed(&user) || !d.GetLengthPrefixed(&ticket)) return std::nullopt;
  return std::make_pair(user, ticket);
}

std::string EncodeResponse(const Response& resp) {
  std::string out;
  PutFixed32(&out, static_cast<uint32_t>(resp.status.code()));
  PutLengthPrefixed(&out, resp.status.message());
  PutFixed32(&out, static_cast<uint32_t>(resp.rows.size()));
  for (const Row& row : resp.rows) {
    PutFixed32(&out, static_cast<uint32_t>(row.size()));
    for (const auto& [name, value] : row) {
      PutLengthPrefixed(&out, name);
      PutLengthPrefixed(&out, value);
    }
  }
  return out;
}

Result<Response> DecodeResponse(std::string_view body) {
  Decoder d(body);
  uint32_t code, nrows;
  std::string_view message;
  if (!d.GetFixed32(&code) || !d.GetLengthPrefixed(&message) || !d.GetFixed32(&nrows)) {
    return Status::Corruption("malformed response header");
  }
  if (code > static_cast<uint32_t>(kLastCode)) return Status::Corruption("unknown status code");
  if (nrows > d.remaining()) return Status::Corruption("response row count too large");
  Response resp;
  resp.status = Status(static_cast<Code>(code), std::string(message));
  resp.rows.reserve(nrows);
  for (uint32_t r = 0; r < nrows; ++r) {
    uint32_t nfields;
    if (!d.GetFixed32(&nfields) || nfields > d.remaining()) {
      return Status::Corruption("malformed response row");
    }
    Row row;
    for (uint32_t f = 0; f < nfields; ++f) {
      std::string_view name, value;
      if (!d.GetLengthPrefixed(&name) || !d.GetLengthPrefixed(&value)) {
        return Status::Corruption("truncated response field");
      }
      row.emplace_back(name, value);
    }
    resp.rows.push_back(std::move(row));
  }
  if (!d.empty()) return Status::Corruption("trailing bytes in response");
  return resp;
}

std::string_view FieldOf(const Row& row, std::string_view name) {
  for (const auto& [n, v] : row) {
    if (n == name) return v;
  }
  return {};
}

}  // namespace tandem
