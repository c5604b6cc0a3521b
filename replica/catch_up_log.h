// A standby or replica far behind its master says so in its log while it
// catches up: every 5 s, "journalcopy catching up: 812.3 MB behind the
// master, 95.1 MB/s, about 9 s left", and once it is close, "journalcopy
// caught up: 1.2 GB in 14.2 s". Nothing is logged for ordinary lag.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "journal/position.h"

namespace tandem {

class CatchUpLog {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr uint64_t kFarBehind = 64ull << 20;  // bytes: below this, quiet
  static constexpr std::chrono::seconds kEvery{5};

  // `behind`: bytes of the master's durable journal not yet copied here, if
  // measurable (in the master's journal); `journals`: journals between;
  // `written`: how far journalcopy has written. Returns the line to log, if any.
  std::optional<std::string> Observe(Clock::time_point now, std::optional<uint64_t> behind,
                                     uint32_t journals, Position written);
  // Whether Observe would want to know now (it is cheap to skip the rest).
  bool Due(Clock::time_point now) const { return !reported_ || now - reported_at_ >= kEvery; }

 private:
  bool catching_up_ = false;
  bool reported_ = false;
  Clock::time_point reported_at_{}, started_at_{};
  uint64_t copied_at_report_ = 0, copied_at_start_ = 0;
  uint64_t copied_ = 0;  // since this server started, from the positions seen
  Position last_written_;
};

}  // namespace tandem
