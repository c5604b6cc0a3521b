#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <set>
#include <thread>

#include "journal/numbers.h"
#include "tools/bench/cluster.h"
#include "tools/bench/modes.h"
#include "tools/bench/series.h"
#include "transport/client.h"

namespace tandem::bench {
namespace {

// One failover of a fresh cluster (master, mandatory standby, replica)
// under load: from the failover command's start to the first write the new
// master acknowledges, and what the clients were acknowledged vs what it has.
struct FailoverRun {
  double ms = 0;
  size_t acked = 0, present = 0;
  bool replica_matches = false;
};

// With a series: the lag of every downstream server of whoever is master,
// every 100 ms, until `stop`.
void SampleLag(const std::atomic<const std::string*>* master, const std::atomic<bool>* stop,
               Series* series) {
  for (int i = 0; i < 100000 && !*stop; ++i) {
    auto rows = Query(*master->load(), {"servers", "-J"});
    if (rows.ok()) {
      for (size_t r = 1; r < rows->size(); ++r) {  // row 0: the master itself
        auto bytes = ParseDecimal<uint64_t>(FieldOf((*rows)[r], "lagBytes"));
        if (bytes) series->Lag(std::string(FieldOf((*rows)[r], "serverID")), *bytes);
      }
    }
    std::this_thread::sleep_for(Series::kBucket);
  }
}

Result<FailoverRun> OneFailover(const std::string& base, const Options& o, Series* series) {
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
  std::atomic<bool> moved{false};  // a series: the clients follow the new master
  std::vector<std::vector<std::string>> acked(static_cast<size_t>(o.clients));
  std::vector<std::thread> load;
  for (int t = 0; t < o.clients; ++t) {
    load.emplace_back([&, t] {
      auto client = Client::Connect(master_addr, {});
      if (!client.ok()) return;
      bool on_new = false;
      for (int i = 0; i < 1000000 && !stop; ++i) {
        std::string key = "c" + std::to_string(t) + "-" + std::to_string(i);
        auto sent = Series::Clock::now();
        auto r = (*client)->Call({"", "", {"put", "load", key, "v"}});
        if (!r.ok() || !r->status.ok()) {
          if (!series || on_new) return;
          // As a client that knows the standby would: wait for the new
          // master, then go on there (bounded: 10 s).
          for (int w = 0; w < 10000 && !moved && !stop; ++w) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
          }
          client = Client::Connect(standby_addr, {});
          if (!client.ok()) return;
          on_new = true;
          continue;
        }
        if (series) series->Commit(sent, Series::Clock::now());
        acked[static_cast<size_t>(t)].push_back(key);
      }
    });
  }
  std::atomic<const std::string*> current_master{&c.master};
  std::thread sampler;
  if (series) sampler = std::thread(SampleLag, &current_master, &stop, series);
  // A series shows a second of steady load before the failover and after it.
  std::this_thread::sleep_for(std::chrono::milliseconds(series ? 1000 : 300));

  auto t0 = std::chrono::steady_clock::now();
  if (series) series->Event("failover-start");
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
  if (series) {
    series->Event("failover-end");
    current_master = &standby;
    moved = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));  // load on the new master
  }
  stop = true;
  for (auto& th : load) th.join();
  if (sampler.joinable()) sampler.join();
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

}  // namespace

int RunFailover(const Options& o) {
  ScratchRoot scratch(o.root);
  const std::string& root = scratch.path();
  std::vector<double> times;
  size_t lost = 0, mismatches = 0;
  for (int i = 0; i < o.runs; ++i) {
    std::string base = root + "/run" + std::to_string(i);
    std::filesystem::remove_all(base);
    // The first run's series only: one failover to plot.
    Series series;
    bool record = i == 0 && !o.series.empty();
    auto run = OneFailover(base, o, record ? &series : nullptr);
    if (record && run.ok()) {
      if (Status st = series.WriteCsv(o.series); !st.ok()) {
        std::cerr << "tandem-bench: " << st.message() << "\n";
        return 1;
      }
      std::printf("series of run 0 written to %s\n", o.series.c_str());
    }
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
    if (o.root.empty()) std::filesystem::remove_all(base);  // --root: kept, logs and all
  }
  std::sort(times.begin(), times.end());
  std::printf(
      "%s failover, %d runs, %d clients: median %.1f ms, max %.1f ms; acknowledged "
      "writes lost %zu; replica mismatches %zu\n",
      o.unplanned ? "unplanned" : "planned", o.runs, o.clients, times[times.size() / 2],
      times.back(), lost, mismatches);
  return lost == 0 && mismatches == 0 ? 0 : 1;
}

}  // namespace tandem::bench
