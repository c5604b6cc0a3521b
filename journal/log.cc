#include "journal/log.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <ctime>
#include <exception>
#include <mutex>

namespace tandem {
namespace {

std::mutex g_mu;
int g_fd = STDERR_FILENO;       // guarded by g_mu
std::string g_path;             // guarded by g_mu
std::string g_server_id = "-";  // guarded by g_mu
LogSink g_sink;                 // guarded by g_mu
std::atomic<bool> g_quiet{false};
std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "WARNING";
    case LogLevel::kError:
      return "ERROR";
  }
  return "?";
}

}  // namespace

Status SetLogFile(const std::string& path) {
  int fd = STDERR_FILENO;
  if (!path.empty()) {
    fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) return Status::FromErrno(errno, "open log " + path);
  }
  std::lock_guard lock(g_mu);
  if (g_fd != STDERR_FILENO) ::close(g_fd);
  g_fd = fd;
  g_path = path;
  return Status::Ok();
}

Status ReopenLogFile() {
  std::string path;
  {
    std::lock_guard lock(g_mu);
    path = g_path;
  }
  return path.empty() ? Status::Ok() : SetLogFile(path);
}

void SetLogQuiet(bool quiet) { g_quiet = quiet; }

void SetLogLevel(LogLevel level) { g_level = static_cast<int>(level); }

bool LogEnabled(LogLevel level) {
  if (level == LogLevel::kInfo && g_quiet) return false;
  return static_cast<int>(level) >= g_level.load();
}

void SetLogServerId(const std::string& id) {
  std::lock_guard lock(g_mu);
  g_server_id = id.empty() ? "-" : Escaped(id);
}

void LogTerminations() {
  static std::terminate_handler previous = std::set_terminate([] {
    std::string why = "terminate called";
    if (auto e = std::current_exception()) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        why += " after an exception: " + std::string(ex.what());
      } catch (...) {
        why += " after an unknown exception";
      }
    }
    LogLine(LogLevel::kError, why + "; aborting");
    if (previous) previous();
    std::abort();
  });
}

// Control characters (a user name with a newline in it) must not forge or
// break log lines: they are written as \xNN.
std::string Escaped(std::string_view line) {
  std::string out;
  out.reserve(line.size());
  for (unsigned char c : line) {
    if (c < 0x20 || c == 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

void RedirectLog(LogSink sink) {
  std::lock_guard lock(g_mu);
  g_sink = std::move(sink);
}

void LogLine(LogLevel level, const std::string& line) {
  if (!LogEnabled(level)) return;
  auto now = std::chrono::system_clock::now();
  std::time_t secs = std::chrono::system_clock::to_time_t(now);
  auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm;
  gmtime_r(&secs, &tm);
  char stamp[40];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
  static const std::string pid = std::to_string(::getpid());
  std::string out =
      std::string(stamp) + "." + std::to_string(1000 + millis).substr(1) + "Z " + pid + " ";
  std::lock_guard lock(g_mu);
  if (g_sink) return g_sink(level, g_server_id, line);  // the host stamps it its own way
  out += g_server_id + " " + LevelName(level) + " " + Escaped(line) + "\n";
  // A failed log write has nowhere to be reported; the line is dropped.
  [[maybe_unused]] ssize_t ignored = ::write(g_fd, out.data(), out.size());
}

}  // namespace tandem
