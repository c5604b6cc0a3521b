// A small process-wide logger: timestamped lines to a file (tandemd -L) or to
// stderr. Thread-safe; each line is written with a single write(2).
#pragma once

#include <sstream>
#include <string>
#include <string_view>

#include "journal/status.h"

namespace tandem {

enum class LogLevel { kInfo, kWarning, kError };

// Appends to `path` from now on (creating it). Empty path = stderr.
Status SetLogFile(const std::string& path);
void SetLogQuiet(bool quiet);  // drop kInfo lines (command-line tools)
// `text` with control characters written as \xNN (log lines do this too).
std::string Escaped(std::string_view text);
void LogLine(LogLevel level, const std::string& line);

class LogMessage {
 public:
  explicit LogMessage(LogLevel level) : level_(level) {}
  ~LogMessage() { LogLine(level_, stream_.str()); }
  LogMessage(const LogMessage&) = delete;
  LogMessage& operator=(const LogMessage&) = delete;
  template <typename T>
  LogMessage& operator<<(const T& v) {
    stream_ << v;
    return *this;
  }

 private:
  LogLevel level_;
  std::ostringstream stream_;
};

inline LogMessage LogInfo() { return LogMessage(LogLevel::kInfo); }
inline LogMessage LogWarning() { return LogMessage(LogLevel::kWarning); }
inline LogMessage LogError() { return LogMessage(LogLevel::kError); }

}  // namespace tandem
