#include "tools/load_generator.h"

#include <algorithm>
#include <boost/asio.hpp>
#include <cstring>
#include <deque>
#include <memory>

#include "transport/frame.h"

namespace tandem {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

struct Shared {
  const LoadOptions* options;
  Clock::time_point deadline;
  uint64_t issued = 0;
  LoadResult result;
  int active = 0;                           // connections still issuing
  asio::steady_timer* hard_stop = nullptr;  // cancelled when active reaches 0
  void Finished() {
    if (--active == 0 && hard_stop != nullptr) hard_stop->cancel();
  }
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, Shared* shared) : socket_(std::move(socket)), shared_(shared) {}

  void Start() {
    Issue();
    Read();
  }

 private:
  bool MayIssue() const {
    const LoadOptions& o = *shared_->options;
    return Clock::now() < shared_->deadline &&
           (o.max_requests == 0 || shared_->issued < o.max_requests);
  }

  // Tops the requests in flight up to the pipeline depth, or finishes once
  // time is up and every answer is in.
  void Issue() {
    if (finished_) return;
    const LoadOptions& o = *shared_->options;
    while (static_cast<int>(sent_at_.size()) < o.pipeline && MayIssue()) {
      std::string frame =
          EncodeFrame(MessageType::kRequest, EncodeRequest(o.make_request(shared_->issued++)));
      pending_ += frame;
      sent_at_.push_back(Clock::now());
    }
    if (sent_at_.empty()) {
      finished_ = true;
      boost::system::error_code ignored;
      socket_.close(ignored);  // ends the read loop
      return shared_->Finished();
    }
    Write();
  }

  void Write() {
    if (writing_ || pending_.empty()) return;
    writing_ = true;
    out_.swap(pending_);
    pending_.clear();
    asio::async_write(socket_, asio::buffer(out_),
                      [self = shared_from_this()](boost::system::error_code ec, size_t) {
                        self->writing_ = false;
                        if (ec) return self->Fail();
                        self->Write();
                      });
  }

  void Read() {
    if (in_.size() - filled_ < 4096) in_.resize(std::max<size_t>(in_.size() * 2, 16384));
    socket_.async_read_some(asio::buffer(in_.data() + filled_, in_.size() - filled_),
                            [self = shared_from_this()](boost::system::error_code ec, size_t n) {
                              if (ec) return self->Fail();
                              self->filled_ += n;
                              if (!self->TakeReplies()) return self->Fail();
                              self->Issue();
                              if (!self->finished_) self->Read();
                            });
  }

  // Counts every whole reply in the buffer; false on a malformed one.
  bool TakeReplies() {
    size_t at = 0;
    while (filled_ - at >= kFrameHeaderSize) {
      auto h =
          DecodeFrameHeader(std::string_view(in_.data() + at, kFrameHeaderSize), kMaxFrameBody);
      if (!h.ok() || sent_at_.empty()) return false;
      if (filled_ - at < kFrameHeaderSize + h->length) {
        if (in_.size() < kFrameHeaderSize + h->length) in_.resize(kFrameHeaderSize + h->length);
        break;
      }
      auto resp = DecodeResponse(std::string_view(in_.data() + at + kFrameHeaderSize, h->length));
      if (!resp.ok() || !resp->status.ok()) {
        ++shared_->result.failed;
      } else {
        shared_->result.latencies_ns.push_back(static_cast<uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - sent_at_.front())
                .count()));
      }
      sent_at_.pop_front();
      at += kFrameHeaderSize + h->length;
    }
    std::memmove(in_.data(), in_.data() + at, filled_ - at);
    filled_ -= at;
    return true;
  }

  void Fail() {
    if (finished_) return;
    finished_ = true;
    boost::system::error_code ignored;
    socket_.close(ignored);  // ends the other of its read and write too
    ++shared_->result.failed;
    shared_->Finished();
  }

  tcp::socket socket_;
  Shared* shared_;                         // outlives every connection (RunLoad's frame)
  std::deque<Clock::time_point> sent_at_;  // of the requests in flight, oldest first
  std::string pending_;                    // requests not yet handed to a write
  std::string out_;                        // the write in flight
  bool writing_ = false;
  bool finished_ = false;
  std::vector<char> in_;
  size_t filled_ = 0;
};

}  // namespace

Result<LoadResult> RunLoad(const LoadOptions& options) {
  asio::io_context io;
  Shared shared{&options, {}, 0, {}, 0, nullptr};
  std::vector<std::shared_ptr<Connection>> conns;
  tcp::endpoint ep(asio::ip::make_address(options.address.host), options.address.port);
  for (int i = 0; i < options.connections; ++i) {
    tcp::socket s(io);
    boost::system::error_code ec;
    s.connect(ep, ec);
    if (ec)
      return Status::Unavailable("cannot connect to " + options.address.ToString() + ": " +
                                 ec.message());
    s.set_option(tcp::no_delay(true));
    conns.push_back(std::make_shared<Connection>(std::move(s), &shared));
  }
  shared.result.latencies_ns.reserve(1 << 20);
  auto start = Clock::now();
  shared.deadline = start + std::chrono::duration_cast<Clock::duration>(
                                std::chrono::duration<double>(options.seconds));
  // Requests stop being issued at the deadline; a server that never answers
  // must not hang the benchmark either.
  asio::steady_timer hard_stop(io, shared.deadline + std::chrono::seconds(30));
  shared.hard_stop = &hard_stop;
  shared.active = static_cast<int>(conns.size());
  for (auto& c : conns) c->Start();
  conns.clear();  // the pending handlers own them now
  hard_stop.async_wait([&](boost::system::error_code ec) {
    if (!ec) {
      shared.result.failed += 1;
      io.stop();
    }
  });
  io.run();
  shared.result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return std::move(shared.result);
}

}  // namespace tandem
