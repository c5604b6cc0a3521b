#include "tests/integration/harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace tandem::testing {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string ScratchPath(const std::string& stem) {
  static std::atomic<int> counter{0};
  return "/tmp/tandem-it-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" +
         stem;
}

// fork + exec with stdin/stdout/stderr redirected to files.
pid_t Spawn(const std::string& program, const std::vector<std::string>& args,
            const SpawnOptions& options, const std::string& in_path, const std::string& out_path,
            const std::string& err_path) {
  std::vector<std::string> argv_s{program};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    int in = ::open(in_path.c_str(), O_RDONLY);
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    // Nothing else of the test's goes with it: a proxy's socket held open by
    // a server would keep a "closed" connection alive.
    ::close_range(3, ~0U, 0);
    for (const auto& [k, v] : options.env) ::setenv(k.c_str(), v.c_str(), 1);
    if (options.file_size_limit) {
      rlimit lim{*options.file_size_limit, RLIM_INFINITY};
      ::setrlimit(RLIMIT_FSIZE, &lim);
    }
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(program.c_str(), argv.data());
    ::_exit(127);
  }
  return pid;
}

}  // namespace

BackgroundProcess::BackgroundProcess(const std::string& program,
                                     const std::vector<std::string>& args, const std::string& log)
    : pid_(Spawn(program, args, {}, "/dev/null", log, log + ".stderr")) {}

BackgroundProcess::~BackgroundProcess() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  int status = 0;
  if (!WaitFor([&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; }, 10000)) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status, 0);
  }
}

bool BackgroundProcess::running() {
  int status = 0;
  if (pid_ > 0 && ::waitpid(pid_, &status, WNOHANG) == pid_) pid_ = -1;
  return pid_ > 0;
}

uint16_t UnusedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof sa;
  uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) == 0) {
    port = ntohs(sa.sin_port);
  }
  ::close(fd);
  return port;
}

HttpResult HttpExchange(const std::string& address, const std::string& raw) {
  HttpResult result;
  auto a = Address::Parse(address);
  if (!a.ok()) return result;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return result;
  timeval five{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &five, sizeof five);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &five, sizeof five);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(a->port);
  ::inet_pton(AF_INET, a->host.c_str(), &sa.sin_addr);
  std::string answer;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0 &&
      ::send(fd, raw.data(), raw.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(raw.size())) {
    ::shutdown(fd, SHUT_WR);  // all of the request: a cut one ends here
    char buf[16384];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;)
      answer.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  // "HTTP/1.1 200 OK\r\n...\r\n\r\nBODY"
  if (answer.rfind("HTTP/1.", 0) != 0 || answer.size() < 12) return result;
  result.status = std::atoi(answer.c_str() + 9);
  size_t body = answer.find("\r\n\r\n");
  if (body != std::string::npos) result.body = answer.substr(body + 4);
  return result;
}

HttpResult HttpGet(const std::string& address, const std::string& target) {
  return HttpExchange(
      address, "GET " + target + " HTTP/1.1\r\nHost: " + address + "\r\nConnection: close\r\n\r\n");
}

size_t CountOf(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = 0; (at = text.find(what, at)) != std::string::npos; at += what.size()) ++n;
  return n;
}

bool WaitFor(const std::function<bool()>& pred, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

CommandResult Run(const std::string& program, const std::vector<std::string>& args,
                  const SpawnOptions& options) {
  std::string in = ScratchPath("in"), out = ScratchPath("out"), err = ScratchPath("err");
  std::ofstream(in) << options.stdin_data;
  pid_t pid = Spawn(program, args, options, in, out, err);
  int status = 0;
  bool done = WaitFor([&] { return ::waitpid(pid, &status, WNOHANG) == pid; }, 120000);
  if (!done) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
  }
  CommandResult r{WIFEXITED(status) ? WEXITSTATUS(status) : -1, Slurp(out), Slurp(err)};
  ::unlink(in.c_str());
  ::unlink(out.c_str());
  ::unlink(err.c_str());
  return r;
}

CommandResult RunTandem(const std::vector<std::string>& args, const SpawnOptions& options) {
  return Run(TANDEM_PATH, args, options);
}

CommandResult RunTandemd(const std::vector<std::string>& args, const SpawnOptions& options) {
  return Run(TANDEMD_PATH, args, options);
}

std::unique_ptr<TandemdProcess> TandemdProcess::Start(const std::string& root,
                                                      const std::string& listen,
                                                      const SpawnOptions& options) {
  auto p = std::unique_ptr<TandemdProcess>(new TandemdProcess());
  std::string in = ScratchPath("in"), out = root + ".stdout", err = root + ".stderr";
  std::ofstream(in) << options.stdin_data;
  ::unlink(out.c_str());  // never read the previous run's "serving" line
  p->log_ = root + ".log";
  p->stderr_ = err;
  p->pid_ = Spawn(TANDEMD_PATH, {"-r", root, "-p", listen, "-L", p->log_}, options, in, out, err);
  std::regex serving(" on ((ssl:)?[0-9.]+:[0-9]+) at ");
  std::smatch m;
  bool up = WaitFor([&] {
    std::string text = Slurp(out);
    if (std::regex_search(text, m, serving)) {
      p->address_ = m[1];
      std::smatch mm;
      if (std::regex_search(text, mm, std::regex("metrics on http://([0-9.]+:[0-9]+)/"))) {
        p->metrics_address_ = mm[1];
      }
      return true;
    }
    int status;
    return ::waitpid(p->pid_, &status, WNOHANG) == p->pid_;  // died: stop waiting
  });
  ::unlink(in.c_str());
  if (!up || p->address_.empty()) {
    p->pid_ = -1;
    return nullptr;
  }
  return p;
}

TandemdProcess::~TandemdProcess() { Kill9(); }

std::string TandemdProcess::Log() const { return Slurp(log_); }

void TandemdProcess::Kill9() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

void TandemdProcess::Stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGSTOP);
  int status = 0;
  while (::waitpid(pid_, &status, WUNTRACED) == -1 && errno == EINTR) {
  }
  if (WIFEXITED(status) || WIFSIGNALED(status)) pid_ = -1;  // it ended first: reaped
}

void TandemdProcess::Continue() {
  if (pid_ > 0) ::kill(pid_, SIGCONT);
}

bool TandemdProcess::Exited() {
  if (pid_ > 0 && ::waitpid(pid_, nullptr, WNOHANG) == pid_) pid_ = -1;
  return pid_ <= 0;
}

int TandemdProcess::Terminate() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  // A failed shutdown is usually a sanitizer report: show it with the failure.
  if (code != 0) std::cerr << "tandemd exited " << code << "; stderr:\n" << Slurp(stderr_);
  return code;
}

std::unique_ptr<Client> TandemdProcess::Connect() const {
  auto c = Client::Connect(parsed_address(), {});
  return c.ok() ? std::move(c).value() : nullptr;
}

}  // namespace tandem::testing
