// Arbitrary frames from a downstream server on an open journal stream: the
// streamer must refuse what does not parse or claims what it was never
// sent, and never crash. The origin is a small real journal.
#include <unistd.h>

#include <cstdint>
#include <memory>
#include <string>

#include "journal/engine.h"
#include "journal/log.h"
#include "replica/journal_streamer.h"

namespace {

using namespace tandem;

class FakeOrigin : public StreamOrigin {
 public:
  explicit FakeOrigin(std::string journal, Position end)
      : journal_(std::move(journal)), end_(end) {}
  Position durable() const override { return end_; }
  Position release() const override { return end_; }
  Epoch epoch() const override { return Epoch{1}; }
  const std::string& server_id() const override { return id_; }
  const Tables& tables() const override { return tables_; }
  Result<std::string> JournalPath(uint32_t n) const override {
    if (n != 1) return Status::NotFound("no journal " + std::to_string(n));
    return journal_;
  }
  void Attach(const std::string&, std::shared_ptr<StreamListener>) override {}
  void Detach(const std::string&, const StreamListener*) override {}
  void OnAck(const std::string&, const JournalAck&) override {}

 private:
  std::string journal_;
  Position end_;
  std::string id_ = "master1";
  Tables tables_;
};

// Runs posted work at once, on the caller's thread (as the strand would).
class FakeSink : public FrameSink {
 public:
  void SendFrame(MessageType, std::string body) override { sent += body.size(); }
  void CloseWith(const std::string&) override { closed = true; }
  void Post(std::function<void()> fn, std::chrono::milliseconds delay) override {
    if (delay.count() == 0) fn();
  }
  size_t sent = 0;
  bool closed = false;
};

FakeOrigin& TheOrigin() {
  static FakeOrigin* origin = [] {
    SetLogQuiet(true);
    char dir[] = "/tmp/tandem-fuzz-ack-XXXXXX";
    std::string root = std::string(mkdtemp(dir)) + "/root";
    auto engine = std::move(Engine::Open({root, false})).value();
    for (int i = 0; i < 20; ++i) (void)engine->Commit({{Op::Put("t", std::to_string(i), "v")}});
    Position end = engine->durable();
    engine.reset();
    return new FakeOrigin(root + "/journal", end);
  }();
  return *origin;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FakeOrigin& origin = TheOrigin();
  auto sink = std::make_shared<FakeSink>();
  auto streamer = std::make_shared<JournalStreamer>(&origin, "sb1", false, Position{1, 0});
  streamer->Start(sink);
  // Frames: u8 type, u16 length, then that many bytes; repeated.
  std::string_view in(reinterpret_cast<const char*>(data), size);
  while (in.size() >= 3 && !sink->closed) {
    auto type = static_cast<MessageType>(static_cast<uint8_t>(in[0]) % 6);
    size_t len = std::min<size_t>(in.size() - 3,
                                  static_cast<uint8_t>(in[1]) | (static_cast<uint8_t>(in[2]) << 8));
    Status st = streamer->OnFrame(type, in.substr(3, len));
    in.remove_prefix(3 + len);
    if (!st.ok()) break;  // the session would close the connection
  }
  streamer->OnClose();
  return 0;
}
