// A host server with Tandem inside it, built only against the installed
// <tandem/tandem.h>. Run one as the master and one as its standby; the
// host's own control channel (commands on stdin, one per line) tells the
// standby to fail over.
//
//   embedded_node --root DIR --id SERVERID [--master HOST:PORT] [--listen HOST:PORT]
//
// Commands:
//   put TABLE KEY VALUE        commit one row (the master)
//   get TABLE KEY              read it (any role)
//   await TABLE KEY VALUE      wait (up to 30 s) until it reads VALUE
//   define ID standby|replica mandatory|nomandatory   a server spec (the master)
//   failover                   become the master (a standby), planned if the
//                              master answers, else unplanned
//   status                     role, address, epoch, positions
//   quit
// It prints one line per answer, "role ROLE ADDRESS" whenever its role
// changes, and at the end "applied N": the transactions its host saw.
#include <tandem/tandem.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>

namespace {

std::mutex out_mu;  // callbacks print from Tandem's threads
void Say(const std::string& line) {
  std::lock_guard lock(out_mu);
  std::cout << line << std::endl;
}

std::string Pos(const tandem::JournalPosition& p) {
  return std::to_string(p.journal) + "/" + std::to_string(p.offset);
}

std::string Error(const tandem::Outcome& o) {
  return "error " + std::string(o.code_name()) + " " + o.message();
}

void Handle(tandem::Node& node, const std::string& line) {
  std::istringstream in(line);
  std::string cmd, table, key, value;
  in >> cmd;
  if (cmd == "put" && in >> table >> key >> value) {
    auto pos = node.Commit({tandem::Write::Put(table, key, value)});
    return Say(pos.ok() ? "ok " + Pos(pos.value) : Error(pos.outcome));
  }
  if (cmd == "get" && in >> table >> key) {
    auto v = node.Get(table, key);
    return Say(v ? "value " + *v : "none");
  }
  if (cmd == "await" && in >> table >> key >> value) {
    for (int i = 0; i < 3000 && node.Get(table, key) != value; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    auto v = node.Get(table, key);
    return Say(v == value ? "value " + *v : "timeout");
  }
  std::string type, mandatory;
  if (cmd == "define" && in >> key >> type >> mandatory) {
    tandem::Outcome o =
        node.DefineServer({.id = key, .type = type, .mandatory = mandatory == "mandatory"});
    return Say(o.ok() ? "ok" : Error(o));
  }
  if (cmd == "failover") {
    tandem::FailoverRequest request;
    request.execute = true;
    request.quiesce_secs = 10;
    auto result = node.Failover(request, [](const tandem::FailoverMessage& m) {
      Say("progress " + m.kind + ": " + m.text);
    });
    return Say(result.outcome.ok() ? "failed over: epoch " + std::to_string(result.epoch)
                                   : Error(result.outcome));
  }
  if (cmd == "status") {
    tandem::NodeStatus st = node.Status();
    return Say("status " + std::string(tandem::RoleName(st.role)) + " " + st.address + " epoch " +
               std::to_string(st.epoch) + " durable " + Pos(st.durable) + " applied " +
               Pos(st.applied) + (st.health.ok() ? "" : " (" + st.health.message() + ")"));
  }
  Say("error invalid-argument unknown command: " + line);
}

}  // namespace

int main(int argc, char** argv) {
  tandem::NodeOptions options;
  options.metrics_address = "";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--root")
      options.root = value;
    else if (flag == "--id")
      options.server_id = value;
    else if (flag == "--master")
      options.master_address = value;
    else if (flag == "--listen")
      options.address = value;
  }
  if (options.root.empty()) {
    std::cerr << "usage: embedded_node --root DIR --id SERVERID [--master HOST:PORT] "
                 "[--listen HOST:PORT]\n";
    return 2;
  }
  // The host's logger: here, stderr with a prefix of its own.
  tandem::SetLogSink([](tandem::LogSeverity, std::string_view id, std::string_view message) {
    std::cerr << "[tandem " << id << "] " << message << "\n";
  });
  options.on_role_change = [](const tandem::RoleChange& change) {
    Say("role " + std::string(tandem::RoleName(change.role)) + " " + change.address);
  };
  // The host's own state in step with the journal: here, a count.
  std::atomic<uint64_t> applied{0};
  options.on_applied = [&applied](const tandem::AppliedTransaction&) { ++applied; };

  auto opened = tandem::Node::Open(options);
  if (!opened.ok()) {
    std::cerr << "embedded_node: " << opened.outcome.message() << "\n";
    return 1;
  }
  tandem::Node& node = *opened.value;
  std::string line;
  while (std::getline(std::cin, line) && line != "quit") {
    if (!line.empty()) Handle(node, line);
  }
  Say("applied " + std::to_string(applied.load()));
  node.Stop();
  tandem::SetLogSink(nullptr);
  return 0;
}
