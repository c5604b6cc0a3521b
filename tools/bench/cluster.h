// What every tandem-bench mode shares: its options, and tandemd servers it
// starts itself on loopback.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "journal/status.h"
#include "tools/load_generator.h"
#include "transport/message.h"

namespace tandem::bench {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string mode;
  std::string address;
  std::string root;
  int clients = 64;
  int pipeline = 1;  // put: requests in flight per connection
  double seconds = 10;
  uint64_t count = 0;              // 0 = until time runs out
  std::vector<size_t> sizes{100};  // -s: value bytes (put), file sizes in turn (content)
  size_t value_bytes() const { return sizes.front(); }
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
  std::string series;      // failover: the first run's time series, as CSV (series.h)
};

// The directory of the running executable (where tandemd is built too).
std::string SelfDir();

// A tandemd started (and stopped) by the benchmark.
class OwnServer {
 public:
  ~OwnServer();
  void Kill9();
  // Runs `tandemd -r root ARGS` for each offline setting, then serves root.
  Result<std::string> Start(const std::string& root, const std::vector<std::string>& offline);

 private:
  pid_t pid_ = -1;
};

// One request on a new connection; a command failure is an error.
Result<std::vector<Row>> Query(const std::string& address, std::vector<std::string> args);

// A master with standbys and replicas on loopback, all started here.
struct Cluster {
  std::vector<std::unique_ptr<OwnServer>> servers;
  std::string master;
  std::vector<std::pair<std::string, std::string>> downstream;  // id, address
};

Status StartCluster(const std::string& base, const Options& o, Cluster* c);

// Where a mode puts the servers it starts: `given` (--root), or a directory
// of its own under $TMPDIR (or /tmp) that goes, with everything in it, when
// the mode ends. Declared before the Cluster, so that the servers stop first.
class ScratchRoot {
 public:
  explicit ScratchRoot(const std::string& given);
  ~ScratchRoot();
  ScratchRoot(const ScratchRoot&) = delete;
  ScratchRoot& operator=(const ScratchRoot&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  bool owned_ = false;
};
// Adds a standby or replica to a running cluster (it starts streaming
// on its own; StartCluster waits for that, this does not).
Status AddDownstream(const std::string& base, const Options& o, const std::string& id,
                     const std::string& type, bool mandatory, Cluster* c);

// Exits the mode with a message on stderr.
int Fail(const Status& st);

// The p-th quantile (0..1) of sorted nanoseconds, in milliseconds; 0 if none.
double PercentileMs(const std::vector<uint64_t>& sorted_ns, double p);

// o.clients connections putting o.value_bytes() values to keys spread over
// o.keys, for o.seconds (or o.count requests): the load of `put` and
// `checkpoint`.
LoadOptions PutLoad(const Address& address, const Options& o);

}  // namespace tandem::bench
