// What the dispatcher fuzz targets share: the argv from the fuzzer's bytes,
// and one dispatch that waits a little for its answer, not for ever.
#pragma once

#include <chrono>
#include <future>
#include <memory>
#include <string_view>

#include "transport/dispatcher.h"

namespace tandem::fuzzing {

// `bytes`, split at '\n', as the argv of a request from `user` (at most 32
// arguments).
inline Request RequestOf(std::string user, std::string ticket, std::string_view bytes) {
  Request req{std::move(user), std::move(ticket), {}};
  while (req.args.size() < 32) {
    size_t nl = bytes.find('\n');
    req.args.emplace_back(bytes.substr(0, nl));
    if (nl == std::string_view::npos) break;
    bytes.remove_prefix(nl + 1);
  }
  return req;
}

// Some commands answer from other threads (the journal writer, a failover,
// a reseed), and a fuzzed `configure` may stall the mandatory gate on
// purpose: wait half a second at most.
inline void DispatchAndWait(Dispatcher* dispatcher, const Request& req) {
  auto answered = std::make_shared<std::promise<void>>();
  auto future = answered->get_future();
  dispatcher->Dispatch(req, true, "fuzz", [answered](Response) {
    try {
      answered->set_value();
    } catch (...) {  // answered twice: the fuzzer has found a bug elsewhere
    }
  });
  future.wait_for(std::chrono::milliseconds(500));
}

}  // namespace tandem::fuzzing
