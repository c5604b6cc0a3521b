#include "transport/client.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>

#include <openssl/ssl.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

#include "transport/deadline.h"
#include "transport/frame.h"
#include "transport/tls.h"

namespace tandem {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct Client::Impl {
  asio::io_context io;
  tcp::socket socket{io};
  asio::ssl::context ssl_ctx{asio::ssl::context::tls_client};
  std::unique_ptr<asio::ssl::stream<tcp::socket&>> tls;
  std::string peer;
  std::chrono::milliseconds io_timeout{0};

  template <typename Fn>
  auto WithStream(Fn fn) {
    return tls ? fn(*tls) : fn(socket);
  }

  // Runs one asynchronous operation to completion, or until `timeout`
  // (zero: no limit) passes; then it is cancelled and the connection is of
  // no further use. A blocking read would ignore any socket timeout (asio
  // polls again after EAGAIN), hence the private io_context.
  template <typename Start>
  boost::system::error_code Run(std::chrono::milliseconds timeout, Start start) {
    boost::system::error_code result;
    bool done = false;
    start([&](boost::system::error_code ec, auto&&...) {
      result = ec;
      done = true;
    });
    io.restart();
    if (timeout.count() > 0) {
      io.run_for(timeout);
    } else {
      io.run();
    }
    if (!done) {
      boost::system::error_code ignored;
      socket.cancel(ignored);
      socket.close(ignored);
      io.restart();
      io.run();  // the cancelled handler
      return asio::error::timed_out;
    }
    return result;
  }

  // async_connect over a range reopens the socket for each endpoint, which
  // loses a bind: so one endpoint of the source's family at a time, all
  // within the one `timeout`.
  boost::system::error_code ConnectFrom(const tcp::resolver::results_type& endpoints,
                                        const asio::ip::address& from,
                                        std::chrono::milliseconds timeout) {
    using std::chrono::steady_clock;
    const auto end = steady_clock::now() + timeout;
    boost::system::error_code ec = asio::error::address_family_not_supported;
    for (const auto& entry : endpoints) {
      const tcp::endpoint& to = entry.endpoint();
      if (to.address().is_v4() != from.is_v4()) continue;
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - steady_clock::now());
      if (timeout.count() > 0 && left.count() <= 0) return asio::error::timed_out;
      boost::system::error_code ignored;
      socket.close(ignored);
      socket.open(to.protocol(), ec);
#ifdef IP_BIND_ADDRESS_NO_PORT
      // The port is picked at connect, per destination: binding port 0
      // would take one for good, and run out under many connections.
      int on = 1;
      if (!ec) {  // on AF_INET6 sockets too (IPPROTO_IP options reach both)
        ::setsockopt(socket.native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &on, sizeof on);
      }
#endif
      if (!ec) socket.bind(tcp::endpoint(from, 0), ec);
      if (ec) continue;
      ec = Run(timeout.count() > 0 ? left : timeout,
               [&](auto handler) { socket.async_connect(to, handler); });
      if (!ec) return ec;
    }
    return ec;
  }
};

Status TransportError(const std::string& what, const std::string& peer,
                      boost::system::error_code ec, std::chrono::milliseconds timeout) {
  if (ec == asio::error::timed_out) {
    return Status::Timeout(what + " " + peer + ": nothing within " +
                           std::to_string(timeout.count()) + " ms");
  }
  return Status::Unavailable(what + " " + peer + ": " + ec.message());
}

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() = default;

