// The typed messages carried in frames.
//
// Request  body: lpstr user, lpstr ticket, u32 argc, argc x lpstr arg
// Response body: u32 code, lpstr message, u32 rows, per row: u32 fields,
//                fields x (lpstr name, lpstr value)
//
// A command is its argv (argv[0] is the command name); results are rows of
// named fields so that the client can print them as text or JSON.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "journal/status.h"

namespace tandem {

struct Request {
  std::string user;
  std::string ticket;
  std::vector<std::string> args;
};

using Row = std::vector<std::pair<std::string, std::string>>;

struct Response {
  Status status;
  std::vector<Row> rows;
  // Not sent: runs on the server once the response is on the wire.
  std::function<void()> after_send;

  static Response Error(Status st) { return Response{std::move(st), {}, nullptr}; }
  static Response Rows(std::vector<Row> rows) {
    return Response{Status::Ok(), std::move(rows), nullptr};
  }
};

std::string EncodeRequest(const Request& req);
Result<Request> DecodeRequest(std::string_view body);
std::string EncodeResponse(const Response& resp);
Result<Response> DecodeResponse(std::string_view body);

// Value of a field in a row, or empty.
std::string_view FieldOf(const Row& row, std::string_view name);

}  // namespace tandem
