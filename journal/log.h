// A small process-wide logger: lines to a file (tandemd -L) or to stderr,
// each "2026-12-02T01:43:39.123Z PID SERVERID LEVEL message" (UTC), written
// with a single write(2). Thread-safe.
#pragma once

#include <functional>
#include <sstream>
#include <string>
#include <string_view>

#include "journal/status.h"

namespace tandem {

enum class LogLevel { kDebug, kInfo, kWarning, kError };

// Appends to `path` from now on (creating it). Empty path = stderr.
Status SetLogFile(const std::string& path);
// Opens the same path again (SIGHUP, after logrotate moved the file).
Status ReopenLogFile();
void SetLogQuiet(bool quiet);  // drop kInfo lines (command-line tools)
// Lines below `level` are dropped (log.level); info by default.
void SetLogLevel(LogLevel level);
bool LogEnabled(LogLevel level);
// The ServerID every line names ("-" until it is known).
void SetLogServerId(const std::string& id);
// std::terminate writes why into the log before the process aborts.
void LogTerminations();
// `text` with control characters written as \xNN (log lines do this too).
std::string Escaped(std::string_view text);
void LogLine(LogLevel level, const std::string& line);
// Sends every line to `sink` instead of the file or stderr (an embedding
// host's own logger): the level, this process's ServerID and the message,
// unformatted. Called on the logging thread, one line at a time; it must not
// log itself. Null restores the file or stderr.
using LogSink = std::function<void(LogLevel, std::string_view server_id, std::string_view line)>;
void RedirectLog(LogSink sink);

class LogMessage {
 public:
  explicit LogMessage(LogLevel level) : level_(level), on_(LogEnabled(level)) {}
  ~LogMessage() {
    if (on_) LogLine(level_, stream_.str());
  }
  LogMessage(const LogMessage&) = delete;
  LogMessage& operator=(const LogMessage&) = delete;
  template <typename T>
  LogMessage& operator<<(const T& v) {
    if (on_) stream_ << v;  // no formatting work for a line that is filtered out
    return *this;
  }

 private:
  LogLevel level_;
  bool on_;
  std::ostringstream stream_;
};

inline LogMessage LogDebug() { return LogMessage(LogLevel::kDebug); }
inline LogMessage LogInfo() { return LogMessage(LogLevel::kInfo); }
inline LogMessage LogWarning() { return LogMessage(LogLevel::kWarning); }
inline LogMessage LogError() { return LogMessage(LogLevel::kError); }

}  // namespace tandem
