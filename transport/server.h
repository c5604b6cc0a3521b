// The network server: Boost.Asio sessions speaking frames (transport/frame.h)
// over TCP or TLS, handing requests to a Dispatcher. One session per
// connection (transport/detail/session.h: request order, and the limits
// every connection lives within).
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "journal/address.h"
#include "journal/metrics.h"
#include "journal/status.h"
#include "transport/dispatcher.h"
#include "transport/frame.h"

namespace tandem {

struct ServerOptions {
  Address address;
  std::string ssl_dir;  // where the TLS key and certificate live (TLS addresses only)
  int network_threads = 2;
  int blocking_threads = 8;
  uint32_t max_frame_body = kMaxFrameBody;
  int max_connections = 1000;                          // server.maxconnections
  std::chrono::milliseconds idle_timeout{600 * 1000};  // server.idle.timeout (s)
  std::chrono::milliseconds frame_timeout{30 * 1000};  // server.frame.timeout (s)
};

class Server {
 public:
  // The dispatcher must outlive the server.
  Server(ServerOptions options, Dispatcher* dispatcher);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts accepting. Port 0 picks a free port; see bound().
  Status Start();
  Address bound() const;
  struct Counts {
    int sessions = 0;       // connections open now
    int not_logged_in = 0;  // of them, not yet authenticated
    uint64_t refused = 0;   // closed at once since start: too many open
  };
  Counts counts() const;
  // Blocks until Stop() is called (from any thread, or a signal).
  void Wait();
  void Stop();
  // Stops, then joins the network threads and the blocking pool: once it
  // returns no handler runs, and none will. The destructor does it too.
  void Shutdown();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tandem
