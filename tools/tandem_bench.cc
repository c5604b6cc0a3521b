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
#include <signal.h>

#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "tools/bench/cluster.h"
#include "tools/bench/modes.h"

namespace tandem::bench {
namespace {

// "-s 100" or, for content, a list of file sizes used in turn: "-s 4096,1048576".
std::vector<size_t> ParseSizes(const std::string& text) {
  std::vector<size_t> sizes;
  for (size_t at = 0; at <= text.size();) {
    size_t comma = std::min(text.find(',', at), text.size());
    sizes.push_back(std::stoul(text.substr(at, comma - at)));
    at = comma + 1;
  }
  return sizes;
}

int Main(int argc, char** argv) {
  Options o;
  std::vector<std::string> v(argv + 1, argv + argc);
  if (v.empty()) {
    std::cerr << "usage: tandem-bench put|limits|recover|copy|content|failover [options]\n";
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
      o.sizes = ParseSizes(next());
    else if (f == "-k")
      o.keys = std::stoull(next());
    else if (f == "--mb")
      o.mb = std::stoull(next());
    else if (f == "--fsync")
      o.fsync = next();
    else if (f == "--standbys")
      o.standbys = std::stoi(next());
    else if (f == "--replicas")
      o.replicas = std::stoi(next());
    else if (f == "--mandatory")
      o.mandatory = true;
    else if (f == "--commit-wait")
      o.commit_wait = next();
    else if (f == "--standby-fsync")
      o.standby_fsync = next();
    else if (f == "--runs")
      o.runs = std::max(1, std::stoi(next()));
    else if (f == "--unplanned")
      o.unplanned = true;
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
