#include "tools/heartbeat.h"

#include <cstdlib>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

namespace tandem {
namespace {

void RunTrigger(const std::string& command, const std::string& target, int missed) {
  if (command.empty()) return;
  // Single-threaded here, so setenv is safe.
  ::setenv("TANDEM_HEARTBEAT_TARGET", target.c_str(), 1);
  ::setenv("TANDEM_HEARTBEAT_MISSED", std::to_string(missed).c_str(), 1);
  if (int rc = std::system(command.c_str()); rc != 0) {
    std::cerr << "heartbeat: trigger '" << command << "' exited " << rc << "\n";
  }
}

}  // namespace

int RunHeartbeat(const HeartbeatOptions& o) {
  const std::string target = o.target.ToString();
  std::unique_ptr<Client> client;
  int missed = 0;
  for (long n = 0; o.max == 0 || n < o.max; ++n) {
    Status st = Status::Ok();
    if (!client) {
      auto c = Client::Connect(o.target, o.client);
      if (c.ok()) {
        client = std::move(c).value();
      } else {
        st = c.status();
      }
    }
    if (client) {
      auto r = client->Call({o.user, o.ticket, {"info"}}, std::chrono::milliseconds(o.wait_ms));
      st = r.ok() ? r->status : r.status();
      if (!r.ok()) client.reset();  // reconnect next time
    }
    // --json: one object per event, per line, {"event", "target", "missed", "error"}.
    auto say = [&](const char* event, const std::string& text, const std::string& error) {
      if (o.json) {
        nlohmann::json j = {{"event", event},
                            {"target", target},
                            {"missed", missed},
                            {"error", error.empty() ? nlohmann::json() : nlohmann::json(error)}};
        std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
      } else {
        std::cout << "heartbeat: " << target << " " << text << std::endl;
      }
    };
    if (st.ok()) {
      if (missed > 0) {
        say("resumed", "resumed after " + std::to_string(missed) + " missed", "");
        RunTrigger(o.on_resumed, target, missed);
      }
      missed = 0;
    } else {
      ++missed;
      say("missing",
          "missing (" + std::to_string(missed) + " of " + std::to_string(o.missing) +
              "): " + st.message(),
          st.message());
      RunTrigger(o.on_missing, target, missed);
      if (missed >= o.missing) {
        say("dead", "is dead", st.message());
        RunTrigger(o.on_dead, target, missed);
        return 1;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(o.interval_ms));
  }
  return 0;
}

}  // namespace tandem
