#include "tests/chaos/load.h"

#include <chrono>
#include <optional>

#include "transport/client.h"
#include "transport/hello.h"

namespace tandem::chaos {
namespace {

using std::chrono::milliseconds;

struct Master {
  Address address;
  uint32_t epoch;
};

std::optional<Master> FindMaster(const std::vector<std::string>& addresses) {
  std::optional<Master> best;
  for (const std::string& text : addresses) {
    auto a = Address::Parse(text);
    if (!a.ok()) continue;
    auto h = SayHello(*a, milliseconds(500), "");
    if (h.ok() && h->is_master() && (!best || h->epoch > best->epoch)) best = Master{*a, h->epoch};
  }
  return best;
}

}  // namespace

Load::Load(std::vector<std::string> addresses, int clients) : addresses_(std::move(addresses)) {
  for (int c = 0; c < clients; ++c) threads_.emplace_back([this, c] { Client(c); });
}

Load::~Load() { Stop(); }

void Load::Stop() {
  stop_ = true;
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

void Load::Client(int id) {
  std::optional<Master> master;
  std::unique_ptr<tandem::Client> conn;
  // Bounded: a cycle's load lasts seconds; 100000 writes is far beyond it.
  for (int seq = 0; seq < 100000 && !stop_; ++seq) {
    if (!conn) {
      master = FindMaster(addresses_);
      ClientOptions options;
      options.connect_timeout = options.io_timeout = milliseconds(2000);
      if (master) {
        auto c = tandem::Client::Connect(master->address, options);
        if (c.ok()) conn = std::move(c).value();
      }
      if (!conn) {
        std::this_thread::sleep_for(milliseconds(50));
        continue;
      }
    }
    std::string key = "c" + std::to_string(id) + "-" + std::to_string(seq);
    {
      std::lock_guard lock(mu_);
      attempted_.insert(key);
    }
    auto r = conn->Call({"", "", {"put", "kv", key, key}}, milliseconds(8000));
    if (r.ok() && r->status.ok()) {
      std::lock_guard lock(mu_);
      acked_[key] = Ack{master->address.ToString(), master->epoch};
    } else {
      conn.reset();  // find the master again
    }
  }
}

}  // namespace tandem::chaos
