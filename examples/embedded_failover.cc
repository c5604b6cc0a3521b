// Embedding Tandem's failover: a host process that runs a standby in-process
// and, when told to, makes it the master — the same coordinator `tandemd`
// wraps, without any of tandemd's command handling.
//
//   embedded_failover ROOT [--execute]
//
// ROOT must be a standby root (ServerID set, local `target` pointing at the
// master). Without --execute it prints the preview; with it, it fails over
// and then serves as master until it has written one transaction.
#include <chrono>
#include <iostream>
#include <thread>

#include "failover/coordinator.h"
#include "failover/promote.h"
#include "journal/engine.h"
#include "replica/downstream_node.h"

using namespace tandem;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: embedded_failover ROOT [--execute]\n";
    return 2;
  }
  const std::string root = argv[1];
  FailoverOptions options;
  options.execute = argc > 2 && std::string(argv[2]) == "--execute";
  options.quiesce_secs = 0;

  FailoverReport report;
  {
    auto node = DownstreamNode::Open(root);
    if (!node.ok()) {
      std::cerr << node.status().message() << "\n";
      return 1;
    }
    (*node)->Start();
    // Let it catch up first: the checks read the replicated server specs.
    for (int i = 0; i < 500; ++i) {
      CopierStatus up = (*node)->upstream_status();
      if (up.connected && (*node)->applied() >= up.upstream_durable) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    // The role-change callback of the API: every line as it happens.
    Failover failover(node->get(), options, [](const FailoverLine& line) {
      std::cout << line.kind << ": " << line.text << "\n";
    });
    report = failover.Run();
  }  // the standby side lets go of the root here
  if (!report.ok) return 1;
  if (!options.execute) return 0;

  // The root is a master root now: open it as one and finish the failover
  // (failover record, specs) before taking any write.
  auto engine = Engine::Open({root, std::nullopt});
  if (!engine.ok()) {
    std::cerr << engine.status().message() << "\n";
    return 1;
  }
  if (Status st = FinishFailover(engine->get(), ""); !st.ok()) {
    std::cerr << st.message() << "\n";
    return 1;
  }
  auto pos = (*engine)->Commit({{Op::Put("kv", "written-by", "embedded new master")}});
  if (!pos.ok()) {
    std::cerr << pos.status().message() << "\n";
    return 1;
  }
  std::cout << "master '" << (*engine)->server_id() << "' at epoch " << (*engine)->epoch().value
            << " committed at " << pos->ToString() << "\n";
  return 0;
}
