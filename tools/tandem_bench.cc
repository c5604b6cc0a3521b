// tandem-bench: end-to-end load against tandemd, reported beside the
// machine's own limits measured in the same run.
//
//   tandem-bench put [-p ADDR | --root DIR] [-c CLIENTS] [-d SECONDS] [-n COUNT]
//                    [-s VALUE_BYTES] [-k KEYS] [-P PIPELINE] [--fsync always|off] [--json | --csv]
//                    [--standbys N] [--replicas N] [--mandatory] [--commit-wait local|mandatory]
//                    [--standby-fsync always|off]
//   tandem-bench copy [--mb MEGABYTES] [--standby-fsync always|off]
//   tandem-bench content [-c CLIENTS] [-n FILES] [-s FILE_BYTES[,FILE_BYTES...]]
//   tandem-bench limits [--dir DIR]
//   tandem-bench recover [--root DIR] [--mb MEGABYTES] [--cold]
//   tandem-bench checkpoint [--root DIR] [-c CLIENTS] [-d SECONDS] [-k ROWS] [-s VALUE_BYTES]
//   tandem-bench failover [--runs N] [-c CLIENTS] [--unplanned] [--commit-wait local|mandatory]
//                         [--root DIR] [--series FILE.csv]
//     --series: the first run's commits/s, latency p50/p99 per 100 ms, lag per
//     downstream server and the failover's start and end (bench/plot.py FILE.csv OUT.png)
#include <signal.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "tools/bench/cluster.h"
#include "tools/bench/modes.h"

namespace tandem::bench {
namespace {

constexpr uint64_t kMaxCount = uint64_t{1} << 40;

// Options shared by several modes, each added where it means something.
void ClientsOption(CLI::App* mode, Options* o) {
  mode->add_option("-c", o->clients, "client connections")->check(CLI::Range(1, 100000));
}
void RootOption(CLI::App* mode, Options* o) {
  mode->add_option("--root", o->root, "a root (or directory) of its own to use");
}
void ClusterOptions(CLI::App* mode, Options* o) {
  mode->add_option("--standbys", o->standbys, "standbys of the master it starts")
      ->check(CLI::Range(0, 16));
  mode->add_option("--replicas", o->replicas, "replicas of the master it starts")
      ->check(CLI::Range(0, 16));
  mode->add_flag("--mandatory", o->mandatory, "the standbys are mandatory");
  mode->add_option("--commit-wait", o->commit_wait, "commit.wait")
      ->check(CLI::IsMember({"local", "mandatory"}));
  mode->add_option("--fsync", o->fsync, "journal.fsync of the master")
      ->check(CLI::IsMember({"always", "off"}));
  mode->add_option("--standby-fsync", o->standby_fsync, "journalcopy.fsync of the standbys")
      ->check(CLI::IsMember({"always", "off"}));
}
void SizesOption(CLI::App* mode, Options* o, const char* what) {
  mode->add_option("-s", o->sizes, what)
      ->delimiter(',')
      ->check(CLI::Range(size_t{1}, size_t{1} << 34));
}

int Main(int argc, char** argv) {
  Options o;
  CLI::App app("tandem-bench: end-to-end load against tandemd, beside the machine's limits");
  app.set_version_flag("--version", std::string("tandem-bench ") + TANDEM_VERSION);
  app.require_subcommand(1);

  CLI::App* put = app.add_subcommand("put", "commits/s and latency, beside fsync capacity");
  put->add_option("-p", o.address, "an existing server's HOST:PORT (else it starts one)");
  RootOption(put, &o);
  ClientsOption(put, &o);
  put->add_option("-d", o.seconds, "seconds of load")->check(CLI::Range(0.001, 86400.0));
  put->add_option("-n", o.count, "commits in all (instead of -d)")
      ->check(CLI::Range(uint64_t{1}, kMaxCount));
  SizesOption(put, &o, "value bytes");
  put->add_option("-k", o.keys, "distinct keys")->check(CLI::Range(uint64_t{1}, kMaxCount));
  put->add_option("-P", o.pipeline, "requests in flight on each connection (as redis-benchmark -P)")
      ->check(CLI::Range(1, 1024));
  ClusterOptions(put, &o);
  bool as_json = false, as_csv = false;
  auto* json = put->add_flag("--json", as_json, std::string("JSON output"));
  put->add_flag("--csv", as_csv, std::string("CSV output"))->excludes(json);

  CLI::App* limits = app.add_subcommand("limits", "the disk's and loopback's limits");
  limits->add_option("--dir", o.root, "where to measure the disk");

  CLI::App* recover = app.add_subcommand("recover", "start-up recovery of a large journal");
  RootOption(recover, &o);
  recover->add_option("--mb", o.mb, "journal megabytes")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 20));
  recover->add_option("-k", o.keys, "distinct keys")->check(CLI::Range(uint64_t{1}, kMaxCount));
  SizesOption(recover, &o, "value bytes");
  recover->add_flag("--cold", o.cold, "drop the page cache first (root only)");

