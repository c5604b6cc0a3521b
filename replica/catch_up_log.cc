#include "replica/catch_up_log.h"

#include <cstdio>

namespace tandem {
namespace {

std::string Megabytes(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MB", static_cast<double>(bytes) / 1e6);
  return buf;
}

double SecondsBetween(CatchUpLog::Clock::time_point a, CatchUpLog::Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

}  // namespace

std::optional<std::string> CatchUpLog::Observe(Clock::time_point now,
                                               std::optional<uint64_t> behind_bytes,
                                               uint32_t journals, Position written) {
  if (last_written_ < written) {
    // A new journal starts at its header; the old one's tail was counted
    // when it was seen, near enough for a rate.
    copied_ += written.journal == last_written_.journal ? written.offset - last_written_.offset
                                                        : written.offset;
  }
  last_written_ = written;
  uint64_t copied = copied_;
  if (!Due(now)) return std::nullopt;
  // Journals the master has that are not here cannot be measured: two or
  // more of them is far behind.
  bool far = behind_bytes ? *behind_bytes >= kFarBehind : journals >= 2;
  uint64_t behind = behind_bytes.value_or(0);
  std::string how_far = behind_bytes ? Megabytes(behind) : std::to_string(journals) + " journals";
  std::optional<std::string> line;
  if (far) {
    if (!catching_up_) {
      catching_up_ = true;
      started_at_ = now;
      copied_at_start_ = copied;
      line = "journalcopy catching up: " + how_far + " behind the master";
    } else {
      double s = SecondsBetween(reported_at_, now);
      double rate = s > 0 ? static_cast<double>(copied - copied_at_report_) / s : 0;
      char buf[96];
      if (rate > 0 && behind_bytes) {
        std::snprintf(buf, sizeof buf, ", %.1f MB/s, about %.0f s left", rate / 1e6,
                      static_cast<double>(behind) / rate);
      } else if (rate > 0) {
        std::snprintf(buf, sizeof buf, ", %.1f MB/s", rate / 1e6);
      } else {
        std::snprintf(buf, sizeof buf, ", not moving");
      }
      line = "journalcopy catching up: " + how_far + " behind the master" + buf;
    }
  } else if (catching_up_) {
    catching_up_ = false;
    char buf[64];
    std::snprintf(buf, sizeof buf, " in %.1f s", SecondsBetween(started_at_, now));
    line = "journalcopy caught up: " + Megabytes(copied - copied_at_start_) + buf;
  }
  reported_ = true;
  reported_at_ = now;
  copied_at_report_ = copied;
  return line;
}

}  // namespace tandem
