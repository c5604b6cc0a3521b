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

void TcpProxy::Cut() {
  cut_ = true;
  std::lock_guard lock(mu_);
  for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
}

void TcpProxy::BlackHole() { black_hole_ = true; }

void TcpProxy::Restore() {
  if (black_hole_.exchange(false)) {
    std::lock_guard lock(mu_);
    for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
  }
  cut_ = false;
}

void TcpProxy::AcceptLoop() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    if (cut_) {
      ::close(client);
      continue;
    }
    auto link = std::make_shared<Link>();
    link->client = client;
    if (!black_hole_) {  // black-holed: accepted, and then nothing
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
  fds_.push_back(link->client);
  if (link->upstream >= 0) fds_.push_back(link->upstream);
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
    if (n <= 0 || cut_) break;
    if (black_hole_ || to < 0) continue;  // swallowed
    if (::send(to, buf, static_cast<size_t>(n), MSG_NOSIGNAL) != n) break;
  }
  ::shutdown(from, SHUT_RDWR);
  if (to >= 0) ::shutdown(to, SHUT_RDWR);
  Finish(link);
}

void TcpProxy::Finish(const std::shared_ptr<Link>& link) {
  std::lock_guard lock(mu_);
  if (--link->open_ends == 0) {
    for (int fd : {link->client, link->upstream}) {
      if (fd < 0) continue;
      fds_.erase(std::remove(fds_.begin(), fds_.end(), fd), fds_.end());
      ::close(fd);
    }
  }
  if (--pipes_ == 0) idle_.notify_all();
}

}  // namespace tandem::testing
