// tandem-bench: end-to-end load against tandemd, reported beside the
// machine's own limits measured in the same run.
//
//   tandem-bench put [-p ADDR | --root DIR] [-c CLIENTS] [-d SECONDS] [-n COUNT]
//                    [-s VALUE_BYTES] [-k KEYS] [--fsync always|off] [--json | --csv]
//   tandem-bench limits [--dir DIR]
//   tandem-bench recover [--root DIR] [--mb MEGABYTES] [--cold]
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "journal/engine.h"
#include "tools/load_generator.h"
#include "tools/machine_limits.h"
#include "transport/client.h"

namespace tandem {
namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string mode;
  std::string address;
  std::string root;
  int clients = 64;
  double seconds = 10;
  uint64_t count = 0;  // 0 = until time runs out
  size_t value_bytes = 100;
  uint64_t keys = 100000;
  std::string fsync = "always";
  std::string format = "table";
  uint64_t mb = 1024;
  bool cold = false;  // recover: drop the page cache first (root only)
};

std::string SelfDir() {
  return std::filesystem::read_symlink("/proc/self/exe").parent_path().string();
}

// A tandemd started (and stopped) by the benchmark.
class OwnServer {
 public:
  ~OwnServer() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  Result<std::string> Start(const std::string& root, const std::string& fsync) {
    std::string tandemd = SelfDir() + "/tandemd";
    std::string cset = "journal.fsync=" + fsync;
    if (std::system((tandemd + " -r " + root + " -cset " + cset + " >/dev/null").c_str()) != 0) {
      return Status::IOError("cannot configure " + root);
    }
    int fds[2];
    if (::pipe(fds) != 0) return Status::IOError("pipe failed");
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(fds[1], 1);
      ::close(fds[0]);
      std::string log = root + "/logs/tandemd.log";
      execl(tandemd.c_str(), "tandemd", "-r", root.c_str(), "-p", "127.0.0.1:0", "-L", log.c_str(),
            nullptr);
      ::_exit(127);
    }
    ::close(fds[1]);
    std::string line;
    char ch;
    while (::read(fds[0], &ch, 1) == 1 && ch != '\n') line.push_back(ch);
    ::close(fds[0]);
    auto on = line.find(" on ");
    auto at = line.find(" at ");
    if (on == std::string::npos || at == std::string::npos) {
      return Status::Unavailable("tandemd did not start: " + line);
    }
    return line.substr(on + 4, at - on - 4);
  }

 private:
  pid_t pid_ = -1;
};

double Percentile(std::vector<uint64_t>& sorted_ns, double p) {
  if (sorted_ns.empty()) return 0;
  size_t i = std::min(sorted_ns.size() - 1, static_cast<size_t>(p * sorted_ns.size()));
  return static_cast<double>(sorted_ns[i]) / 1e6;
}

int RunPut(const Options& o) {
  OwnServer own;
  std::string address = o.address;
  std::string root = o.root;
  if (address.empty()) {
    if (root.empty()) root = "/tmp/tandem-bench-" + std::to_string(::getpid());
    std::filesystem::remove_all(root);
    auto started = own.Start(root, o.fsync);
    if (!started.ok()) {
      std::cerr << "tandem-bench: " << started.status().message() << "\n";
      return 1;
    }
    address = *started;
  }
  auto addr = Address::Parse(address);
  if (!addr.ok()) {
    std::cerr << "tandem-bench: " << addr.status().message() << "\n";
    return 2;
  }

  std::string value(o.value_bytes, 'v');
  LoadOptions load;
  load.address = *addr;
  load.connections = o.clients;
  load.seconds = o.seconds;
  load.max_requests = o.count;
  load.make_request = [&](uint64_t n) {
    return Request{"", "", {"put", "bench", "k" + std::to_string((n * 7919) % o.keys), value}};
  };
  auto result = RunLoad(load);
  if (!result.ok()) {
    std::cerr << "tandem-bench: " << result.status().message() << "\n";
    return 1;
  }
  std::vector<uint64_t>& all = result->latencies_ns;
  std::sort(all.begin(), all.end());
  double elapsed = result->seconds;
  double commits_per_sec = static_cast<double>(all.size()) / elapsed;
  uint64_t failed = result->failed;

  std::string limits_dir = root.empty() ? "/tmp" : root;
  auto limits = MeasureDisk(limits_dir, 1.0);
  nlohmann::ordered_json j;
  j["clients"] = o.clients;
  j["value_bytes"] = o.value_bytes;
  j["fsync"] = o.fsync;
  j["seconds"] = elapsed;
  j["commits"] = all.size();
  j["failed"] = failed;
  j["commits_per_sec"] = commits_per_sec;
  j["p50_ms"] = Percentile(all, 0.50);
  j["p99_ms"] = Percentile(all, 0.99);
  j["p999_ms"] = Percentile(all, 0.999);
  if (limits.ok()) {
    j["disk_fdatasync_per_sec"] = limits->fdatasync_per_sec_preallocated;
    j["disk_seq_write_mb_per_sec"] = limits->seq_write_mb_per_sec;
    j["commits_per_fdatasync_capacity"] = commits_per_sec / limits->fdatasync_per_sec_preallocated;
  }
  if (o.format == "json") {
    std::cout << j.dump(2) << "\n";
  } else if (o.format == "csv") {
    bool first = true;
    for (auto& [k, v] : j.items()) std::cout << (first ? "" : ",") << k, first = false;
    std::cout << "\n";
    first = true;
    for (auto& [k, v] : j.items()) std::cout << (first ? "" : ",") << v, first = false;
    std::cout << "\n";
  } else {
    for (auto& [k, v] : j.items()) std::printf("%-34s %s\n", k.c_str(), v.dump().c_str());
  }
  return failed > 0 && all.empty() ? 1 : 0;
}

