#include "failover/progress_stream.h"

#include <chrono>

namespace tandem {

void FailoverProgress::Line(const FailoverLine& line) {
  std::lock_guard lock(mu_);
  SendLocked(EncodeResponse(Response::Rows({{{line.kind, line.text}}})));
}

void FailoverProgress::Finish(const Status& result, bool promoted) {
  Response end = Response::Rows({{{"end", "1"}, {"promoted", promoted ? "1" : "0"}}});
  end.status = result;
  bool closed;
  {
    std::lock_guard lock(mu_);
    finished_ = true;
    promote_ = promoted;
    SendLocked(EncodeResponse(end));
    if (started_) ArmGraceLocked();
    // Never started: the client went away before the first response was
    // written (the session drops a stream it can no longer start).
    closed = closed_ || !started_;
  }
  if (closed) Promote();  // nobody to wait for
}

void FailoverProgress::Start(std::shared_ptr<FrameSink> sink) {
  std::lock_guard lock(mu_);
  sink_ = sink;
  started_ = true;
  for (auto& body : pending_) sink->SendFrame(MessageType::kResponse, std::move(body));
  pending_.clear();
  if (finished_) ArmGraceLocked();
}

Status FailoverProgress::OnFrame(MessageType, std::string_view) {
  return Status::InvalidArgument("nothing is expected from the client during a failover");
}

void FailoverProgress::OnClose() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  Promote();
}

void FailoverProgress::SendLocked(std::string body) {
  if (started_) {
    if (auto sink = sink_.lock()) sink->SendFrame(MessageType::kResponse, std::move(body));
  } else {
    pending_.push_back(std::move(body));
  }
}

void FailoverProgress::ArmGraceLocked() {
  if (!promote_) return;
  // Gone already? Then it closed, and OnClose promoted.
  if (auto sink = sink_.lock()) {
    sink->Post([self = shared_from_this()] { self->Promote(); }, std::chrono::seconds(2));
  }
}

void FailoverProgress::Promote() {
  {
    std::lock_guard lock(mu_);
    if (!promote_ || promoted_) return;
    promoted_ = true;
  }
  on_promoted_();
}

}  // namespace tandem
