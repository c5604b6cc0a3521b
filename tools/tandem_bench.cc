// tandem-bench: end-to-end load against tandemd, reported beside the
// machine's own limits measured in the same run.
//
//   tandem-bench put [-p ADDR | --root DIR] [-c CLIENTS] [-d SECONDS] [-n COUNT]
//                    [-s VALUE_BYTES] [-k KEYS] [--fsync always|off] [--json | --csv]
//                    [--standbys N] [--replicas N] [--mandatory] [--commit-wait local|mandatory]
//                    [--standby-fsync always|off]
//   tandem-bench copy [--mb MEGABYTES] [--standby-fsync always|off]
//   tandem-bench content [-c CLIENTS] [-n FILES] [-s FILE_BYTES[,FILE_BYTES...]]
//   tandem-bench limits [--dir DIR]
//   tandem-bench recover [--root DIR] [--mb MEGABYTES] [--cold]
//   tandem-bench failover [--runs N] [-c CLIENTS] [--unplanned] [--commit-wait local|mandatory]
//                         [--root DIR] [--series FILE.csv]
//     --series: the first run's commits/s, latency p50/p99 per 100 ms, lag per
//     downstream server and the failover's start and end (bench/plot.py FILE.csv OUT.png)
#include <signal.h>

#include <algorithm>
#include <charconv>
#include <iostream>
#include <string>
#include <vector>

#include "journal/numbers.h"
#include "tools/bench/cluster.h"
#include "tools/bench/modes.h"

namespace tandem::bench {
namespace {

// A number given on the command line, checked: out of range or not a
// number is a usage error naming the option, never an exception.
template <typename T>
bool Number(const std::string& flag, const std::string& text, T min, T max, T* out) {
  auto v = ParseDecimalIn<T>(text, flag, min, max);
  if (!v.ok()) {
    std::cerr << "tandem-bench: " << v.status().message() << "\n";
    return false;
  }
  *out = *v;
  return true;
}

bool Seconds(const std::string& text, double* out) {
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || !(v > 0) ||
      v > 86400) {
    std::cerr << "tandem-bench: -d needs seconds in (0, 86400], not '" << text.substr(0, 64)
              << "'\n";
    return false;
  }
  *out = v;
  return true;
}

// "-s 100" or, for content, a list of file sizes used in turn: "-s 4096,1048576".
bool ParseSizes(const std::string& text, std::vector<size_t>* sizes) {
  sizes->clear();
  for (size_t at = 0; at <= text.size();) {
    size_t comma = std::min(text.find(',', at), text.size());
    size_t size = 0;
    if (!Number<size_t>("-s", text.substr(at, comma - at), 1, size_t{1} << 34, &size)) return false;
    sizes->push_back(size);
    at = comma + 1;
  }
  return true;
}

constexpr const char* kUsage =
    "usage: tandem-bench put|limits|recover|copy|content|failover [options]  (see "
    "tools/tandem_bench.cc)\n";

int Main(int argc, char** argv) {
  Options o;
  std::vector<std::string> v(argv + 1, argv + argc);
  if (v.empty()) {
    std::cerr << kUsage;
    return 2;
  }
  if (v[0] == "--version") {
    std::cout << "tandem-bench " << TANDEM_VERSION << "\n";
    return 0;
  }
  if (v[0] == "-h" || v[0] == "--help") {
    std::cout << kUsage;
    return 0;
  }
  o.mode = v[0];
  constexpr int kMaxInt = 1 << 20;
  constexpr uint64_t kMaxCount = uint64_t{1} << 40;
  for (size_t i = 1; i < v.size(); ++i) {
    auto next = [&]() -> std::string { return i + 1 < v.size() ? v[++i] : ""; };
    const std::string& f = v[i];
    bool ok = true;
    if (f == "-p")
      o.address = next();
    else if (f == "--root" || f == "--dir")
      o.root = next();
    else if (f == "-c")
      ok = Number(f, next(), 1, 100000, &o.clients);
    else if (f == "-d")
      ok = Seconds(next(), &o.seconds);
    else if (f == "-n")
      ok = Number<uint64_t>(f, next(), 1, kMaxCount, &o.count);
    else if (f == "-s")
      ok = ParseSizes(next(), &o.sizes);
    else if (f == "-k")
      ok = Number<uint64_t>(f, next(), 1, kMaxCount, &o.keys);
    else if (f == "--mb")
      ok = Number<uint64_t>(f, next(), 1, uint64_t{1} << 20, &o.mb);
    else if (f == "--fsync")
      o.fsync = next();
    else if (f == "--standbys")
      ok = Number(f, next(), 0, 16, &o.standbys);
    else if (f == "--replicas")
      ok = Number(f, next(), 0, 16, &o.replicas);
    else if (f == "--mandatory")
      o.mandatory = true;
    else if (f == "--commit-wait")
      o.commit_wait = next();
    else if (f == "--standby-fsync")
      o.standby_fsync = next();
    else if (f == "--runs")
      ok = Number(f, next(), 1, kMaxInt, &o.runs);
    else if (f == "--unplanned")
      o.unplanned = true;
    else if (f == "--series")
      o.series = next();
    else if (f == "--cold")
      o.cold = true;
    else if (f == "--json")
      o.format = "json";
    else if (f == "--csv")
      o.format = "csv";
    else {
      std::cerr << "tandem-bench: unknown option '" << f << "'\n" << kUsage;
      return 2;
    }
    if (!ok) return 2;
  }
  if (o.mode == "put") return RunPut(o);
  if (o.mode == "limits") return RunLimits(o);
  if (o.mode == "recover") return RunRecover(o);
  if (o.mode == "copy") return RunCopy(o);
  if (o.mode == "content") return RunContent(o);
  if (o.mode == "failover") return RunFailover(o);
  std::cerr << "tandem-bench: unknown mode '" << o.mode << "'\n";
  return 2;
}

}  // namespace
}  // namespace tandem::bench

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  return tandem::bench::Main(argc, argv);
}