int RunLimits(const Options& o) {
  auto limits = MeasureDisk(o.root.empty() ? "/tmp" : o.root, 2.0);
  if (!limits.ok()) {
    std::cerr << "tandem-bench: " << limits.status().message() << "\n";
    return 1;
  }
  std::printf("fdatasync/s, 4 KiB overwrite of preallocated space: %.0f\n",
              limits->fdatasync_per_sec_preallocated);
  std::printf("fdatasync/s, 4 KiB append to a growing file:        %.0f\n",
              limits->fdatasync_per_sec_appending);
  std::printf("sequential write MB/s (1 MiB writes, fdatasync):   %.0f\n",
              limits->seq_write_mb_per_sec);
  return 0;
}

// Builds a journal of about `mb` megabytes, then times start-up recovery.
int RunRecover(const Options& o) {
  std::string root = o.root.empty() ? "/tmp/tandem-recover-" + std::to_string(::getpid()) : o.root;
  std::filesystem::remove_all(root);
  {
    auto engine = Engine::Open({root, false});
    if (!engine.ok()) {
      std::cerr << engine.status().message() << "\n";
      return 1;
    }
    std::string value(o.value_bytes, 'r');
    uint64_t target = o.mb << 20;
    std::atomic<int> inflight{0};
    for (uint64_t i = 0; (*engine)->durable().offset < target; ++i) {
      while (inflight > 4096) std::this_thread::yield();
      ++inflight;
      (*engine)->CommitAsync({{Op::Put("bench", "k" + std::to_string(i % o.keys), value)}},
                             [&](const Status&, Position) { --inflight; });
    }
  }
  if (o.cold) {
    ::sync();
    if (std::FILE* f = std::fopen("/proc/sys/vm/drop_caches", "w")) {
      std::fputs("3\n", f);
      std::fclose(f);
    } else {
      std::fprintf(stderr, "tandem-bench: cannot drop caches (not root?); recovery is warm\n");
    }
  }
  auto start = Clock::now();
  auto engine = Engine::Open({root, false});
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  if (!engine.ok()) {
    std::cerr << engine.status().message() << "\n";
    return 1;
  }
  const auto& r = (*engine)->recovery_report();
  std::printf("recovered %llu records, %.0f MB of journal in %.2f s: %.0f MB/s\n",
              static_cast<unsigned long long>(r.records_replayed),
              static_cast<double>(r.bytes_replayed) / (1 << 20), secs,
              static_cast<double>(r.bytes_replayed) / (1 << 20) / secs);
  engine->reset();
  if (o.root.empty()) std::filesystem::remove_all(root);
  return 0;
}

int Main(int argc, char** argv) {
  Options o;
  std::vector<std::string> v(argv + 1, argv + argc);
  if (v.empty()) {
    std::cerr << "usage: tandem-bench put|limits|recover [options]\n";
    return 2;
  }
  o.mode = v[0];
  for (size_t i = 1; i < v.size(); ++i) {
    auto next = [&]() -> std::string { return i + 1 < v.size() ? v[++i] : ""; };
    const std::string& f = v[i];
    if (f == "-p")
      o.address = next();
    else if (f == "--root" || f == "--dir")
      o.root = next();
    else if (f == "-c")
      o.clients = std::stoi(next());
    else if (f == "-d")
      o.seconds = std::stod(next());
    else if (f == "-n")
      o.count = std::stoull(next());
    else if (f == "-s")
      o.value_bytes = std::stoul(next());
    else if (f == "-k")
      o.keys = std::stoull(next());
    else if (f == "--mb")
      o.mb = std::stoull(next());
    else if (f == "--fsync")
      o.fsync = next();
    else if (f == "--cold")
      o.cold = true;
    else if (f == "--json")
      o.format = "json";
    else if (f == "--csv")
      o.format = "csv";
    else {
      std::cerr << "tandem-bench: unknown option '" << f << "'\n";
      return 2;
    }
  }
  if (o.mode == "put") return RunPut(o);
  if (o.mode == "limits") return RunLimits(o);
  if (o.mode == "recover") return RunRecover(o);
  std::cerr << "tandem-bench: unknown mode '" << o.mode << "'\n";
  return 2;
}

}  // namespace
}  // namespace tandem

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  return tandem::Main(argc, argv);
}