Result<std::unique_ptr<Client>> Client::Connect(const Address& address,
                                                const ClientOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->peer = address.ToString();
  Deadline deadline(options.connect_timeout);  // TCP and TLS together
  boost::system::error_code ec;
  tcp::resolver resolver(impl->io);
  auto endpoints = resolver.resolve(address.host, std::to_string(address.port), ec);
  if (!ec && options.source.empty()) {
    ec = impl->Run(options.connect_timeout, [&](auto handler) {
      asio::async_connect(
          impl->socket, endpoints,
          [handler](boost::system::error_code e, const tcp::endpoint&) mutable { handler(e); });
    });
  } else if (!ec) {
    auto from = asio::ip::make_address(options.source, ec);
    if (ec) {
      return Status::InvalidArgument("net.source '" + options.source +
                                     "' is not an IP address: " + ec.message());
    }
    ec = impl->ConnectFrom(endpoints, from, options.connect_timeout);
  }
  if (ec) return TransportError("cannot connect to", impl->peer, ec, options.connect_timeout);
  impl->socket.set_option(tcp::no_delay(true), ec);
  std::string fingerprint;
  if (address.tls) {
    // Trust is by pinned fingerprint, not by a CA chain, as with `p4 trust`.
    impl->ssl_ctx.set_verify_mode(asio::ssl::verify_none);
    impl->tls = std::make_unique<asio::ssl::stream<tcp::socket&>>(impl->socket, impl->ssl_ctx);
    ec = impl->Run(
        options.connect_timeout.count() > 0 ? deadline.Left() : options.connect_timeout,
        [&](auto handler) { impl->tls->async_handshake(asio::ssl::stream_base::client, handler); });
    if (ec) {
      return Status::Unavailable("TLS handshake with " + address.ToString() +
                                 " failed: " + ec.message() + " (is it an ssl: address?)");
    }
    X509* cert = SSL_get1_peer_certificate(impl->tls->native_handle());
    auto fp = Fingerprint(cert);
    X509_free(cert);
    if (!fp.ok()) return fp.status();
    fingerprint = *fp;
    auto trusted = LookupTrust(options.trust_file, address.ToString());
    if (!trusted.ok() && !options.trust_new && !options.accept_unknown) {
      return Status::Unauthenticated("the authenticity of " + address.ToString() +
                                     " can't be established; its fingerprint is " + fingerprint +
                                     ". If you trust it, run 'tandem -p " + address.ToString() +
                                     " trust -y'");
    }
    if (trusted.ok() && *trusted != fingerprint) {
      return Status::Unauthenticated(
          "******* WARNING: the fingerprint of " + address.ToString() + " has changed to " +
          fingerprint + " (trusted: " + *trusted +
          "). Someone may be intercepting the connection; refusing to continue.");
    }
    if (!trusted.ok() && options.trust_new)
      TANDEM_RETURN_IF_ERROR(AddTrust(options.trust_file, address.ToString(), fingerprint));
  }
  impl->io_timeout = options.io_timeout;
  auto client = std::unique_ptr<Client>(new Client(std::move(impl)));
  client->fingerprint_ = fingerprint;
  return client;
}

void Client::SetIoTimeout(std::chrono::milliseconds timeout) { impl_->io_timeout = timeout; }

Status Client::SendRaw(std::string_view bytes) {
  auto ec = impl_->Run(impl_->io_timeout, [&](auto handler) {
    impl_->WithStream(
        [&](auto& s) { asio::async_write(s, asio::buffer(bytes.data(), bytes.size()), handler); });
  });
  if (ec) return TransportError("sending to", impl_->peer, ec, impl_->io_timeout);
  return Status::Ok();
}

bool Client::PeerClosed() {
  char byte;
  auto ec = impl_->Run(std::chrono::milliseconds(0), [&](auto handler) {
    impl_->WithStream([&](auto& s) { asio::async_read(s, asio::buffer(&byte, 1), handler); });
  });
  return ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::ssl::error::stream_truncated;
}

Status Client::SendFrame(MessageType type, std::string_view body) {
  return SendRaw(EncodeFrame(type, body));
}

Result<std::pair<MessageType, std::string>> Client::ReadFrame() {
  return ReadFrame(impl_->io_timeout);
}

Result<std::pair<MessageType, std::string>> Client::ReadFrame(std::chrono::milliseconds timeout) {
  std::array<char, kFrameHeaderSize> header;
  auto ec = impl_->Run(timeout, [&](auto handler) {
    impl_->WithStream([&](auto& s) { asio::async_read(s, asio::buffer(header), handler); });
  });
  if (ec) return TransportError("reading from", impl_->peer, ec, timeout);
  TANDEM_ASSIGN_OR_RETURN(
      FrameHeader h,
      DecodeFrameHeader(std::string_view(header.data(), header.size()), kMaxFrameBody));
  std::string body(h.length, '\0');
  ec = impl_->Run(timeout, [&](auto handler) {
    impl_->WithStream([&](auto& s) { asio::async_read(s, asio::buffer(body), handler); });
  });
  if (ec) return TransportError("reading from", impl_->peer, ec, timeout);
  return std::make_pair(h.type, std::move(body));
}

size_t Client::Available() {
  if (impl_->tls) return 0;
  boost::system::error_code ec;
  size_t n = impl_->socket.available(ec);
  return ec ? 0 : n;
}

void Client::Shutdown() {
  // From another thread: on the descriptor itself, not asio's socket state.
  ::shutdown(impl_->socket.native_handle(), SHUT_RDWR);
}

Result<Response> Client::Call(const Request& request, std::chrono::milliseconds timeout) {
  std::chrono::milliseconds saved = impl_->io_timeout;
  impl_->io_timeout = timeout;
  auto result = Call(request);
  impl_->io_timeout = saved;
  return result;
}

Result<Response> Client::Call(const Request& request) {
  TANDEM_RETURN_IF_ERROR(SendFrame(MessageType::kRequest, EncodeRequest(request)));
  TANDEM_ASSIGN_OR_RETURN(auto frame, ReadFrame());
  if (frame.first != MessageType::kResponse)
    return Status::Corruption("server sent a non-response frame");
  return DecodeResponse(frame.second);
}

}  // namespace tandem
