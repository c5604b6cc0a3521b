#include "tests/integration/tcp_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

namespace tandem::testing {

TcpProxy::TcpProxy(uint16_t target_port) : target_port_(target_port) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::listen(listen_fd_, 16);
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

TcpProxy::~TcpProxy() {
  stopping_ = true;
  Cut();
  ::shutdown(listen_fd_, SHUT_RDWR);
  ::close(listen_fd_);
  acceptor_.join();
  std::unique_lock lock(mu_);
  idle_.wait(lock, [this] { return pipes_ == 0; });
}

void TcpProxy::Set(const std::string& source, Mode mode) {
  std::lock_guard lock(mu_);
  modes_[source] = mode;
  if (mode != Mode::kCut) return;
  for (const auto& link : links_) {
    if (source.empty() || link->source == source) {
      ::shutdown(link->client, SHUT_RDWR);
      if (link->upstream >= 0) ::shutdown(link->upstream, SHUT_RDWR);
    }
  }
}

TcpProxy::Mode TcpProxy::ModeLocked(const std::string& source) const {
  auto all = modes_.find("");
  if (all != modes_.end() && all->second != Mode::kPass) return all->second;
  auto one = modes_.find(source);
  return one == modes_.end() ? Mode::kPass : one->second;
}

TcpProxy::Mode TcpProxy::ModeFor(const std::string& source) {
  std::lock_guard lock(mu_);
  return ModeLocked(source);
}

void TcpProxy::Restore(const std::string& source_ip) {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<Link>> silenced;
  for (const auto& link : links_) {
    if (ModeLocked(link->source) == Mode::kBlackHole) silenced.push_back(link);
  }
  if (source_ip.empty()) {
    modes_.clear();
  } else {
    modes_.erase(source_ip);
  }
  // Only links that pass again are closed: one still under a fault of the
  // whole proxy stays as silent as it was.
  for (const auto& link : silenced) {
    if (ModeLocked(link->source) != Mode::kPass) continue;
    ::shutdown(link->client, SHUT_RDWR);
    if (link->upstream >= 0) ::shutdown(link->upstream, SHUT_RDWR);
  }
}

void TcpProxy::AcceptLoop() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    sockaddr_in from{};
    socklen_t from_len = sizeof from;
    int client = ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&from), &from_len, SOCK_CLOEXEC);
    if (client < 0) continue;
    auto link = std::make_shared<Link>();
    char ip[INET_ADDRSTRLEN] = "";
    ::inet_ntop(AF_INET, &from.sin_addr, ip, sizeof ip);
    link->source = ip;
    Mode mode = ModeFor(link->source);
    if (mode == Mode::kCut) {
      ::close(client);
      continue;
    }
    link->client = client;
    if (mode == Mode::kPass) {  // black-holed: accepted, and then nothing
      int upstream = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      addr.sin_port = htons(target_port_);
      if (::connect(upstream, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(client);
        ::close(upstream);
        continue;
      }
      link->upstream = upstream;
    }
    Start(std::move(link));
  }
}

void TcpProxy::Start(std::shared_ptr<Link> link) {
  std::lock_guard lock(mu_);
  links_.push_back(link);
  link->open_ends = link->upstream >= 0 ? 2 : 1;
  pipes_ += link->open_ends;
  std::thread([this, link] { Pipe(link, link->client, link->upstream); }).detach();
  if (link->upstream >= 0) {
    std::thread([this, link] { Pipe(link, link->upstream, link->client); }).detach();
  }
}

void TcpProxy::Pipe(std::shared_ptr<Link> link, int from, int to) {
  char buf[64 * 1024];
  for (;;) {
    ssize_t n = ::recv(from, buf, sizeof buf, 0);
    if (n <= 0) break;
    Mode mode = ModeFor(link->source);
    if (mode == Mode::kCut) break;
    if (mode == Mode::kBlackHole || to < 0) continue;  // swallowed
    if (::send(to, buf, static_cast<size_t>(n), MSG_NOSIGNAL) != n) break;
  }
  ::shutdown(from, SHUT_RDWR);
  if (to >= 0) ::shutdown(to, SHUT_RDWR);
  Finish(link);
}

void TcpProxy::Finish(const std::shared_ptr<Link>& link) {
  std::lock_guard lock(mu_);
  if (--link->open_ends == 0) {
    links_.erase(std::remove(links_.begin(), links_.end(), link), links_.end());
    ::close(link->client);
    if (link->upstream >= 0) ::close(link->upstream);
  }
  if (--pipes_ == 0) idle_.notify_all();
}

}  // namespace tandem::testing
