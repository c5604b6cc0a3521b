#include "transport/server.h"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <cstring>
#include <deque>
#include <vector>

#include "journal/coding.h"
#include "journal/log.h"
#include "transport/frame.h"
#include "transport/tls.h"

namespace tandem {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using TcpStream = tcp::socket;
using TlsStream = asio::ssl::stream<tcp::socket>;

namespace {

tcp::socket& Lowest(TcpStream& s) { return s; }
tcp::socket& Lowest(TlsStream& s) { return s.next_layer(); }

template <typename Socket>
class Session : public FrameSink, public std::enable_shared_from_this<Session<Socket>> {
 public:
  Session(Socket socket, const Dispatcher* dispatcher, uint32_t max_body)
      : socket_(std::move(socket)), dispatcher_(dispatcher), max_body_(max_body) {
    boost::system::error_code ec;
    auto ep = Lowest(socket_).remote_endpoint(ec);
    if (!ec) {
      peer_ = ep.address().to_string() + ":" + std::to_string(ep.port());
      loopback_ = ep.address().is_loopback();
    }
  }

  void Start() {
    if constexpr (std::is_same_v<Socket, TlsStream>) {
      socket_.async_handshake(asio::ssl::stream_base::server,
                              [self = this->shared_from_this()](boost::system::error_code ec) {
                                if (ec) return self->Close("TLS handshake failed: " + ec.message());
                                self->ReadFrame();
                              });
    } else {
      ReadFrame();
    }
  }

  void SendFrame(MessageType type, std::string body) override {
    asio::post(socket_.get_executor(),
               [self = this->shared_from_this(), type, body = std::move(body)]() mutable {
                 self->Queue(EncodeFrame(type, {}), nullptr, std::move(body));
               });
  }

  void Post(std::function<void()> fn, std::chrono::milliseconds delay) override {
    if (delay.count() == 0) {
      asio::post(socket_.get_executor(), [self = this->shared_from_this(), fn = std::move(fn)] {
        if (!self->closed_) fn();
      });
      return;
    }
    auto timer = std::make_shared<asio::steady_timer>(socket_.get_executor(), delay);
    timer->async_wait(
        [self = this->shared_from_this(), timer, fn = std::move(fn)](boost::system::error_code ec) {
          if (!ec && !self->closed_) fn();
        });
  }

  void CloseWith(const std::string& reason) override {
    asio::post(socket_.get_executor(),
               [self = this->shared_from_this(), reason] { self->Close(reason); });
  }

 private:
  // Reads whatever has arrived, then handles the first whole frame in it; one
  // recv usually brings header and body together.
  void ReadFrame() {
    if (closed_) return;
    if (Status st = TryHandleBuffered(); !st.ok()) return Close(st.message());
    if (handling_ || closed_) return;
    if (in_.size() - filled_ < kReadChunk / 4) in_.resize(std::max(in_.size() * 2, kReadChunk));
    socket_.async_read_some(
        asio::buffer(in_.data() + filled_, in_.size() - filled_),
        [self = this->shared_from_this()](boost::system::error_code ec, size_t n) {
          self->filled_ += n;
          if (ec) return self->Close(ec == asio::error::eof ? "" : ec.message());
          self->ReadFrame();
        });
  }

  Status TryHandleBuffered() {
    while (filled_ >= kFrameHeaderSize && !handling_ && !closed_) {
      TANDEM_ASSIGN_OR_RETURN(
          FrameHeader h,
          DecodeFrameHeader(std::string_view(in_.data(), kFrameHeaderSize), max_body_));
      size_t total = kFrameHeaderSize + h.length;
      if (filled_ < total) {
        if (in_.size() < total) in_.resize(total);  // a large frame: room for all of it
        return Status::Ok();
      }
      std::string body(in_.data() + kFrameHeaderSize, h.length);
      std::memmove(in_.data(), in_.data() + total, filled_ - total);
      filled_ -= total;
      if (stream_) {
        TANDEM_RETURN_IF_ERROR(stream_->OnFrame(h.type, body));
      } else {
        TANDEM_RETURN_IF_ERROR(OnRequest(h.type, body));
      }
    }
    return Status::Ok();
  }

