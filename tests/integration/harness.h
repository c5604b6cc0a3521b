// Real processes for integration tests: tandemd servers on loopback ports
// that tests start, SIGKILL and restart, and the tandem command line.
#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "journal/address.h"
#include "tests/testing/temp_dir.h"
#include "transport/client.h"

namespace tandem::testing {

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

struct SpawnOptions {
  std::string stdin_data;
  std::map<std::string, std::string> env;   // added to the test's environment
  std::optional<uint64_t> file_size_limit;  // RLIMIT_FSIZE for the child
};

// Runs a program to completion (bounded by a 120 s deadline).
CommandResult Run(const std::string& program, const std::vector<std::string>& args,
                  const SpawnOptions& options = {});
CommandResult RunTandem(const std::vector<std::string>& args, const SpawnOptions& options = {});
CommandResult RunTandemd(const std::vector<std::string>& args, const SpawnOptions& options = {});

class TandemdProcess {
 public:
  // Starts tandemd on `root` and waits until it is serving. `listen` may use
  // port 0; address() then gives the real one.
  static std::unique_ptr<TandemdProcess> Start(const std::string& root,
                                               const std::string& listen = "127.0.0.1:0",
                                               const SpawnOptions& options = {});
  ~TandemdProcess();

  const std::string& address() const { return address_; }
  // Where it serves /metrics, if it does (metrics.address or --metrics).
  const std::string& metrics_address() const { return metrics_address_; }
  Address parsed_address() const { return *Address::Parse(address_); }
  pid_t pid() const { return pid_; }
  const std::string& log_path() const { return log_; }
  std::string Log() const;
  void Kill9();
  // SIGSTOP, returning once every thread has stopped: kill() alone returns
  // while threads still run, and a hung peer that answers one more frame
  // makes a test racy.
  void Stop();
  void Continue();
  // True once the process has ended on its own (it is then reaped).
  bool Exited();
  // Graceful stop via SIGTERM; returns the exit status.
  int Terminate();
  // A connected in-process client.
  std::unique_ptr<Client> Connect() const;

 private:
  pid_t pid_ = -1;
  std::string address_;
  std::string metrics_address_;
  std::string log_;
  std::string stderr_;
};

// Another program the test runs beside the servers (a Prometheus server),
// its output in `log`; SIGTERMed and reaped when it goes.
class BackgroundProcess {
 public:
  BackgroundProcess(const std::string& program, const std::vector<std::string>& args,
                    const std::string& log);
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;
  bool running();

 private:
  pid_t pid_ = -1;
};

// A loopback port nothing listens on just now.
uint16_t UnusedPort();

struct HttpResult {
  int status = -1;  // -1: no answer
  std::string body;
};
// Sends `raw` (a whole HTTP request) to HOST:PORT and reads the answer until
// the server closes (bounded by 5 s); HttpGet builds the request.
HttpResult HttpExchange(const std::string& address, const std::string& raw);
HttpResult HttpGet(const std::string& address, const std::string& target);

// Waits (bounded) for `pred` to become true, polling.
bool WaitFor(const std::function<bool()>& pred, int timeout_ms = 20000);
// How many times `what` occurs in `text` (a log's lines of one kind).
size_t CountOf(const std::string& text, const std::string& what);

}  // namespace tandem::testing
