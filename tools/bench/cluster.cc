#include "tools/bench/cluster.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <thread>

#include "transport/client.h"

namespace tandem::bench {

std::string SelfDir() {
  return std::filesystem::read_symlink("/proc/self/exe").parent_path().string();
}

OwnServer::~OwnServer() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
  }
}

void OwnServer::Kill9() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

Result<std::string> OwnServer::Start(const std::string& root,
                                     const std::vector<std::string>& offline) {
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

Result<std::vector<Row>> Query(const std::string& address, std::vector<std::string> args) {
  TANDEM_ASSIGN_OR_RETURN(Address addr, Address::Parse(address));
  TANDEM_ASSIGN_OR_RETURN(auto client, Client::Connect(addr, {}));
  TANDEM_ASSIGN_OR_RETURN(Response resp, client->Call({"", "", std::move(args)}));
  if (!resp.status.ok()) return resp.status;
  return resp.rows;
}

Status AddDownstream(const std::string& base, const Options& o, const std::string& id,
                     const std::string& type, bool mandatory, Cluster* c) {
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
}

ScratchRoot::ScratchRoot(const std::string& given) : path_(given) {
  if (!path_.empty()) return;
  const char* tmp = std::getenv("TMPDIR");
  path_ = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/tandem-bench-" +
          std::to_string(::getpid());
  owned_ = true;
}

ScratchRoot::~ScratchRoot() {
  std::error_code ignored;
  if (owned_) std::filesystem::remove_all(path_, ignored);
}

Status StartCluster(const std::string& base, const Options& o, Cluster* c) {
  std::filesystem::create_directories(base);
  c->servers.push_back(std::make_unique<OwnServer>());
  TANDEM_ASSIGN_OR_RETURN(
      c->master, c->servers.back()->Start(base + "/master",
                                          {"--id master1", "-cset journal.fsync=" + o.fsync}));
  for (int i = 0; i < o.standbys; ++i) {
    TANDEM_RETURN_IF_ERROR(AddDownstream(base, o, "standby" + std::to_string(i + 1), "standby",
                                         o.mandatory && i == 0, c));
  }
  for (int i = 0; i < o.replicas; ++i) {
    TANDEM_RETURN_IF_ERROR(
        AddDownstream(base, o, "replica" + std::to_string(i + 1), "replica", false, c));
  }
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

double PercentileMs(const std::vector<uint64_t>& sorted_ns, double p) {
  if (sorted_ns.empty()) return 0;
  size_t i = std::min(sorted_ns.size() - 1, static_cast<size_t>(p * sorted_ns.size()));
  return static_cast<double>(sorted_ns[i]) / 1e6;
}

LoadOptions PutLoad(const Address& address, const Options& o) {
  LoadOptions load;
  load.address = address;
  load.connections = o.clients;
  load.pipeline = o.pipeline;
  load.seconds = o.seconds;
  load.max_requests = o.count;
  load.make_request = [value = std::string(o.value_bytes(), 'v'), keys = o.keys](uint64_t n) {
    return Request{"", "", {"put", "bench", "k" + std::to_string((n * 7919) % keys), value}};
  };
  return load;
}

int Fail(const Status& st) {
  std::cerr << "tandem-bench: " << st.message() << "\n";
  return 1;
}

}  // namespace tandem::bench
