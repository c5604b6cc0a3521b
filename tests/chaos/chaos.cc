// tandem-chaos: seeded, reproducible cycles of random faults under load on
// real clusters (tests/chaos/cluster.h), each checked for the promises:
//
//   lost       acknowledged writes the final master lacks: 0 with
//              commit.wait=mandatory, and 0 with local unless a failover
//              took over without the master (then counted, not failed);
//   invented   keys present that no client ever sent: 0;
//   split      epochs in which two servers acknowledged writes: 0;
//   ahead      downstream servers holding a key their master lacks: 0;
//   converged  once the faults heal, every server reaches the master's data
//              within 60 s.
//
// Cycle C of seed S is a function of (S, C) alone: on a failure the roots
// and logs are kept and the command that replays the cycle is printed.
//
//   tandem-chaos --cycles N --seed S [--first C] [--dir DIR] [--cover] [--keep]
//
// --cover makes cycle C open with fault kind C mod kinds, so that any run
// of at least that many cycles has every kind at least once.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "journal/numbers.h"
#include "tests/chaos/cluster.h"
#include "tests/chaos/load.h"
#include "transport/client.h"

namespace tandem::chaos {
namespace {

using std::chrono::milliseconds;
using testing::RunTandem;
using testing::WaitFor;

enum Kind {
  kKill,
  kStop,
  kReset,
  kBlackHole,
  kDiskFull,
  kPlanned,
  kUnplanned,
  kIgnoreMaster,
  kForced,
  kKillMidOperation,
  kChain,
  kLink,
  kKinds
};
const char* const kKindNames[kKinds] = {"kill",
                                        "sigstop",
                                        "reset",
                                        "black-hole",
                                        "disk-full",
                                        "planned",
                                        "unplanned",
                                        "ignore-master",
                                        "forced",
                                        "kill-mid-operation",
                                        "failover-rejoin-failback",
                                        "one-link"};

struct Totals {
  int cycles = 0;
  std::map<std::string, int> faults;
  size_t acked = 0, lost = 0, lost_allowed = 0, invented = 0, split = 0, ahead = 0;
  int not_converged = 0;
  std::vector<double> failover_ms;
};

struct Options {
  int cycles = 10;
  uint64_t seed = 1;
  int first = 0;
  std::string dir;
  bool cover = false;
  bool keep = false;  // keep every cycle's roots and logs, not only a failed one's
};

class Cycle {
 public:
  Cycle(const Options& o, int index, Totals* totals)
      : rng_(o.seed * 1000003u + static_cast<uint64_t>(index)), totals_(totals) {}

  // Empty on success, else what failed.
  std::string Run(const std::string& dir, int forced_kind);
  std::string summary() const {
    return "commit.wait=" + mode_ + "; " + log_ + (phases_.empty() ? "" : "; " + phases_);
  }

 private:
  int Pick(int n) { return static_cast<int>(rng_() % static_cast<uint64_t>(n)); }
  void Pause(int min_ms, int max_ms) {
    std::this_thread::sleep_for(milliseconds(min_ms + Pick(max_ms - min_ms + 1)));
  }
  Server& AnyServer() { return cluster_->server(static_cast<size_t>(Pick(4))); }
  std::vector<Server*> WithRole(const std::string& role) {
    std::vector<Server*> out;
    for (Server& s : cluster_->servers()) {
      auto h = cluster_->Hello(s);
      if (h && h->role == role) out.push_back(&s);
    }
    return out;
  }
  bool Mandatory(Server* master, const std::string& id) {
    return RunTandem({"-p", master->address, "server", "-o", id}).out.find("Options: mandatory") !=
           std::string::npos;
  }
  // failover (or failback) on `s`, timed when it succeeds.
  bool Failover(Server& s, std::vector<std::string> flags, const char* command = "failover") {
    std::vector<std::string> args = {"-p", s.address, command, "-y"};
    args.insert(args.end(), flags.begin(), flags.end());
    auto start = std::chrono::steady_clock::now();
    auto r = RunTandem(args);
    if (r.exit_code != 0) return false;
    failed_over_ = true;
    totals_->failover_ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count());
    return true;
  }
  void Inject(int kind);
  std::string Check(const Load& load);
  bool ChecksumsMatch(const Server& master);

