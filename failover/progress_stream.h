// Sends the lines of a running `failover -y` to the client as they happen:
// after the opening response ({"progress": "1"}), one Response frame per line,
// then a last one carrying the result and {"end": "1"}. The client closes the
// connection when it has the last frame; only then (or after a grace period,
// if it never does) does a promoted server restart as master, so the client
// sees every line.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "failover/coordinator.h"
#include "transport/message.h"

namespace tandem {

class FailoverProgress : public Stream, public std::enable_shared_from_this<FailoverProgress> {
 public:
  explicit FailoverProgress(std::function<void()> on_promoted)
      : on_promoted_(std::move(on_promoted)) {}

  void Line(const FailoverLine& line);
  // The failover is over; `promoted` means the server must become master.
  void Finish(const Status& result, bool promoted);

  void Start(std::shared_ptr<FrameSink> sink) override;
  Status OnFrame(MessageType type, std::string_view body) override;
  void OnClose() override;

 private:
  void SendLocked(std::string body);
  void ArmGraceLocked();
  void Promote();

  std::function<void()> on_promoted_;
  std::mutex mu_;
  std::weak_ptr<FrameSink> sink_;  // the session owns us
  bool started_ = false;
  std::vector<std::string> pending_;  // lines produced before Start
  bool finished_ = false;
  bool promote_ = false;
  bool closed_ = false;
  bool promoted_ = false;
};

}  // namespace tandem
