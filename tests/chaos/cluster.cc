#include "tests/chaos/cluster.h"

#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <regex>

#include "journal/log.h"
#include "journal/numbers.h"
#include "transport/client.h"

namespace tandem::chaos {
namespace {

using testing::RunTandem;
using testing::RunTandemd;
using testing::WaitFor;

// A loopback port free now (bound and released): servers keep theirs
// across restarts, so proxies and specs can name them before they start.
uint16_t FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// Where the server's journal writes are now (a master's durable offset, a
// downstream's applied one, which its copy is at or past): journals are
// preallocated, so their sizes say nothing.
std::optional<uint64_t> JournalOffset(const std::string& address) {
  auto a = Address::Parse(address);
  if (!a.ok()) return std::nullopt;
  ClientOptions options;
  options.connect_timeout = options.io_timeout = std::chrono::milliseconds(2000);
  auto c = Client::Connect(*a, options);
  if (!c.ok()) return std::nullopt;
  auto r = (*c)->Call({"", "", {"info"}});
  if (!r.ok() || !r->status.ok() || r->rows.empty()) return std::nullopt;
  return ParseDecimal<uint64_t>(FieldOf(r->rows[0], "sequence"));
}

bool Ok(const testing::CommandResult& r, const std::string& what, std::string* why) {
  if (r.exit_code == 0) return true;
  if (why) *why = what + ": " + r.err + r.out;
  return false;
}

}  // namespace

std::unique_ptr<Cluster> Cluster::Create(const std::string& dir, const std::string& commit_wait,
                                         bool auto_failover) {
  auto c = std::unique_ptr<Cluster>(new Cluster());
  for (const char* name : {"master1", "sb1", "sb2", "r1"}) {
    Server s;
    s.name = name;
    s.root = dir + "/" + name;
    uint16_t port = FreePort();
    s.address = "127.0.0.1:" + std::to_string(port);
    s.source = "127.0.0." + std::to_string(11 + c->servers_.size());
    s.front = std::make_unique<TcpProxy>(port);
    c->servers_.push_back(std::move(s));
  }
  Server& m = c->servers_[0];
  if (RunTandemd({"-r", m.root, "--id", "master1"}).exit_code != 0 ||
      RunTandemd({"-r", m.root, "-cset", "net.source=" + m.source}).exit_code != 0 ||
      !c->StartServer(m)) {
    return nullptr;
  }
  for (std::string kv : {"commit.wait=" + commit_wait, std::string("commit.wait.timeout=5"),
                         std::string("rpl.timeout.ms=1000"), std::string("rpl.heartbeat.ms=100"),
                         std::string(auto_failover ? "failover.auto=1" : "failover.auto=0"),
                         std::string("failover.auto.seconds=2")}) {
    if (RunTandem({"-p", m.address, "configure", "set", kv}).exit_code != 0) return nullptr;
  }
  for (size_t i = 1; i < c->servers_.size(); ++i) {
    Server& s = c->servers_[i];
    std::string spec = "ServerID: " + s.name +
                       "\nServices: " + (s.name == "r1" ? "replica" : "standby") +
                       "\nOptions: " + (s.name == "sb1" ? "mandatory" : "nomandatory") +
                       "\nReplicatingFrom: master1\nAddress: " + s.front_address() + "\n";
    if (RunTandem({"-p", m.address, "server", "-i"}, {spec, {}, {}}).exit_code != 0 ||
        RunTandemd({"-r", s.root, "--id", s.name}).exit_code != 0 ||
        RunTandemd({"-r", s.root, "-cset", "net.source=" + s.source}).exit_code != 0 ||
        RunTandemd({"-r", s.root, "-cset", "target=" + m.front_address()}).exit_code != 0 ||
        !c->StartServer(s)) {
      return nullptr;
    }
  }
  return c;
}

Cluster::~Cluster() {
  for (Server& s : servers_) {
    if (s.process) s.process->Kill9();
  }
}

bool Cluster::StartServer(Server& s) {
  s.process = TandemdProcess::Start(s.root, s.address);
  s.stopped = s.disk_limited = false;
  return s.process != nullptr;
}

void Cluster::Kill(Server& s) {
  if (s.process) s.process->Kill9();
  s.process.reset();
}

void Cluster::Stop(Server& s) {
  if (!s.process || s.stopped) return;
  s.process->Stop();
  s.stopped = true;
}

void Cluster::Cont(Server& s) {
  if (!s.process || !s.stopped) return;
  s.process->Continue();
  s.stopped = false;
}

void Cluster::LimitDisk(Server& s, uint64_t slack) {
  if (!s.process || s.stopped) return;
  auto offset = JournalOffset(s.address);
  if (!offset) return;
  // No write may end past here: the disk is full a little way on.
  rlimit lim{*offset + slack, RLIM_INFINITY};
  if (::prlimit(s.process->pid(), RLIMIT_FSIZE, &lim, nullptr) == 0) s.disk_limited = true;
}

void Cluster::CutLink(Server& a, Server& b, bool black_hole) {
  for (auto [to, from] : {std::pair{&a, &b}, std::pair{&b, &a}}) {
    black_hole ? to->front->BlackHole(from->source) : to->front->Cut(from->source);
  }
}

void Cluster::RestoreLink(Server& a, Server& b) {
  a.front->Restore(b.source);
  b.front->Restore(a.source);
}

bool Cluster::Heal(std::string* why) {
  for (Server& s : servers_) {
    s.front->Restore();
    Cont(s);
    if (s.process && s.disk_limited) {
      rlimit lim{RLIM_INFINITY, RLIM_INFINITY};
      ::prlimit(s.process->pid(), RLIMIT_FSIZE, &lim, nullptr);
      s.disk_limited = false;
    }
    if (s.process && s.process->Exited()) s.process.reset();
    if (!s.process && !StartServer(s)) {
      if (why) *why = s.name + " does not start again: see " + s.root + ".log / .stderr";
      return false;
    }
  }
  return true;
}

std::optional<HelloAnswer> Cluster::Hello(const Server& s) const {
  auto a = Address::Parse(s.address);
  if (!a.ok() || !s.process || s.stopped) return std::nullopt;
  auto hello = SayHello(*a, std::chrono::milliseconds(2000), "");
  if (!hello.ok()) return std::nullopt;
  return *hello;
}

Server* Cluster::Master() {
  Server* best = nullptr;
  uint32_t epoch = 0;
  for (Server& s : servers_) {
    auto h = Hello(s);
    if (h && h->is_master() && (!best || h->epoch > epoch)) {
      best = &s;
      epoch = h->epoch;
    }
  }
  return best;
}

bool Cluster::Settle(std::string* why) {
  Server* master = nullptr;
  std::string state;
  bool one = WaitFor(
      [&] {
        std::vector<Server*> masters;
        state.clear();
        bool all = true;  // a server finishing a failover answers once it serves
        for (Server& s : servers_) {
          auto h = Hello(s);
          state += s.name + "=" + (h ? h->role + "@" + std::to_string(h->epoch) : "?") + " ";
          if (h && h->is_master()) masters.push_back(&s);
          all = all && h.has_value();
        }
        if (!all || masters.size() != 1) return false;
        master = masters[0];
        return true;
      },
      60000);
  if (!one) {
    if (why) *why = "no single master within 60 s: " + state;
    return false;
  }
  // Fenced roots are the operator's to turn into standbys of the master.
  for (Server& s : servers_) {
    auto h = Hello(s);
    if (!h || h->role != "fenced") continue;
    if (s.process) s.process->Terminate();
    s.process.reset();
    // As below: the master may be busy with a failover.auto of its own.
    testing::CommandResult rejoined;
    bool done = WaitFor(
        [&] {
          Server* now = Master();
          if (!now) return false;
          rejoined = RunTandemd({"-r", s.root, "--rejoin", now->front_address()});
          return rejoined.exit_code == 0;
        },
        30000);
    if (!done && !Ok(rejoined, "rejoin " + s.name, why)) return false;
    std::smatch id;
    std::string out = rejoined.out;
    if (std::regex_search(out, id, std::regex("is now standby '([^']+)'"))) {
      // Its new ServerID's spec names the promoted server: point it here.
      // The master may be paused by (or lose its role to) a failover.auto
      // meanwhile: ask whichever serves as master until one takes it.
      testing::CommandResult last;
      bool pointed = WaitFor(
          [&] {
            Server* now = Master();
            if (!now) return false;
            auto spec = RunTandem({"-p", now->address, "server", "-o", id[1]});
            std::string text = std::regex_replace(spec.out, std::regex("Address: [^\\n]*"),
                                                  "Address: " + s.front_address());
            if (text.find("Address: ") == std::string::npos)
              text += "Address: " + s.front_address() + "\n";
            last = RunTandem({"-p", now->address, "server", "-i"}, {text, {}, {}});
            return spec.exit_code == 0 && last.exit_code == 0;
          },
          30000);
      if (!pointed) {
        if (why) *why = "spec of " + std::string(id[1]) + ": " + last.err + last.out;
        return false;
      }
    }
    if (!StartServer(s)) {
      if (why) *why = "rejoined " + s.name + " does not start";
      return false;
    }
  }
  return true;
}

}  // namespace tandem::chaos
