// tandem-bench: end-to-end load against tandemd, reported beside the
// machine's own limits measured in the same run.
//
//   tandem-bench put [-p ADDR | --root DIR] [-c CLIENTS] [-d SECONDS] [-n COUNT]
//                    [-s VALUE_BYTES] [-k KEYS] [--fsync always|off] [--json | --csv]
//                    [--standbys N] [--replicas N] [--mandatory] [--commit-wait local|mandatory]
//                    [--standby-fsync always|off]
//   tandem-bench copy [--mb MEGABYTES] [--standby-fsync always|off]
//   tandem-bench content [-c CLIENTS] [-n FILES] [-s FILE_BYTES]
//   tandem-bench limits [--dir DIR]
//   tandem-bench recover [--root DIR] [--mb MEGABYTES] [--cold]
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>
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
  std::string standby_fsync = "always";
  std::string commit_wait = "local";
  int standbys = 0;
  int replicas = 0;
  bool mandatory = false;
  std::string format = "table";
  uint64_t mb = 1024;
  bool cold = false;       // recover: drop the page cache first (root only)
  int runs = 5;            // failover: repetitions
  bool unplanned = false;  // failover: SIGKILL the master instead of asking it
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
  void Kill9() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  // Runs `tandemd -r root ARGS` for each offline setting, then serves root.
  Result<std::string> Start(const std::string& root, const std::vector<std::string>& offline) {
    std::string tandemd = SelfDir() + "/tandemd";
    for (const auto& args : offline) {
      if (std::system((tandemd + " -r " + root + " " + args + " >/dev/null").c_str()) != 0) {
        return Status::IOError("tandemd -r " + root + " " + args + " failed");
      }
    }
    int fds[2];
    if (::pipe(fds) != 0) return Status::IOError("pipe failed");
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(fds[1], 1);
      ::close(fds[0]);
      std::string log = root + ".log";
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

Result<std::vector<Row>> Query(const std::string& address, std::vector<std::string> args) {
  TANDEM_ASSIGN_OR_RETURN(Address addr, Address::Parse(address));
  TANDEM_ASSIGN_OR_RETURN(auto client, Client::Connect(addr, {}));
  TANDEM_ASSIGN_OR_RETURN(Response resp, client->Call({"", "", std::move(args)}));
  if (!resp.status.ok()) return resp.status;
  return resp.rows;
}

// A master with standbys and replicas on loopback, all started here.
struct Cluster {
  std::vector<std::unique_ptr<OwnServer>> servers;
  std::string master;
  std::vector<std::pair<std::string, std::string>> downstream;  // id, address
};

Status StartCluster(const std::string& base, const Options& o, Cluster* c) {
  std::filesystem::create_directories(base);
  c->servers.push_back(std::make_unique<OwnServer>());
  TANDEM_ASSIGN_OR_RETURN(
      c->master, c->servers.back()->Start(base + "/master",
                                          {"--id master1", "-cset journal.fsync=" + o.fsync}));
  auto add = [&](const std::string& id, const std::string& type, bool mandatory) -> Status {
    std::string spec = "ServerID: " + id + "\nServices: " + type +
                       "\nOptions: " + (mandatory ? "mandatory" : "nomandatory") +
                       "\nReplicatingFrom: master1\n";
    TANDEM_RETURN_IF_ERROR(Query(c->master, {"server", "-i", spec}).status());
    c->servers.push_back(std::make_unique<OwnServer>());
    // Replicas may follow the first standby when it becomes master.
    std::string target = c->master;
    if (type == "replica" && !c->downstream.empty()) target += "," + c->downstream[0].second;
    TANDEM_ASSIGN_OR_RETURN(
        std::string addr,
        c->servers.back()->Start(base + "/" + id, {"--id " + id, "-cset target=" + target,
                                                   "-cset journalcopy.fsync=" + o.standby_fsync}));
    c->downstream.emplace_back(id, addr);
    return Status::Ok();
  };
  for (int i = 0; i < o.standbys; ++i) {
    TANDEM_RETURN_IF_ERROR(
        add("standby" + std::to_string(i + 1), "standby", o.mandatory && i == 0));
  }
  for (int i = 0; i < o.replicas; ++i)
    TANDEM_RETURN_IF_ERROR(add("replica" + std::to_string(i + 1), "replica", false));
  // Wait (bounded) until every downstream server is streaming.
  for (int tries = 0; tries < 500; ++tries) {
    auto rows = Query(c->master, {"servers", "-J"});
    size_t alive = 0;
    if (rows.ok()) {
      for (const Row& r : *rows)
        alive += FieldOf(r, "alive") == "1" && FieldOf(r, "type") != "standard";
    }
    if (alive == c->downstream.size()) {
      // Only now: with commit.wait=mandatory, even the spec of a mandatory
      // standby that is not yet streaming could not be acknowledged.
      return Query(c->master, {"configure", "set", "commit.wait=" + o.commit_wait}).status();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return Status::Timeout("downstream servers did not connect");
}

double Percentile(std::vector<uint64_t>& sorted_ns, double p) {
  if (sorted_ns.empty()) return 0;
  size_t i = std::min(sorted_ns.size() - 1, static_cast<size_t>(p * sorted_ns.size()));
  return static_cast<double>(sorted_ns[i]) / 1e6;
}

int RunPut(const Options& o) {
  Cluster cluster;
  std::string address = o.address;
  std::string root = o.root;
  if (address.empty()) {
    if (root.empty()) root = "/tmp/tandem-bench-" + std::to_string(::getpid());
    std::filesystem::remove_all(root);
    if (Status st = StartCluster(root, o, &cluster); !st.ok()) {
      std::cerr << "tandem-bench: " << st.message() << "\n";
      return 1;
    }
    address = cluster.master;
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

  std::vector<Row> downstream;
  if (auto rows = Query(address, {"servers", "-J"}); rows.ok()) {
    for (const Row& r : *rows) {
      if (FieldOf(r, "type") != "standard") downstream.push_back(r);
    }
  }
  std::string limits_dir = root.empty() ? "/tmp" : root;
  auto limits = MeasureDisk(limits_dir, 1.0);
  nlohmann::ordered_json j;
  j["clients"] = o.clients;
  j["standbys"] = o.standbys;
  j["replicas"] = o.replicas;
  j["mandatory"] = o.mandatory;
  j["commit_wait"] = o.commit_wait;
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
  for (const Row& r : downstream) {
    std::string id(FieldOf(r, "serverID"));
    for (const char* f : {"flushLagP50us", "flushLagP99us", "applyLagP50us", "applyLagP99us"}) {
      j[id + "_" + f] = std::string(FieldOf(r, f));
    }
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
  if (auto loop = MeasureLoopbackMBps(); loop.ok()) {
    std::printf("loopback TCP MB/s (1 MiB writes):                  %.0f\n", *loop);
  }
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

// Journalcopy throughput: a standby started on an empty root copies a
// master's journal of about `mb` MB; timed until its journalcopy position
// reaches the master's durable position.
int RunCopy(const Options& o) {
  std::string base = o.root.empty() ? "/tmp/tandem-copy-" + std::to_string(::getpid()) : o.root;
  std::filesystem::remove_all(base);
  {
    auto engine = Engine::Open({base + "/master", false});
    if (!engine.ok()) {
      std::cerr << engine.status().message() << "\n";
      return 1;
    }
    std::string value(4000, 'c');
    std::atomic<int> inflight{0};
    for (uint64_t i = 0; (*engine)->durable().offset < (o.mb << 20); ++i) {
      while (inflight > 1024) std::this_thread::yield();
      ++inflight;
      (*engine)->CommitAsync({{Op::Put("copy", "k" + std::to_string(i % 100000), value)}},
                             [&](const Status&, Position) { --inflight; });
    }
  }
  Options cluster_opts = o;
  cluster_opts.standbys = 0;
  Cluster c;
  if (Status st = StartCluster(base, cluster_opts, &c); !st.ok()) {
    std::cerr << "tandem-bench: " << st.message() << "\n";
    return 1;
  }
  auto info = Query(c.master, {"info"});
  Position target{static_cast<uint32_t>(std::stoul(std::string(FieldOf(info->at(0), "journal")))),
                  std::stoull(std::string(FieldOf(info->at(0), "sequence")))};
  auto start = Clock::now();
  cluster_opts.standbys = 1;
  // Adds the standby to the running master.
  std::string spec = "ServerID: standby1\nServices: standby\nReplicatingFrom: master1\n";
  (void)Query(c.master, {"server", "-i", spec});
  c.servers.push_back(std::make_unique<OwnServer>());
  auto addr = c.servers.back()->Start(
      base + "/standby1",
      {"--id standby1", "-cset target=" + c.master, "-cset journalcopy.fsync=" + o.standby_fsync});
  if (!addr.ok()) {
    std::cerr << "tandem-bench: " << addr.status().message() << "\n";
    return 1;
  }
  for (;;) {
    auto pull = Query(*addr, {"pull", "-lj"});
    Position copied;
    if (pull.ok() &&
        Position::ParseToken(std::string(FieldOf(pull->at(0), "journalcopy")), &copied) &&
        copied >= target) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  double mb =
      static_cast<double>(std::filesystem::file_size(base + "/standby1/journals.rep/journal.1")) /
      (1 << 20);
  auto disk = MeasureDisk(base, 1.0);
  auto loop = MeasureLoopbackMBps();
  std::printf("journalcopy of %.0f MB (standby fsync %s): %.2f s, %.0f MB/s\n", mb,
              o.standby_fsync.c_str(), secs, mb / secs);
  if (disk.ok()) {
    std::printf("disk sequential write %.0f MB/s: journalcopy = %.0f%%\n",
                disk->seq_write_mb_per_sec, 100 * mb / secs / disk->seq_write_mb_per_sec);
  }
  if (loop.ok())
    std::printf("loopback %.0f MB/s: journalcopy = %.0f%%\n", *loop, 100 * mb / secs / *loop);
  return 0;
}

// Versioned content: C clients submit `count` files of `value_bytes` random
// bytes to a master with one replica; reports submit MB/s, then how fast the
// replica's pull -u brought them all over.
int RunContent(const Options& o) {
  std::string base = o.root.empty() ? "/tmp/tandem-content-" + std::to_string(::getpid()) : o.root;
  std::filesystem::remove_all(base);
  Options co = o;
  co.standbys = 0;
  co.replicas = 1;
  Cluster c;
  if (Status st = StartCluster(base, co, &c); !st.ok()) {
    std::cerr << "tandem-bench: " << st.message() << "\n";
    return 1;
  }
  uint64_t files = o.count ? o.count : 64;
  std::vector<std::string> bodies(static_cast<size_t>(o.clients));
  for (int t = 0; t < o.clients; ++t) {
    bodies[t].resize(o.value_bytes);
    uint64_t x = 0x9E3779B97F4A7C15ull * static_cast<uint64_t>(t + 1);
    for (char& ch : bodies[t]) {  // incompressible
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      ch = static_cast<char>(x);
    }
  }
  auto addr = Address::Parse(c.master);
  std::atomic<uint64_t> next{0}, failed{0};
  auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < o.clients; ++t) {
    threads.emplace_back([&, t] {
      auto client = Client::Connect(*addr, {});
      if (!client.ok()) return void(++failed);
      std::string body = bodies[t];
      for (uint64_t n; (n = next++) < files;) {
        std::memcpy(body.data(), &n, sizeof n);  // every file distinct
        auto r = (*client)->Call({"", "", {"submit", "//bench/f" + std::to_string(n), body}});
        if (!r.ok() || !r->status.ok()) ++failed;
      }
    });
  }
  for (auto& th : threads) th.join();
  double submit_secs = std::chrono::duration<double>(Clock::now() - start).count();
  for (;;) {
    auto pull = Query(c.downstream.at(0).second, {"pull", "-lj"});
    auto files_on_replica = Query(c.downstream.at(0).second, {"files", "//bench/"});
    if (pull.ok() && files_on_replica.ok() && files_on_replica->size() == files &&
        FieldOf(pull->at(0), "pullUFiles") == "0") {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  double all_secs = std::chrono::duration<double>(Clock::now() - start).count();
  double mb = static_cast<double>(files * o.value_bytes) / (1 << 20);
  auto disk = MeasureDisk(base, 1.0);
  auto loop = MeasureLoopbackMBps();
  std::printf("%llu files of %zu bytes, %d clients, %llu failed\n",
              static_cast<unsigned long long>(files), o.value_bytes, o.clients,
              static_cast<unsigned long long>(failed.load()));
  std::printf("submit: %.0f MB/s; replica holding everything after %.2f s: %.0f MB/s end to end\n",
              mb / submit_secs, all_secs, mb / all_secs);
  if (disk.ok()) {
    std::printf("disk sequential write %.0f MB/s: submit = %.0f%%, end to end = %.0f%%\n",
                disk->seq_write_mb_per_sec, 100 * mb / submit_secs / disk->seq_write_mb_per_sec,
                100 * mb / all_secs / disk->seq_write_mb_per_sec);
  }
  if (loop.ok()) std::printf("loopback %.0f MB/s\n", *loop);
  return failed > 0 ? 1 : 0;
}

// One failover of a fresh cluster (master, mandatory standby, replica)
// under load: from the failover command's start to the first write the new
// master acknowledges, and what the clients were acknowledged vs what it has.
struct FailoverRun {
  double ms = 0;
  size_t acked = 0, present = 0;
  bool replica_matches = false;
};

Result<FailoverRun> OneFailover(const std::string& base, const Options& o) {
  Options co = o;
  co.standbys = 1;
  co.replicas = 1;
  co.mandatory = true;
  co.commit_wait = o.unplanned ? "mandatory" : o.commit_wait;
  Cluster c;
  TANDEM_RETURN_IF_ERROR(StartCluster(base, co, &c));
  const std::string standby = c.downstream[0].second, replica = c.downstream[1].second;
  TANDEM_ASSIGN_OR_RETURN(Address master_addr, Address::Parse(c.master));
  TANDEM_ASSIGN_OR_RETURN(Address standby_addr, Address::Parse(standby));

  std::atomic<bool> stop{false};
  std::vector<std::vector<std::string>> acked(static_cast<size_t>(o.clients));
  std::vector<std::thread> load;
  for (int t = 0; t < o.clients; ++t) {
    load.emplace_back([&, t] {
      auto client = Client::Connect(master_addr, {});
      if (!client.ok()) return;
      for (int i = 0; i < 1000000 && !stop; ++i) {
        std::string key = "c" + std::to_string(t) + "-" + std::to_string(i);
        auto r = (*client)->Call({"", "", {"put", "load", key, "v"}});
        if (!r.ok() || !r->status.ok()) return;
        acked[static_cast<size_t>(t)].push_back(key);
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));

  auto t0 = std::chrono::steady_clock::now();
  if (o.unplanned) c.servers[0]->Kill9();
  Status failover = [&]() -> Status {
    TANDEM_ASSIGN_OR_RETURN(auto client, Client::Connect(standby_addr, {}));
    TANDEM_ASSIGN_OR_RETURN(Response r, client->Call({"", "", {"failover", "-y", "-w", "0"}}));
    // The steps follow as frames; the last one ("end") carries the result.
    while (r.status.ok() && !r.rows.empty() && FieldOf(r.rows[0], "end") != "1") {
      TANDEM_ASSIGN_OR_RETURN(auto frame, client->ReadFrame());
      TANDEM_ASSIGN_OR_RETURN(r, DecodeResponse(frame.second));
    }
    return r.status;
  }();
  bool written = false;
  for (int i = 0; failover.ok() && i < 10000 && !written; ++i) {
    auto client = Client::Connect(standby_addr, {});
    if (client.ok()) {
      auto r = (*client)->Call({"", "", {"put", "kv", "first", "write"}});
      written = r.ok() && r->status.ok();
    }
    if (!written) std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  auto t1 = std::chrono::steady_clock::now();
  stop = true;
  for (auto& th : load) th.join();
  TANDEM_RETURN_IF_ERROR(failover.Annotate("failover"));
  if (!written) return Status::Timeout("the new master took no write");

  FailoverRun run;
  run.ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
  TANDEM_ASSIGN_OR_RETURN(auto rows, Query(standby, {"scan", "load"}));
  std::set<std::string> present;
  for (const Row& r : rows) present.insert(std::string(FieldOf(r, "key")));
  for (const auto& keys : acked) {
    run.acked += keys.size();
    for (const auto& k : keys) run.present += present.count(k);
  }
  // The replica checks itself at a checksum marker written by the new master.
  TANDEM_RETURN_IF_ERROR(Query(standby, {"journaldbchecksums"}).status());
  for (int i = 0; i < 500 && !run.replica_matches; ++i) {
    auto verdicts = Query(replica, {"journaldbchecksums", "-s"});
    if (verdicts.ok() && !verdicts->empty()) {
      run.replica_matches = true;
      for (const Row& r : *verdicts) run.replica_matches &= FieldOf(r, "verdict") == "match";
    }
    if (!run.replica_matches) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return run;
}

int RunFailover(const Options& o) {
  std::string root = o.root.empty() ? "/tmp/tandem-bench-" + std::to_string(::getpid()) : o.root;
  std::vector<double> times;
  size_t lost = 0, mismatches = 0;
  for (int i = 0; i < o.runs; ++i) {
    std::string base = root + "/run" + std::to_string(i);
    std::filesystem::remove_all(base);
    auto run = OneFailover(base, o);
    if (!run.ok()) {
      std::cerr << "tandem-bench: run " << i << ": " << run.status().message() << "\n";
      return 1;
    }
    std::printf(
        "run %d: %s failover %.1f ms; acknowledged %zu, present on the new master %zu, "
        "replica checksums %s\n",
        i, o.unplanned ? "unplanned" : "planned", run->ms, run->acked, run->present,
        run->replica_matches ? "match" : "DIFFER");
    times.push_back(run->ms);
    lost += run->acked - run->present;
    mismatches += !run->replica_matches;
    std::filesystem::remove_all(base);
  }
  std::sort(times.begin(), times.end());
  std::printf(
      "%s failover, %d runs, %d clients: median %.1f ms, max %.1f ms; acknowledged "
      "writes lost %zu; replica mismatches %zu\n",
      o.unplanned ? "unplanned" : "planned", o.runs, o.clients, times[times.size() / 2],
      times.back(), lost, mismatches);
  return lost == 0 && mismatches == 0 ? 0 : 1;
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
      o.value_bytes = std::stoul(next());
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
}  // namespace tandem

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  return tandem::Main(argc, argv);
}
