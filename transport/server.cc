#include "transport/server.h"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <condition_variable>
#include <mutex>
#include <vector>

#include "journal/log.h"
#include "transport/detail/session.h"
#include "transport/tls.h"

namespace tandem {

using detail::Session;
using detail::TcpStream;
using detail::TlsStream;
namespace asio = detail::asio;
using tcp = detail::tcp;

struct Server::Impl {
  ServerOptions options;
  Dispatcher* dispatcher;
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::unique_ptr<asio::ssl::context> ssl;
  asio::thread_pool blocking;
  std::vector<std::thread> threads;
  std::mutex stop_mu;
  std::condition_variable stop_cv;
  bool stopped = false;
  detail::SessionLimits limits;
  Counter refused;  // connections closed at once: server.maxconnections
  std::chrono::steady_clock::time_point last_refusal_log;

  Impl(ServerOptions o, Dispatcher* d)
      : options(std::move(o)),
        dispatcher(d),
        blocking(static_cast<size_t>(options.blocking_threads)) {
    limits.max_body = options.max_frame_body;
    limits.idle_timeout = options.idle_timeout;
    limits.frame_timeout = options.frame_timeout;
  }

  void Accept() {
    acceptor.async_accept(asio::make_strand(io),
                          [this](boost::system::error_code ec, tcp::socket socket) {
                            if (ec == asio::error::operation_aborted) return;
                            if (!ec) OnAccept(std::move(socket));
                            Accept();
                          });
  }

  void OnAccept(tcp::socket socket) {
    boost::system::error_code ec;
    auto ep = socket.remote_endpoint(ec);
    if (ec) return;
    if (!ep.address().is_loopback() && dispatcher->Unsecured()) {
      LogWarning() << "refusing connection from " << ep.address().to_string()
                   << ": this server has no users yet, so it serves loopback clients only "
                      "(create one with 'tandemd -r ROOT --add-user NAME --level super')";
      socket.close(ec);
      return;
    }
    bool stranger = !dispatcher->Unsecured();  // not yet authenticated, that is
    if (limits.sessions.load() >= options.max_connections ||
        (stranger && limits.preauth.load() >= std::max(1, options.max_connections / 2))) {
      auto now = std::chrono::steady_clock::now();
      if (now - last_refusal_log > std::chrono::seconds(1)) {  // one line a second at most
        last_refusal_log = now;
        LogWarning() << "refusing connection from " << ep.address().to_string() << ": "
                     << limits.sessions.load() << " connections are open, " << limits.preauth.load()
                     << " of them not logged in (server.maxconnections=" << options.max_connections
                     << "; half for connections not logged in)";
      }
      refused.Add();
      socket.close(ec);
      return;
    }
    socket.set_option(tcp::no_delay(true), ec);
    if (ssl) {
      std::make_shared<Session<TlsStream>>(TlsStream(std::move(socket), *ssl), dispatcher, &limits)
          ->Start();
    } else {
      std::make_shared<Session<TcpStream>>(std::move(socket), dispatcher, &limits)->Start();
    }
  }
};

Server::Server(ServerOptions options, Dispatcher* dispatcher)
    : impl_(std::make_unique<Impl>(std::move(options), dispatcher)) {
  dispatcher->SetBlockingExecutor([this](std::function<void()> fn) {
    asio::post(impl_->blocking, [fn = std::move(fn)] {
      try {
        fn();
      } catch (const std::exception& e) {
        LogError() << "blocking pool: uncaught exception: " << e.what();
      } catch (...) {
        LogError() << "blocking pool: uncaught exception";
      }
    });
  });
}

Server::~Server() { Shutdown(); }

void Server::Shutdown() {
  Stop();
  for (auto& t : impl_->threads) {
    if (t.joinable()) t.join();
  }
  impl_->blocking.join();
}

Status Server::Start() {
  const Address& a = impl_->options.address;
  if (a.tls) {
    TANDEM_ASSIGN_OR_RETURN(TlsFiles files, EnsureServerCertificate(impl_->options.ssl_dir));
    impl_->ssl = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    boost::system::error_code ec;
    impl_->ssl->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                            asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                            asio::ssl::context::no_tlsv1_1);
    impl_->ssl->use_certificate_chain_file(files.cert_path, ec);
    if (!ec) impl_->ssl->use_private_key_file(files.key_path, asio::ssl::context::pem, ec);
    if (ec)
      return Status::IOError("loading TLS key from " + impl_->options.ssl_dir + ": " +
                             ec.message());
  }
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(a.host, ec);
  if (ec) return Status::InvalidArgument("bad listen address '" + a.host + "': " + ec.message());
  tcp::endpoint ep(addr, a.port);
  impl_->acceptor.open(ep.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(ep, ec);
  if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Status::Unavailable("cannot listen on " + a.ToString() + ": " + ec.message());
  impl_->Accept();
  for (int i = 0; i < std::max(1, impl_->options.network_threads); ++i) {
    impl_->threads.emplace_back([this] {
      // A handler that throws is a bug; it must not take the server with it.
      for (;;) {
        try {
          impl_->io.run();
          return;
        } catch (const std::exception& e) {
          LogError() << "network thread: uncaught exception: " << e.what();
        } catch (...) {
          LogError() << "network thread: uncaught exception";
        }
      }
    });
  }
  return Status::Ok();
}

Server::Counts Server::counts() const {
  return {impl_->limits.sessions.load(), impl_->limits.preauth.load(), impl_->refused.value()};
}

Address Server::bound() const {
  Address a = impl_->options.address;
  boost::system::error_code ec;
  auto ep = impl_->acceptor.local_endpoint(ec);
  if (!ec) a.port = ep.port();
  return a;
}

void Server::Wait() {
  std::unique_lock lock(impl_->stop_mu);
  impl_->stop_cv.wait(lock, [this] { return impl_->stopped; });
}

void Server::Stop() {
  // Everything happens under the lock: once Wait() can return, the caller
  // may destroy the server, so Stop must not touch it after unlocking.
  std::lock_guard lock(impl_->stop_mu);
  if (impl_->stopped) return;
  impl_->stopped = true;
  impl_->io.stop();
  impl_->stop_cv.notify_all();
}

}  // namespace tandem
