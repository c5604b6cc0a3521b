// A small HTTP/1.1 endpoint for monitoring: GET only, one request per
// connection, bounded in size, time and connections, served on a thread of
// its own so that a slow scraper never holds up replication or clients.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "journal/address.h"
#include "journal/status.h"

namespace tandem {

struct HttpAnswer {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

class HttpEndpoint {
 public:
  // Answers a GET of `path` (the target without its query). Runs on the
  // endpoint's thread; must not block for long.
  using Handler = std::function<HttpAnswer(const std::string& path)>;

  // Binds `address` (port 0 picks one) and starts serving.
  static Result<std::unique_ptr<HttpEndpoint>> Start(const Address& address, Handler handler);
  ~HttpEndpoint();  // stops and joins
  HttpEndpoint(const HttpEndpoint&) = delete;
  HttpEndpoint& operator=(const HttpEndpoint&) = delete;

  Address bound() const;

 private:
  struct Impl;
  explicit HttpEndpoint(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tandem