  Status OnRequest(MessageType type, std::string_view body) {
    if (type != MessageType::kRequest) {
      return Status::Corruption("unexpected frame type " + std::to_string(static_cast<int>(type)) +
                                " from a client");
    }
    TANDEM_ASSIGN_OR_RETURN(Request req, DecodeRequest(body));
    handling_ = true;
    auto self = this->shared_from_this();
    dispatcher_->Dispatch(req, loopback_, peer_, [self](Response resp) {
      // Handlers may answer from any thread; hop back to this session's strand.
      asio::post(self->socket_.get_executor(),
                 [self, resp = std::move(resp)]() mutable { self->Respond(std::move(resp)); });
    });
    return Status::Ok();
  }

  void Respond(Response resp) {
    std::string frame = EncodeFrame(MessageType::kResponse, EncodeResponse(resp));
    std::shared_ptr<Stream> stream = resp.stream;
    std::function<void()> after = std::move(resp.after_send);
    Queue(std::move(frame), [self = this->shared_from_this(), stream, after] {
      if (after) after();
      self->handling_ = false;
      if (stream && !self->closed_) {
        self->stream_ = stream;
        stream->Start(self);
      }
      self->ReadFrame();
    });
  }

  // One write in flight, fed by a queue; `then` runs once `frame` is written.
  // A large body may travel separately from its frame header (no copy); the
  // header's length field must then count it.
  void Queue(std::string frame, std::function<void()> then, std::string body = {}) {
    if (closed_) return;
    if (!body.empty()) EncodeFixed32(frame.data() + 4, static_cast<uint32_t>(body.size()));
    out_.push_back({std::move(frame), std::move(then), std::move(body)});
    if (out_.size() == 1) WriteNext();
  }

  void WriteNext() {
    std::array<asio::const_buffer, 2> buffers{asio::buffer(out_.front().frame),
                                              asio::buffer(out_.front().body)};
    asio::async_write(socket_, buffers,
                      [self = this->shared_from_this()](boost::system::error_code ec, size_t) {
                        // A close while this write was in flight left the
                        // queue to us: its front buffer was in use until now.
                        if (self->closed_) return self->out_.clear();
                        if (ec) return self->Close("writing: " + ec.message());
                        auto then = std::move(self->out_.front().then);
                        self->out_.pop_front();
                        if (then) then();
                        if (!self->out_.empty() && !self->closed_) self->WriteNext();
                      });
  }

  void Close(const std::string& reason) {
    if (closed_) return;
    closed_ = true;
    if (!reason.empty() && reason != "Operation canceled") {
      LogWarning() << "closing connection from " << peer_ << ": " << reason;
    }
    if (stream_) stream_->OnClose();
    stream_.reset();
    // The front of out_ may be in an async_write; its handler clears the rest.
    if (out_.size() > 1) out_.erase(out_.begin() + 1, out_.end());
    boost::system::error_code ignored;
    Lowest(socket_).shutdown(tcp::socket::shutdown_both, ignored);
    Lowest(socket_).close(ignored);
  }

  struct Outgoing {
    std::string frame;
    std::function<void()> then;
    std::string body;
  };

  Socket socket_;
  const Dispatcher* dispatcher_;  // outlives every session
  uint32_t max_body_;
  std::string peer_;
  bool loopback_ = false;
  static constexpr size_t kReadChunk = 64 * 1024;
  std::vector<char> in_;  // in_[0, filled_) received and not yet handled
  size_t filled_ = 0;
  bool handling_ = false;  // a request is being served; read no further
  bool closed_ = false;
  std::deque<Outgoing> out_;
  std::shared_ptr<Stream> stream_;
};

}  // namespace

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

  Impl(ServerOptions o, Dispatcher* d)
      : options(std::move(o)),
        dispatcher(d),
        blocking(static_cast<size_t>(options.blocking_threads)) {}

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
    socket.set_option(tcp::no_delay(true), ec);
    if (ssl) {
      std::make_shared<Session<TlsStream>>(TlsStream(std::move(socket), *ssl), dispatcher,
                                           options.max_frame_body)
          ->Start();
    } else {
      std::make_shared<Session<TcpStream>>(std::move(socket), dispatcher, options.max_frame_body)
          ->Start();
    }
  }
};

Server::Server(ServerOptions options, Dispatcher* dispatcher)
    : impl_(std::make_unique<Impl>(std::move(options), dispatcher)) {
  dispatcher->SetBlockingExecutor(
      [this](std::function<void()> fn) { asio::post(impl_->blocking, std::move(fn)); });
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
    impl_->threads.emplace_back([this] { impl_->io.run(); });
  }
  return Status::Ok();
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