  std::mt19937_64 rng_;
  Totals* totals_;
  std::unique_ptr<Cluster> cluster_;
  std::string mode_;
  std::string log_;     // the faults injected, in order
  std::string phases_;  // phases that took long, for a slow cycle
  std::chrono::steady_clock::time_point phase_start_ = std::chrono::steady_clock::now();
  // Ends a phase; one that took over 5 s is named in the summary.
  void Phase(const char* name) {
    auto now = std::chrono::steady_clock::now();
    auto s = std::chrono::duration_cast<std::chrono::seconds>(now - phase_start_).count();
    if (s > 5)
      phases_ += std::string(phases_.empty() ? "" : ", ") + name + " " + std::to_string(s) + " s";
    phase_start_ = now;
  }
  bool failed_over_ = false;  // an epoch began during the cycle
  bool unplanned_ = false;    // ... without the old master's part
  bool forced_ = false;       // ... to a standby that may lack acknowledged writes
};

void Cycle::Inject(int kind) {
  totals_->faults[kKindNames[kind]]++;
  Server& s = AnyServer();
  log_ += std::string(log_.empty() ? "" : ", ") + kKindNames[kind] +
          (kind < kPlanned ? "(" + s.name + ")" : "");
  switch (kind) {
    case kKill:
      cluster_->Kill(s);
      Pause(100, 1500);
      if (Pick(3) != 0) cluster_->Heal(nullptr);
      break;
    case kStop:
      cluster_->Stop(s);
      Pause(200, 3000);
      if (Pick(3) != 0) cluster_->Cont(s);
      break;
    case kReset:
    case kBlackHole:
      kind == kReset ? s.front->Cut() : s.front->BlackHole();
      Pause(200, 3000);
      if (Pick(3) != 0) s.front->Restore();
      break;
    case kDiskFull:
      cluster_->LimitDisk(s, static_cast<uint64_t>(Pick(65536)));
      Pause(200, 2000);
      break;
    case kPlanned: {
      auto standbys = WithRole("standby");
      if (!standbys.empty())
        Failover(*standbys[static_cast<size_t>(Pick(static_cast<int>(standbys.size())))], {});
      break;
    }
    case kUnplanned:
    case kIgnoreMaster: {
      Server* master = cluster_->Master();
      if (!master) break;
      std::vector<Server*> mandatory;
      for (Server* sb : WithRole("standby")) {
        auto h = cluster_->Hello(*sb);
        if (h && Mandatory(master, h->server_id)) mandatory.push_back(sb);
      }
      if (mandatory.empty()) break;
      if (kind == kUnplanned) cluster_->Kill(*master);
      // Counted as tried: a failover that reports failure may still finish
      // (past its point of no return, when the server restarts).
      unplanned_ = true;
      (void)Failover(*mandatory[0], kind == kUnplanned ? std::vector<std::string>{}
                                                       : std::vector<std::string>{"-i"});
      break;
    }
    case kForced: {
      // No mandatory standby survives the master: an operator forces a
      // non-mandatory one, accepting that what it lacks is lost.
      Server* master = cluster_->Master();
      if (!master) break;
      std::vector<Server*> others;
      for (Server* sb : WithRole("standby")) {
        auto h = cluster_->Hello(*sb);
        if (!h) continue;
        if (Mandatory(master, h->server_id)) {
          cluster_->Kill(*sb);
        } else {
          others.push_back(sb);
        }
      }
      if (others.empty()) break;
      cluster_->Kill(*master);
      forced_ = unplanned_ = true;  // tried: it may finish later (see above)
      (void)Failover(*others[0], {"--force"});
      break;
    }
    case kKillMidOperation: {
      Server* master = cluster_->Master();
      auto standbys = WithRole("standby");
      if (!master) break;
      int op = Pick(4);
      std::vector<std::string> args;
      if (op == 0 && !standbys.empty()) {
        args = {"-p", standbys[0]->address, "failover", "-y"};
      } else if (op == 1) {
        args = {"-p", master->address, "admin", "checkpoint"};
      } else if (op == 2) {
        args = {"-p", master->address, "admin", "journal"};
      } else {
        args = {"-p", cluster_->server(3).address, "admin", "reseed", "-y"};
      }
      std::thread runner([args] { (void)RunTandem(args); });
      Pause(0, 400);
      Server* victim = Pick(2) == 0 ? master : &AnyServer();
      cluster_->Kill(*victim);
      runner.join();
      failed_over_ = true;  // it may have been a failover, finished or not
      unplanned_ = true;
      Pause(100, 1000);
      cluster_->Heal(nullptr);
      break;
    }
    case kLink: {
      // Both ends stay reachable by every other server (and by clients).
      size_t at = static_cast<size_t>(&s - &cluster_->server(0));
      Server& other = cluster_->server((at + 1 + static_cast<size_t>(Pick(3))) % 4);
      bool black_hole = Pick(2) == 0;
      log_ += "(" + s.name + "-" + other.name + (black_hole ? " black hole)" : " reset)");
      cluster_->CutLink(s, other, black_hole);
      Pause(200, 3000);
      if (Pick(3) != 0) cluster_->RestoreLink(s, other);
      break;
    }
    case kChain: {
      for (int round = 0; round < 2; ++round) {
        auto standbys = WithRole("standby");
        if (standbys.empty() || !Failover(*standbys[0], {})) break;
        // Settling rejoins the old master, which needs every server up: a
        // server an earlier fault killed would have it wait out its bound
        // (seed 31, cycle 176: 60 s) and end the chain there.
        std::string why;
        if (!cluster_->Heal(&why) || !cluster_->Settle(&why)) break;  // reported by the checks
        for (Server* sb : WithRole("standby")) {
          if (Failover(*sb, {}, "failback")) break;
        }
      }
      break;
    }
    default:
      break;
  }
}

std::string Cycle::Run(const std::string& dir, int forced_kind) {
  mode_ = Pick(2) == 0 ? "mandatory" : "local";
  bool auto_failover = Pick(4) == 0;
  // A port picked free can be taken before the server binds it (seed 9,
  // cycle 71): start afresh a few times.
  for (int attempt = 0; attempt < 3 && !cluster_; ++attempt) {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
    std::filesystem::create_directories(dir);
    cluster_ = Cluster::Create(dir, mode_, auto_failover);
  }
  if (!cluster_) return "the cluster did not start";
  std::vector<std::string> addresses;
  for (Server& s : cluster_->servers()) addresses.push_back(s.address);
  Load load(addresses, 2);
  Pause(200, 600);
  int faults = 1 + Pick(3);
  Phase("start");
  for (int f = 0; f < faults; ++f) {
    int kind = f == 0 && forced_kind >= 0 ? forced_kind : Pick(kKinds);
    Inject(kind);
    Phase(kKindNames[kind]);
    Pause(50, 500);
  }
  Pause(200, 600);
  std::string why;
  if (!cluster_->Heal(&why)) return "heal: " + why;
  Phase("heal");
  Pause(200, 500);  // writes on the healed cluster too
  load.Stop();
  Phase("load stop");
  // A failover.auto that fires while settling leaves a fenced master to
  // rejoin: settle again (a few times at most).
  for (int round = 0; round < 3; ++round) {
    if (!cluster_->Settle(&why)) return "settle: " + why;
    bool fenced = false;
    for (Server& s : cluster_->servers()) {
      auto h = cluster_->Hello(s);
      fenced = fenced || (h && h->role == "fenced");
    }
    if (!fenced) break;
  }
  Phase("settle");
  // failover.auto may have moved the epoch by itself, without the master
  // (seed 8, cycle 83): the failover history says which kind each was.
  if (Server* m = cluster_->Master(); m) {
    auto h = cluster_->Hello(*m);
    if (h && h->epoch > 1) failed_over_ = true;
    auto history = RunTandem({"-p", m->address, "scan", "failover"});
    if (history.out.find("planned=no") != std::string::npos) unplanned_ = true;
  }
  return Check(load);
}

// The master writes a checksum marker; every downstream server must reach
// it with every table's verdict `match`.
bool Cycle::ChecksumsMatch(const Server& master) {
  auto call = [](const Server& s, std::vector<std::string> args) -> std::vector<Row> {
    auto a = Address::Parse(s.address);
    if (!a.ok()) return {};
    auto c = tandem::Client::Connect(*a, {});
    if (!c.ok()) return {};
    auto r = (*c)->Call({"", "", std::move(args)}, milliseconds(10000));
    if (!r.ok() || !r->status.ok()) return {};
    return r->rows;
  };
  auto at = [](const Row& r) {
    return std::string(FieldOf(r, "journal")) + "/" + std::string(FieldOf(r, "sequence"));
  };
  std::vector<Row> marker = call(master, {"journaldbchecksums"});
  if (marker.empty()) return false;
  return WaitFor(
      [&] {
        for (Server& s : cluster_->servers()) {
          if (&s == &master) continue;
          std::vector<Row> verdicts = call(s, {"journaldbchecksums", "-s"});
          if (verdicts.empty() || at(verdicts[0]) != at(marker[0])) return false;
          for (const Row& v : verdicts) {
            if (FieldOf(v, "verdict") != "match") return false;
          }
        }
        return true;
      },
      60000);
}

std::string Cycle::Check(const Load& load) {
  Server* master = cluster_->Master();
  if (!master) return "no master after settling";
  // Every key in kv (the command line follows the pages).
  auto keys = [](const Server& s) -> std::optional<std::set<std::string>> {
    auto r = RunTandem({"-p", s.address, "scan", "kv"});
    if (r.exit_code != 0) return std::nullopt;
    std::set<std::string> out;
    size_t pos = 0;
    while (pos < r.out.size()) {
      size_t end = std::min(r.out.find('\n', pos), r.out.size());
      std::string line = r.out.substr(pos, end - pos);
      pos = end + 1;
      line.resize(std::min(line.find(' '), line.size()));
      if (!line.empty()) out.insert(line);
    }
    return out;
  };
  // One more write moves every position; then every server must reach it.
  // A standby killed mid-failover tells the master to resume when it starts
  // again; until then the master stays paused up to the lease (quiesce +
  // 10 s: 70 s here).
  if (!WaitFor(
          [&] {
            return RunTandem({"-p", master->address, "put", "marker", "m", "1"}).exit_code == 0;
          },
          90000)) {
    return "the settled master " + master->name + " does not take a write";
  }
  Phase("marker");
  std::optional<std::set<std::string>> ours = keys(*master);
  if (!ours) return "cannot read the master";
  std::string report;
  // After --force, servers that applied past the point reseed by themselves.
  for (Server& s : cluster_->servers()) {
    if (&s == master || forced_) continue;
    auto theirs = keys(s);
    if (!theirs) continue;
    for (const auto& k : *theirs) {
      if (!ours->count(k)) {
        ++totals_->ahead;
        report += s.name + " holds " + k + " that the master lacks; ";
        break;
      }
    }
  }
  std::map<uint32_t, std::set<std::string>> acked_in;
  size_t lost = 0, invented = 0;
  for (const auto& [key, ack] : load.acked()) {
    ++totals_->acked;
    acked_in[ack.epoch].insert(ack.server);
    if (ours->count(key)) continue;
    if ((mode_ == "local" && unplanned_) || forced_) {
      ++totals_->lost_allowed;
    } else {
      if (++lost < 5) report += "acknowledged " + key + " is lost; ";
      ++totals_->lost;
    }
  }
  for (const auto& k : *ours) {
    if (!load.attempted().count(k)) {
      ++totals_->invented;
      if (++invented < 5) report += "invented " + k + "; ";
    }
  }
  if (lost > 4) report += std::to_string(lost) + " acknowledged writes lost in all; ";
  if (invented > 4) report += std::to_string(invented) + " invented in all; ";
  for (const auto& [epoch, servers] : acked_in) {
    if (servers.size() > 1) {
      ++totals_->split;
      report += "two masters acknowledged in epoch " + std::to_string(epoch) + "; ";
    }
  }
  bool converged = WaitFor(
      [&] {
        for (Server& s : cluster_->servers()) {
          auto theirs = keys(s);
          if (!theirs || *theirs != *ours) return false;
        }
        return true;
      },
      60000);
  Phase("converge keys");
  if (converged) converged = ChecksumsMatch(*master);
  Phase("converge checksums");
  if (!converged) {
    ++totals_->not_converged;
    report += "not converged within 60 s:";
    // Where each server stands, for the one that is stuck.
    for (Server& s : cluster_->servers()) {
      auto h = cluster_->Hello(s);
      auto pull = RunTandem({"-p", s.address, "--json", "pull", "-lj"});
      report += " " + s.name + "=" +
                (h ? h->role + "@" + std::to_string(h->epoch) + " from " + h->upstream : "?");
      if (pull.exit_code == 0) report += " " + pull.out.substr(0, 600);
    }
    report += "; ";
  }
  return report;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  return v[i];
}

int Main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto number = [&](auto* out) {
      if (i + 1 >= argc) return false;
      auto v = ParseDecimal<std::remove_pointer_t<decltype(out)>>(argv[++i]);
      if (!v) return false;
      *out = *v;
      return true;
    };
    bool ok = true;
    if (a == "--cycles") {
      ok = number(&o.cycles);
    } else if (a == "--seed") {
      ok = number(&o.seed);
    } else if (a == "--first") {
      ok = number(&o.first);
    } else if (a == "--dir" && i + 1 < argc) {
      o.dir = argv[++i];
    } else if (a == "--cover") {
      o.cover = true;
    } else if (a == "--keep") {
      o.keep = true;
    } else {
      ok = false;
    }
    if (!ok) {
      std::cerr << "usage: tandem-chaos [--cycles N] [--seed S] [--first C] [--dir DIR] "
                   "[--cover] [--keep]\n";
      return 2;
    }
  }
  if (o.dir.empty()) o.dir = "/tmp/tandem-chaos-" + std::to_string(::getpid());
  std::filesystem::create_directories(o.dir);
  signal(SIGPIPE, SIG_IGN);
  Totals totals;
  for (int c = o.first; c < o.first + o.cycles; ++c) {
    const std::string dir = o.dir + "/cycle-" + std::to_string(c);
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
    std::filesystem::create_directories(dir);
    auto start = std::chrono::steady_clock::now();
    std::string failed, summary;
    {
      // Gone, with every server it started, before its roots are removed.
      Cycle cycle(o, c, &totals);
      failed = cycle.Run(dir, o.cover ? c % kKinds : -1);
      summary = cycle.summary();
    }
    ++totals.cycles;
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cout << "cycle " << c << " (" << static_cast<int>(seconds) << " s; " << summary
              << "): " << (failed.empty() ? "ok" : failed) << std::endl;
    if (!failed.empty()) {
      std::cout << "FAILED: roots and logs kept in " << dir << "\nreplay: tandem-chaos --seed "
                << o.seed << " --first " << c << " --cycles 1" << (o.cover ? " --cover" : "")
                << std::endl;
      return 1;
    }
    if (!o.keep) std::filesystem::remove_all(dir, ignored);
  }
  std::cout << "\n" << totals.cycles << " cycles, seed " << o.seed << "\nfaults:";
  for (const auto& [kind, n] : totals.faults) std::cout << " " << kind << "=" << n;
  std::cout << "\nacknowledged writes checked: " << totals.acked << "\nlost: " << totals.lost
            << " (and " << totals.lost_allowed
            << " with commit.wait=local after a failover without the master, as documented)"
            << "\ninvented: " << totals.invented << "\nsplit: " << totals.split
            << "\nahead: " << totals.ahead << "\nnot converged: " << totals.not_converged
            << "\nfailovers: " << totals.failover_ms.size() << ", time p50 "
            << Percentile(totals.failover_ms, 0.5) << " ms, p99 "
            << Percentile(totals.failover_ms, 0.99) << " ms\n";
  std::error_code ignored;
  if (!o.keep) std::filesystem::remove_all(o.dir, ignored);
  return 0;
}

}  // namespace
}  // namespace tandem::chaos

int main(int argc, char** argv) { return tandem::chaos::Main(argc, argv); }
