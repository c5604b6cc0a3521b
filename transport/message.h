// The typed messages carried in frames.
//
// Request  body: lpstr user, lpstr ticket, u32 argc, argc x lpstr arg
// Response body: u32 code, lpstr message, u32 rows, per row: u32 fields,
//                fields x (lpstr name, lpstr value)
//
// A command is its argv (argv[0] is the command name); results are rows of
// named fields so that the client can print them as text or JSON.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "journal/status.h"
#include "transport/frame.h"

namespace tandem {

struct Request {
  std::string user;
  std::string ticket;
  std::vector<std::string> args;
};

using Row = std::vector<std::pair<std::string, std::string>>;

// Where a Stream sends its frames. Callable from any thread.
class FrameSink {
 public:
  virtual ~FrameSink() = default;
  virtual void SendFrame(MessageType type, std::string body) = 0;
  virtual void CloseWith(const std::string& reason) = 0;
  // Runs fn on the connection's strand (serialized with the Stream's calls),
  // after `delay`.
  virtual void Post(std::function<void()> fn,
                    std::chrono::milliseconds delay = std::chrono::milliseconds(0)) = 0;
};

// A long-lived exchange that takes over a connection once the response to
// its opening request has been sent (e.g. a journal stream to a standby).
// Its methods are called on the connection's strand, one at a time. The
// connection owns the stream: a stream keeps its sink as a weak_ptr.
class Stream {
 public:
  virtual ~Stream() = default;
  virtual void Start(std::shared_ptr<FrameSink> sink) = 0;
  // A frame from the peer; returning an error closes the connection with it.
  virtual Status OnFrame(MessageType type, std::string_view body) = 0;
  virtual void OnClose() = 0;
};

struct Response {
  Status status;
  std::vector<Row> rows;
  // Not sent: runs on the server once the response is on the wire.
  std::function<void()> after_send;
  // Not sent: takes over the connection after the response.
  std::shared_ptr<Stream> stream;

  static Response Error(Status st) { return Response{std::move(st), {}, nullptr, nullptr}; }
  static Response Rows(std::vector<Row> rows) {
    return Response{Status::Ok(), std::move(rows), nullptr, nullptr};
  }
};

std::string EncodeRequest(const Request& req);
Result<Request> DecodeRequest(std::string_view body);
// The user and ticket at the start of a request body, from its first bytes;
// nullopt until enough of them are there (or if they are malformed).
std::optional<std::pair<std::string_view, std::string_view>> PeekRequestCredentials(
    std::string_view body_prefix);
std::string EncodeResponse(const Response& resp);
Result<Response> DecodeResponse(std::string_view body);

// Value of a field in a row, or empty.
std::string_view FieldOf(const Row& row, std::string_view name);

}  // namespace tandem
