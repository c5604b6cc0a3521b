#include "tools/progress.h"

#include <unistd.h>

#include <cstdio>
#include <iostream>

namespace tandem {
namespace {

std::string Megabytes(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", static_cast<double>(bytes) / 1e6);
  return buf;
}

std::string Rate(uint64_t bytes, double seconds) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MB/s",
                seconds > 0 ? static_cast<double>(bytes) / 1e6 / seconds : 0.0);
  return buf;
}

}  // namespace

Progress::Progress(std::string what, uint64_t total_bytes, std::ostream* out, bool terminal)
    : what_(std::move(what)), total_(total_bytes), out_(out), terminal_(terminal) {}

Progress Progress::OnStderr(std::string what, uint64_t total_bytes) {
  return Progress(std::move(what), total_bytes, &std::cerr, ::isatty(STDERR_FILENO) == 1);
}

double Progress::Seconds() const {
  return std::chrono::duration<double>(Clock::now() - start_).count();
}

void Progress::Update(uint64_t done_bytes) {
  done_ = done_bytes;
  if (!terminal_) return;
  auto now = Clock::now();
  if (now - drawn_ < std::chrono::milliseconds(100) && done_ < total_) return;
  drawn_ = now;
  double s = Seconds();
  double rate = s > 0 ? static_cast<double>(done_) / s : 0;
  std::string left =
      rate > 0 && total_ > done_
          ? std::to_string(static_cast<int64_t>(static_cast<double>(total_ - done_) / rate + 0.5)) +
                " s left"
          : "";
  *out_ << "\r" << what_ << ": " << Megabytes(done_) << " / " << Megabytes(total_) << " MB  "
        << Rate(done_, s) << "  " << left << "\x1b[K" << std::flush;  // erase the line's rest
}

std::string Progress::Summary() const {
  char secs[32];
  double s = Seconds();
  std::snprintf(secs, sizeof secs, "%.1f", s);
  return what_ + ": " + Megabytes(done_) + " MB in " + secs + " s (" + Rate(done_, s) + ")";
}

void Progress::Finish() {
  if (terminal_) *out_ << "\r\x1b[K";
  *out_ << Summary() << "\n" << std::flush;
}

}  // namespace tandem
