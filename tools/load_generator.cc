#include "tools/load_generator.h"

#include <array>
#include <boost/asio.hpp>
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

  void Next() {
    const LoadOptions& o = *shared_->options;
    if (Clock::now() >= shared_->deadline ||
        (o.max_requests && shared_->issued >= o.max_requests)) {
      return shared_->Finished();
    }
    out_ = EncodeFrame(MessageType::kRequest, EncodeRequest(o.make_request(shared_->issued++)));
    start_ = Clock::now();
    asio::async_write(socket_, asio::buffer(out_),
                      [self = shared_from_this()](boost::system::error_code ec, size_t) {
                        if (ec) return self->Fail();
                        self->ReadHeader();
                      });
  }

 private:
  void ReadHeader() {
    asio::async_read(socket_, asio::buffer(header_),
                     [self = shared_from_this()](boost::system::error_code ec, size_t) {
                       if (ec) return self->Fail();
                       auto h = DecodeFrameHeader(std::string_view(self->header_.data(), 8),
                                                  kMaxFrameBody);
                       if (!h.ok()) return self->Fail();
                       self->body_.resize(h->length);
                       asio::async_read(self->socket_, asio::buffer(self->body_),
                                        [self](boost::system::error_code ec2, size_t) {
                                          if (ec2) return self->Fail();
                                          self->Done();
                                        });
                     });
  }

  void Done() {
    auto resp = DecodeResponse(body_);
    if (!resp.ok() || !resp->status.ok()) {
      ++shared_->result.failed;
    } else {
      shared_->result.latencies_ns.push_back(static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start_).count()));
    }
    Next();
  }

  void Fail() {
    ++shared_->result.failed;
    shared_->Finished();
  }

  tcp::socket socket_;
  Shared* shared_;  // outlives every connection (RunLoad's frame)
  std::string out_;
  std::array<char, kFrameHeaderSize> header_{};
  std::string body_;
  Clock::time_point start_;
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
  for (auto& c : conns) c->Next();
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
