// A loopback TCP proxy that a test can cut and restore: a network partition
// between two real processes without touching the network. Cut() resets
// (every connection through it is closed, new ones are refused); BlackHole()
// is silent (connections stay open and new ones are accepted, but no byte
// gets through in either direction: what a peer behind a dead link or a
// hung host looks like). Either may be for one source address only: with
// each server connecting from its own loopback address (net.source), that
// cuts the one link between two servers and leaves the others.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
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
  void Cut() { Set({}, Mode::kCut); }
  void BlackHole() { Set({}, Mode::kBlackHole); }
  // Only for connections from `source_ip` (e.g. "127.0.0.12").
  void Cut(const std::string& source_ip) { Set(source_ip, Mode::kCut); }
  void BlackHole(const std::string& source_ip) { Set(source_ip, Mode::kBlackHole); }
  // Ends every mode (or the one for `source_ip`); connections black-holed
  // meanwhile are closed, as their peers would have timed out by now.
  void Restore(const std::string& source_ip = "");

 private:
  enum class Mode { kPass, kCut, kBlackHole };
  // One proxied connection: closed, and forgotten, when both directions end.
  struct Link {
    std::string source;  // the client's IP address
    int client = -1;
    int upstream = -1;
    std::atomic<int> open_ends{0};
  };
  void Set(const std::string& source, Mode mode);  // "" : every source
  Mode ModeFor(const std::string& source);         // locks mu_
  Mode ModeLocked(const std::string& source) const;
  void AcceptLoop();
  void Start(std::shared_ptr<Link> link);
  void Pipe(std::shared_ptr<Link> link, int from, int to);
  void Finish(const std::shared_ptr<Link>& link);

  uint16_t target_port_;
  uint16_t port_ = 0;
  int listen_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::condition_variable idle_;
  std::map<std::string, Mode> modes_;         // by source, "" for all; guarded by mu_
  std::vector<std::shared_ptr<Link>> links_;  // open ones, guarded by mu_
  int pipes_ = 0;                             // running Pipe threads, guarded by mu_
  std::thread acceptor_;
};

}  // namespace tandem::testing
