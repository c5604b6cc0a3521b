// One connection of the server (transport/server.h): frames in, requests
// dispatched, responses out in request order. Commits (commands registered
// `pipelined`) may follow each other before they are answered, up to
// kMaxInFlight: the journal writer keeps their order, so a client that
// pipelines pays one recv and one send for many of them. Any other request
// waits until everything before it is answered, and nothing after it is read
// until it is, so a read sees the writes sent before it. After a response that
// carries a Stream, the connection's frames go to that stream.
//
// Every session is bounded, because its first bytes can come from anyone:
//  * its receive buffer grows only as bytes arrive (a header announcing
//    80 MiB costs nothing until 80 MiB are sent), counts against one budget
//    for all sessions, and shrinks back after a large frame;
//  * until one of its requests has authenticated (a valid ticket, or any
//    request on an unsecured loopback server), no frame may exceed
//    SessionLimits::preauth_max_body;
//  * a connection that sends no request for `idle_timeout` is closed (not a
//    stream: streams have their own liveness), and so is one whose frame or
//    TLS handshake takes longer than `frame_timeout` to arrive; until it has
//    authenticated, `preauth_idle_timeout` is the most it may idle, and such
//    connections may hold at most half of the server's connections (the
//    server counts them in `preauth`), so strangers cannot crowd out
//    standbys and clients.
// A frame that is garbage, oversized or of an unknown type closes the
// connection with a logged reason; nobody else is affected.
#pragma once

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <chrono>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "journal/coding.h"
#include "journal/log.h"
#include "transport/dispatcher.h"
#include "transport/frame.h"

namespace tandem::detail {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using TcpStream = tcp::socket;
using TlsStream = asio::ssl::stream<tcp::socket>;

inline tcp::socket& Lowest(TcpStream& s) { return s; }
inline tcp::socket& Lowest(TlsStream& s) { return s.next_layer(); }

// What every session shares: the limits, and what is in use.
struct SessionLimits {
  uint32_t max_body = kMaxFrameBody;
  uint32_t preauth_max_body = 1u << 20;
  std::chrono::milliseconds idle_timeout{600 * 1000};
  std::chrono::milliseconds frame_timeout{30 * 1000};
  std::chrono::milliseconds preauth_idle_timeout{10 * 1000};
  int64_t max_buffered = int64_t{1} << 30;  // receive buffers of all sessions
  std::atomic<int64_t> buffered{0};
  std::atomic<int> sessions{0};
  std::atomic<int> preauth{0};  // sessions that have not authenticated yet
};

template <typename Socket>
class Session : public FrameSink, public std::enable_shared_from_this<Session<Socket>> {
 public:
  // `dispatcher` and `limits` outlive every session.
  Session(Socket socket, const Dispatcher* dispatcher, SessionLimits* limits)
      : socket_(std::move(socket)),
        dispatcher_(dispatcher),
        limits_(limits),
        deadline_(socket_.get_executor()) {
    ++limits_->sessions;
    boost::system::error_code ec;
    auto ep = Lowest(socket_).remote_endpoint(ec);
    if (!ec) {
      peer_ = ep.address().to_string() + ":" + std::to_string(ep.port());
      loopback_ = ep.address().is_loopback();
    }
    authenticated_ = dispatcher_->Unsecured();
    if (!authenticated_) ++limits_->preauth;
  }
  ~Session() override {
    Resize(0);
    if (!authenticated_) --limits_->preauth;
    --limits_->sessions;
  }

