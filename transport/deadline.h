// One time budget that several steps of a call share (connect, TLS, login,
// the answer): each gets what is left of it, but never less than a quarter
// of the whole, so that a slow first step leaves the next a fair try rather
// than a certain timeout (which a failover would read as a master gone).
// A call of any number of such steps takes at most its budget plus a
// quarter per step after the first that finds it spent.
#pragma once

#include <algorithm>
#include <chrono>

namespace tandem {

// A budget of 0 is not "no limit" (it gives each step 1 ms): a caller with
// no limit makes no Deadline.
class Deadline {
 public:
  explicit Deadline(std::chrono::milliseconds budget)
      : end_(std::chrono::steady_clock::now() + budget),
        floor_(std::max(std::chrono::milliseconds(1), budget / 4)) {}

  std::chrono::milliseconds Left() const {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        end_ - std::chrono::steady_clock::now());
    return std::max(floor_, left);
  }

 private:
  std::chrono::steady_clock::time_point end_;
  std::chrono::milliseconds floor_;
};

}  // namespace tandem
