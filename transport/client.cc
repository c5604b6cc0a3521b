#include "transport/client.h"

#include <condition_variable>
#include <mutex>
#include <thread>

#include <openssl/ssl.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

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

  template <typename Fn>
  auto WithStream(Fn fn) {
    return tls ? fn(*tls) : fn(socket);
  }
};

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() = default;

Result<std::unique_ptr<Client>> Client::Connect(const Address& address,
                                                const ClientOptions& options) {
  auto impl = std::make_unique<Impl>();
  boost::system::error_code ec;
  tcp::resolver resolver(impl->io);
  auto endpoints = resolver.resolve(address.host, std::to_string(address.port), ec);
  if (!ec) asio::connect(impl->socket, endpoints, ec);
  if (ec) {
    return Status::Unavailable("cannot connect to " + address.ToString() + ": " + ec.message());
  }
  impl->socket.set_option(tcp::no_delay(true), ec);
  std::string fingerprint;
  if (address.tls) {
    // Trust is by pinned fingerprint, not by a CA chain, as with `p4 trust`.
    impl->ssl_ctx.set_verify_mode(asio::ssl::verify_none);
    impl->tls = std::make_unique<asio::ssl::stream<tcp::socket&>>(impl->socket, impl->ssl_ctx);
    impl->tls->handshake(asio::ssl::stream_base::client, ec);
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
    if (!trusted.ok() && !options.trust_new) {
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
    if (!trusted.ok())
      TANDEM_RETURN_IF_ERROR(AddTrust(options.trust_file, address.ToString(), fingerprint));
  }
  auto client = std::unique_ptr<Client>(new Client(std::move(impl)));
  client->fingerprint_ = fingerprint;
  return client;
}

Status Client::SendRaw(std::string_view bytes) {
  boost::system::error_code ec;
  impl_->WithStream(
      [&](auto& s) { return asio::write(s, asio::buffer(bytes.data(), bytes.size()), ec); });
  if (ec) return Status::Unavailable("send failed: " + ec.message());
  return Status::Ok();
}

bool Client::PeerClosed() {
  char byte;
  boost::system::error_code ec;
  impl_->WithStream([&](auto& s) { return asio::read(s, asio::buffer(&byte, 1), ec); });
  return ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::ssl::error::stream_truncated;
}

Status Client::SendFrame(MessageType type, std::string_view body) {
  return SendRaw(EncodeFrame(type, body));
}

Result<std::pair<MessageType, std::string>> Client::ReadFrame() {
  std::array<char, kFrameHeaderSize> header;
  boost::system::error_code ec;
  impl_->WithStream([&](auto& s) { return asio::read(s, asio::buffer(header), ec); });
  if (ec) return Status::Unavailable("connection lost: " + ec.message());
  TANDEM_ASSIGN_OR_RETURN(
      FrameHeader h,
      DecodeFrameHeader(std::string_view(header.data(), header.size()), kMaxFrameBody));
  std::string body(h.length, '\0');
  impl_->WithStream([&](auto& s) { return asio::read(s, asio::buffer(body), ec); });
  if (ec) return Status::Unavailable("connection lost: " + ec.message());
  return std::make_pair(h.type, std::move(body));
}

size_t Client::Available() {
  if (impl_->tls) return 0;
  boost::system::error_code ec;
  size_t n = impl_->socket.available(ec);
  return ec ? 0 : n;
}

void Client::Shutdown() {
  boost::system::error_code ignored;
  impl_->socket.shutdown(tcp::socket::shutdown_both, ignored);
}

Result<Response> Client::Call(const Request& request, std::chrono::milliseconds timeout) {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  bool expired = false;
  std::thread watchdog([&] {
    std::unique_lock lock(mu);
    if (!cv.wait_for(lock, timeout, [&] { return done; })) {
      expired = true;
      Shutdown();
    }
  });
  auto result = Call(request);
  {
    std::lock_guard lock(mu);
    done = true;
  }
  cv.notify_all();
  watchdog.join();
  if (expired && !result.ok()) {
    return Status::Timeout("no answer within " + std::to_string(timeout.count()) + " ms");
  }
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