  void Start() {
    if constexpr (std::is_same_v<Socket, TlsStream>) {
      Arm(limits_->frame_timeout, "the TLS handshake");
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
  static constexpr size_t kReadChunk = 64 * 1024;
  static constexpr size_t kMaxInFlight = 128;  // pipelined requests of one connection
  static constexpr size_t kGather = 16;        // frames in one send

  // Reads whatever has arrived, then handles the whole frames in it; one recv
  // usually brings header and body together (or several pipelined requests).
  void ReadFrame() {
    if (closed_) return;
    if (Status st = TryHandleBuffered(); !st.ok()) return Close(st.message());
    if (closed_) return;
    if (peer_done_) {
      // The peer stopped sending: answer what it asked, then close.
      if (in_flight_ == 0) Close("");
      return;
    }
    if (waiting_ || barrier_ || in_flight_ >= kMaxInFlight) {
      // Nothing more is read until answers before are out; whatever is
      // buffered waits for them, not for the peer.
      deadline_.cancel();
      frame_armed_ = false;
      return;
    }
    // Before the check for a read in flight: once the last answer is out,
    // the idle clock runs again even though a read was posted long ago.
    if (filled_ == 0 && !stream_ && in_flight_ == 0) {
      Arm(authenticated_ ? limits_->idle_timeout
                         : std::min(limits_->idle_timeout, limits_->preauth_idle_timeout),
          "a request");
    } else if (filled_ > 0 && !frame_armed_) {
      Arm(limits_->frame_timeout, "the rest of a frame");
      frame_armed_ = true;
    } else if (filled_ == 0) {
      deadline_.cancel();
    }
    if (reading_) return;
    // Room for what comes next, growing with what arrived, never ahead of it.
    if (in_.size() - filled_ < kReadChunk / 4) {
      size_t want = std::max(in_.size() * 2, kReadChunk);
      if (expected_ > 0) want = std::min(want, std::max(expected_, kReadChunk));
      if (!Resize(std::max(want, filled_ + kReadChunk / 4))) {
        return Close("the server's receive buffers are full");
      }
    }
    reading_ = true;
    socket_.async_read_some(
        asio::buffer(in_.data() + filled_, in_.size() - filled_),
        [self = this->shared_from_this()](boost::system::error_code ec, size_t n) {
          self->reading_ = false;
          self->filled_ += n;
          if (ec == asio::error::eof && self->in_flight_ > 0) {
            self->peer_done_ = true;  // a half-closed peer still gets its answers
            return;
          }
          if (ec) return self->Close(ec == asio::error::eof ? "" : ec.message());
          self->ReadFrame();
        });
  }

  Status TryHandleBuffered() {
    waiting_ = false;
    while (filled_ >= kFrameHeaderSize && !barrier_ && !closed_) {
      if (in_flight_ >= kMaxInFlight || (front_is_barrier_ && in_flight_ > 0)) {
        waiting_ = true;
        break;
      }
      auto h = DecodeFrameHeader(std::string_view(in_.data(), kFrameHeaderSize), limits_->max_body);
      if (!h.ok()) return h.status();
      size_t total = kFrameHeaderSize + h->length;
      if (!authenticated_ && h->length > limits_->preauth_max_body) {
        // A large frame only from a request that opens with a valid ticket:
        // its first bytes are the user and the ticket.
        constexpr size_t kCredentials = 4096;
        auto who = h->type == MessageType::kRequest
                       ? PeekRequestCredentials(std::string_view(in_.data() + kFrameHeaderSize,
                                                                 filled_ - kFrameHeaderSize))
                       : std::nullopt;
        if (!who && h->type == MessageType::kRequest && filled_ < kFrameHeaderSize + kCredentials) {
          expected_ = kFrameHeaderSize + kCredentials;  // read no more until we know
          return Status::Ok();
        }
        if (!who || !dispatcher_->Authenticates(who->first, who->second)) {
          return Status::PermissionDenied("a frame of " + std::to_string(h->length) +
                                          " bytes from a connection without a " +
                                          "valid ticket (the most before logging in is " +
                                          std::to_string(limits_->preauth_max_body) + ")");
        }
        Authenticated();
      }
      if (filled_ < total) {
        expected_ = total;
        return Status::Ok();
      }
      std::string_view body(in_.data() + kFrameHeaderSize, h->length);
      if (stream_) {
        TANDEM_RETURN_IF_ERROR(stream_->OnFrame(h->type, body));
      } else {
        if (h->type != MessageType::kRequest) {
          return Status::Corruption("unexpected frame type " +
                                    std::to_string(static_cast<int>(h->type)) + " from a client");
        }
        TANDEM_ASSIGN_OR_RETURN(Request req, DecodeRequest(body));
        bool pipelined = dispatcher_->Pipelined(req);
        if (!pipelined && in_flight_ > 0) {
          // Until everything before it is answered; it stays buffered, and
          // is not decoded again until then.
          front_is_barrier_ = true;
          waiting_ = true;
          break;
        }
        Dispatch(std::move(req), pipelined);
      }
      Consume(total);
    }
    return Status::Ok();
  }

  // Drops the frame of `total` bytes at the front of the receive buffer.
  void Consume(size_t total) {
    std::memmove(in_.data(), in_.data() + total, filled_ - total);
    filled_ -= total;
    expected_ = 0;
    frame_armed_ = false;
    front_is_barrier_ = false;
    if (in_.size() > 4 * kReadChunk && filled_ < kReadChunk) Resize(kReadChunk);
  }

  void Dispatch(Request req, bool pipelined) {
    if (!authenticated_ && dispatcher_->Authenticates(req.user, req.ticket)) Authenticated();
    barrier_ = !pipelined;
    uint64_t seq = first_answer_ + answers_.size();
    answers_.emplace_back();
    ++in_flight_;
    deadline_.cancel();
    dispatcher_->Dispatch(std::move(req), loopback_, peer_,
                          [self = this->shared_from_this(), seq](Response resp) {
                            self->Deliver(seq, std::move(resp));
                          });
  }

  // Handlers may answer from any thread: the answer waits in the inbox for
  // this session's strand, and only the first of those that come together
  // (the commits of one journal batch) posts to it.
  void Deliver(uint64_t seq, Response resp) {
    bool post;
    {
      std::lock_guard lock(inbox_mu_);
      inbox_.emplace_back(seq, std::move(resp));
      post = !std::exchange(inbox_posted_, true);
    }
    if (post) {
      asio::post(socket_.get_executor(), [self = this->shared_from_this()] { self->TakeInbox(); });
    }
  }

  void TakeInbox() {
    {
      std::lock_guard lock(inbox_mu_);
      taking_.swap(inbox_);
      inbox_posted_ = false;
    }
    // Every answer queued before the first is written: one send for them all.
    corked_ = true;
    for (auto& [seq, resp] : taking_) Answer(seq, std::move(resp));
    taking_.clear();
    corked_ = false;
    if (writing_ == 0 && !out_.empty()) WriteNext();
  }

  // Answers go out in request order, whatever order they come in.
  void Answer(uint64_t seq, Response resp) {
    answers_[seq - first_answer_] = std::move(resp);
    while (!answers_.empty() && answers_.front()) {
      Response next = std::move(*answers_.front());
      answers_.pop_front();
      ++first_answer_;
      Respond(std::move(next));
    }
  }

  void Respond(Response resp) {
    std::string frame = EncodeFrame(MessageType::kResponse, EncodeResponse(resp));
    std::shared_ptr<Stream> stream = resp.stream;
    std::function<void()> after = std::move(resp.after_send);
    // Weakly: `then` waits in out_, which the session owns; a strong
    // reference there is a cycle that outlives a server stopped mid-write.
    Queue(std::move(frame), [weak = this->weak_from_this(), stream, after] {
      auto self = weak.lock();
      if (!self) return;
      if (after) after();
      --self->in_flight_;
      self->barrier_ = false;  // a barrier is the only request in flight
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
    if (writing_ == 0 && !corked_) WriteNext();
  }

  // Writes what is queued, up to kGather frames in one send.
  void WriteNext() {
    writing_ = std::min(out_.size(), kGather);
    gather_.clear();
    for (size_t i = 0; i < writing_; ++i) {
      gather_.push_back(asio::buffer(out_[i].frame));
      if (!out_[i].body.empty()) gather_.push_back(asio::buffer(out_[i].body));
    }
    // A view of gather_ (kept until the write ends): the write copies its
    // buffer sequence, and a copy of an array this size is not small.
    asio::async_write(socket_, std::span<const asio::const_buffer>(gather_),
                      [self = this->shared_from_this()](boost::system::error_code ec, size_t) {
                        // A close while this write was in flight left the
                        // queue to us: its front buffers were in use until now.
                        if (self->closed_) return self->out_.clear();
                        if (ec) return self->Close("writing: " + ec.message());
                        // Off the queue before any `then` runs: one may queue more.
                        std::array<std::function<void()>, kGather> thens;
                        size_t written = self->writing_;
                        for (size_t i = 0; i < written; ++i) {
                          thens[i] = std::move(self->out_.front().then);
                          self->out_.pop_front();
                        }
                        self->writing_ = 0;
                        for (size_t i = 0; i < written; ++i) {
                          if (thens[i]) thens[i]();
                        }
                        if (!self->out_.empty() && !self->closed_ && self->writing_ == 0) {
                          self->WriteNext();
                        }
                      });
  }

  void Authenticated() {
    authenticated_ = true;
    --limits_->preauth;
  }

  // The session's one deadline: waiting for `what` may take `after` at most.
  void Arm(std::chrono::milliseconds after, const char* what) {
    deadline_.expires_after(after);
    deadline_.async_wait(
        [self = this->shared_from_this(), after, what](boost::system::error_code ec) {
          if (ec || self->closed_) return;  // re-armed, cancelled or closed
          self->Close(std::string("waited ") + std::to_string(after.count()) + " ms for " + what);
        });
  }

  // Sets the receive buffer's size, within the budget of all sessions.
  bool Resize(size_t size) {
    int64_t delta = static_cast<int64_t>(size) - static_cast<int64_t>(in_.size());
    if (delta > 0 && limits_->buffered.fetch_add(delta) + delta > limits_->max_buffered) {
      limits_->buffered -= delta;
      return false;
    }
    if (delta < 0) limits_->buffered += delta;
    in_.resize(size);
    if (delta < 0) in_.shrink_to_fit();
    return true;
  }

  void Close(const std::string& reason) {
    if (closed_) return;
    closed_ = true;
    if (!reason.empty() && reason != "Operation canceled") {
      LogWarning() << "closing connection from " << peer_ << ": " << reason;
    }
    deadline_.cancel();
    if (stream_) stream_->OnClose();
    stream_.reset();
    // The front of out_ may be in an async_write; its handler clears the rest.
    if (out_.size() > writing_)
      out_.erase(out_.begin() + static_cast<ptrdiff_t>(writing_), out_.end());
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
  SessionLimits* limits_;         // outlives every session
  asio::steady_timer deadline_;
  std::string peer_;
  bool loopback_ = false;
  bool authenticated_ = false;
  std::vector<char> in_;  // in_[0, filled_) received and not yet handled
  size_t filled_ = 0;
  size_t expected_ = 0;            // size of the frame being received, once its header is in
  bool frame_armed_ = false;       // the deadline covers the frame being received
  bool reading_ = false;           // an async_read_some is in flight
  bool waiting_ = false;           // a whole request is buffered that may not be dispatched yet
  bool front_is_barrier_ = false;  // the first buffered request is not pipelined
  bool barrier_ = false;           // a request that is not pipelined is in flight: read no further
  bool peer_done_ = false;         // the peer shut down its side with answers still owed
  bool closed_ = false;
  size_t in_flight_ = 0;  // requests dispatched whose answers are not yet written
  // Answers not yet queued, from request number first_answer_ on: empty until
  // the handler answers.
  std::deque<std::optional<Response>> answers_;
  uint64_t first_answer_ = 0;
  std::deque<Outgoing> out_;
  size_t writing_ = 0;                      // entries at the front of out_ in the write in flight
  std::vector<asio::const_buffer> gather_;  // their buffers
  bool corked_ = false;                     // queue answers, write them together after
  std::mutex inbox_mu_;
  std::vector<std::pair<uint64_t, Response>> inbox_;   // guarded by inbox_mu_
  bool inbox_posted_ = false;                          // guarded by inbox_mu_
  std::vector<std::pair<uint64_t, Response>> taking_;  // the inbox being answered
  std::shared_ptr<Stream> stream_;
};

}  // namespace tandem::detail