  CLI::App* checkpoint =
      app.add_subcommand("checkpoint", "commit latency while checkpoints are taken");
  RootOption(checkpoint, &o);
  ClientsOption(checkpoint, &o);
  checkpoint->add_option("-d", o.seconds, "seconds of load, once without and once with checkpoints")
      ->check(CLI::Range(0.001, 86400.0));
  checkpoint->add_option("-k", o.keys, "rows (and distinct keys written)")
      ->check(CLI::Range(uint64_t{1}, kMaxCount));
  SizesOption(checkpoint, &o, "value bytes");

  CLI::App* copy = app.add_subcommand("copy", "journalcopy throughput to one standby");
  RootOption(copy, &o);
  copy->add_option("--mb", o.mb, "journal megabytes")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 20));
  copy->add_option("--standby-fsync", o.standby_fsync, "journalcopy.fsync of the standby")
      ->check(CLI::IsMember({"always", "off"}));

  CLI::App* content = app.add_subcommand("content", "submit and pull -u MB/s");
  RootOption(content, &o);
  ClientsOption(content, &o);
  content->add_option("-n", o.count, "files")->check(CLI::Range(uint64_t{1}, kMaxCount));
  SizesOption(content, &o, "file sizes, used in turn: 4096,1048576");
  content->add_option("--standbys", o.standbys, "standbys")->check(CLI::Range(0, 16));
  content->add_option("--replicas", o.replicas, "replicas")->check(CLI::Range(0, 16));

  CLI::App* failover =
      app.add_subcommand("failover", "failover time under load, and what survived");
  RootOption(failover, &o);
  ClientsOption(failover, &o);
  failover->add_option("--runs", o.runs, "fresh clusters, one failover each")
      ->check(CLI::Range(1, 1 << 20));
  failover->add_flag("--unplanned", o.unplanned, "SIGKILL the master instead of asking it");
  failover->add_option("--commit-wait", o.commit_wait, "commit.wait")
      ->check(CLI::IsMember({"local", "mandatory"}));
  failover->add_option("--series", o.series,
                       "the first run's time series as CSV, for bench/plot.py");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; any other mistake is a usage error (2).
    int shown = app.exit(e);
    return shown == 0 ? 0 : 2;
  }
  if (as_json) o.format = "json";
  if (as_csv) o.format = "csv";
  o.mode = app.get_subcommands().front()->get_name();
  if (o.mode == "put") return RunPut(o);
  if (o.mode == "limits") return RunLimits(o);
  if (o.mode == "recover") return RunRecover(o);
  if (o.mode == "checkpoint") return RunCheckpoint(o);
  if (o.mode == "copy") return RunCopy(o);
  if (o.mode == "content") return RunContent(o);
  return RunFailover(o);
}

}  // namespace
}  // namespace tandem::bench

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  return tandem::bench::Main(argc, argv);
}
