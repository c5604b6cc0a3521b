#include "observe/http_endpoint.h"

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <functional>
#include <map>
#include <thread>

#include "journal/log.h"

namespace tandem {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// A scraper sends its request at once: two seconds for all of it, a few
// connections per peer, so that one slow or flooding peer cannot keep the
// endpoint from everyone else. (It has no authentication: bind it to
// loopback or a management network.)
constexpr auto kRequestTimeout = std::chrono::seconds(2);
constexpr size_t kMaxRequestBytes = 8 * 1024;
constexpr int kMaxConnections = 64;
constexpr int kMaxPerPeer = 4;
constexpr auto kAcceptRetry = std::chrono::milliseconds(200);

}  // namespace

struct HttpEndpoint::Impl {
  // Declared before io: the exchanges io still holds when it is destroyed
  // count themselves out of `connections` and point at `handler`.
  Handler handler;
  std::atomic<int> connections{0};
  // Open exchanges per peer address; touched on the endpoint's thread only.
  std::map<std::string, int> per_peer;
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  asio::steady_timer retry{io};
  Address bound;
  std::thread thread;

  void Accept();
  void Serve(tcp::socket socket);
};

namespace {

// One connection: read a request, answer it, close.
class Exchange : public std::enable_shared_from_this<Exchange> {
 public:
  // `done` runs when it ends (counts it out), on the endpoint's thread.
  Exchange(tcp::socket socket, const HttpEndpoint::Handler* handler, std::function<void()> done)
      : stream_(std::move(socket)), handler_(handler), done_(std::move(done)) {
    parser_.body_limit(kMaxRequestBytes);
    parser_.header_limit(kMaxRequestBytes);
  }
  ~Exchange() { done_(); }

  void Run() {
    stream_.expires_after(kRequestTimeout);
    http::async_read(stream_, buffer_, parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       if (!ec) self->Answer();
                     });
  }

 private:
  void Answer() {
    const auto& req = parser_.get();
    HttpAnswer answer;
    if (req.method() != http::verb::get && req.method() != http::verb::head) {
      answer = {405, "text/plain; charset=utf-8", "only GET\n"};
    } else {
      std::string target(req.target());
      answer = (*handler_)(target.substr(0, target.find('?')));
    }
    response_.version(req.version());
    response_.result(static_cast<unsigned>(answer.status));
    response_.set(http::field::content_type, answer.content_type);
    response_.set(http::field::cache_control, "no-store");
    response_.keep_alive(false);
    if (req.method() != http::verb::head) response_.body() = std::move(answer.body);
    response_.prepare_payload();
    http::async_write(stream_, response_, [self = shared_from_this()](beast::error_code, size_t) {
      beast::error_code ignored;
      self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_{kMaxRequestBytes};
  http::request_parser<http::string_body> parser_;
  http::response<http::string_body> response_;
  const HttpEndpoint::Handler* handler_;
  std::function<void()> done_;
};

}  // namespace

void HttpEndpoint::Impl::Accept() {
  acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (!ec) {
      Serve(std::move(socket));
      return Accept();
    }
    // Out of descriptors, say: the connection stays queued, so accepting
    // again at once would spin. Try again a little later.
    LogWarning() << "metrics endpoint: accept failed: " << ec.message();
    retry.expires_after(kAcceptRetry);
    retry.async_wait([this](beast::error_code wait_ec) {
      if (!wait_ec) Accept();
    });
  });
}

void HttpEndpoint::Impl::Serve(tcp::socket socket) {
  beast::error_code ec;
  std::string peer = socket.remote_endpoint(ec).address().to_string();
  if (ec || connections.load() >= kMaxConnections || per_peer[peer] >= kMaxPerPeer) {
    if (!ec && per_peer[peer] == 0) per_peer.erase(peer);
    return;  // closed unanswered: a scraper retries, a flood gets nothing
  }
  connections.fetch_add(1);
  ++per_peer[peer];
  auto done = [this, peer] {
    connections.fetch_sub(1);
    if (--per_peer[peer] == 0) per_peer.erase(peer);
  };
  std::make_shared<Exchange>(std::move(socket), &handler, std::move(done))->Run();
}

HttpEndpoint::HttpEndpoint(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpEndpoint::~HttpEndpoint() {
  asio::post(impl_->io, [impl = impl_.get()] {
    beast::error_code ignored;
    impl->acceptor.close(ignored);
  });
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

Result<std::unique_ptr<HttpEndpoint>> HttpEndpoint::Start(const Address& address, Handler handler) {
  if (address.tls) {
    return Status::InvalidArgument("the metrics endpoint serves plain HTTP: '" +
                                   address.ToString() + "' asks for TLS");
  }
  auto impl = std::make_unique<Impl>();
  impl->handler = std::move(handler);
  beast::error_code ec;
  auto ip = asio::ip::make_address(address.host, ec);
  if (ec) {
    return Status::InvalidArgument("bad metrics address '" + address.host + "': " + ec.message());
  }
  tcp::endpoint ep(ip, address.port);
  impl->acceptor.open(ep.protocol(), ec);
  if (!ec) impl->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(ep, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status::Unavailable("cannot serve metrics on " + address.ToString() + ": " +
                               ec.message());
  }
  auto local = impl->acceptor.local_endpoint(ec);
  impl->bound.host = local.address().to_string();
  impl->bound.port = local.port();
  impl->Accept();
  impl->thread = std::thread([io = &impl->io] {
    for (;;) {
      try {
        io->run();
        return;
      } catch (const std::exception& e) {  // a bug; it must not end the server
        LogError() << "metrics endpoint: " << e.what();
      }
    }
  });
  return std::unique_ptr<HttpEndpoint>(new HttpEndpoint(std::move(impl)));
}

Address HttpEndpoint::bound() const { return impl_->bound; }

}  // namespace tandem
