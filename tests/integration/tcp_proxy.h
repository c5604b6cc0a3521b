// A loopback TCP proxy that a test can cut and restore: a network partition
// between two real processes without touching the network. Cut() resets
// (every connection through it is closed, new ones are refused); BlackHole()
// is silent (connections stay open and new ones are accepted, but no byte
// gets through in either direction: what a peer behind a dead link or a
// hung host looks like).
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tandem::testing {

class TcpProxy {
 public:
  // Forwards 127.0.0.1:<port()> to `target_port` on 127.0.0.1.
  explicit TcpProxy(uint16_t target_port);
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  void Cut();
  void BlackHole();
  // Ends either mode; connections black-holed meanwhile are closed, as
  // their peers would have timed out by now.
  void Restore();

 private:
  // One proxied connection: closed, and forgotten, when both directions end.
  struct Link {
    int client = -1;
    int upstream = -1;
    std::atomic<int> open_ends{0};
  };
  void AcceptLoop();
  void Start(std::shared_ptr<Link> link);
  void Pipe(std::shared_ptr<Link> link, int from, int to);
  void Finish(const std::shared_ptr<Link>& link);

  uint16_t target_port_;
  uint16_t port_ = 0;
  int listen_fd_ = -1;
  std::atomic<bool> cut_{false};
  std::atomic<bool> black_hole_{false};
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::condition_variable idle_;
  std::vector<int> fds_;  // of open links, guarded by mu_
  int pipes_ = 0;         // running Pipe threads, guarded by mu_
  std::thread acceptor_;
};

}  // namespace tandem::testing
