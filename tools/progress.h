// Progress of a long operation (a submit, a restore): on a terminal a line
// redrawn at most ten times a second, "WHAT: 123.4 / 512.0 MB  85.3 MB/s  4 s
// left"; at the end, on a terminal or not, one summary line with the
// duration, "WHAT: 512.0 MB in 6.0 s (85.3 MB/s)". Both on stderr, so that
// stdout (and --json) stays the command's answer.
#pragma once

#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>

namespace tandem {

class Progress {
 public:
  using Clock = std::chrono::steady_clock;

  // `terminal`: redraw a progress line (stderr is a tty, normally).
  Progress(std::string what, uint64_t total_bytes, std::ostream* out, bool terminal);
  // For tandem and tandemd: on std::cerr, a progress line when it is a tty.
  static Progress OnStderr(std::string what, uint64_t total_bytes);

  void Update(uint64_t done_bytes);
  // Ends the progress line and prints the summary.
  void Finish();
  std::string Summary() const;

 private:
  double Seconds() const;
  std::string what_;
  uint64_t total_;
  uint64_t done_ = 0;
  std::ostream* out_;
  bool terminal_;
  Clock::time_point start_ = Clock::now();
  Clock::time_point drawn_{};
};

}  // namespace tandem
