#include "failover/peer_views.h"

#include <future>
#include <vector>

#include "replica/server_spec.h"
#include "transport/hello.h"

namespace tandem {

std::string MasterHeardByOthers(const Tables& tables, const std::string& self_id,
                                const std::string& own_address, uint32_t epoch,
                                std::chrono::milliseconds window, std::chrono::milliseconds timeout,
                                const std::string& source) {
  struct Peer {
    std::string id;
    std::future<Result<HelloAnswer>> answer;
  };
  std::vector<Peer> peers;
  for (const ServerSpec& spec : LoadServerSpecs(tables)) {
    if (spec.id == self_id || spec.type == ServerType::kStandard) continue;
    if (spec.address.empty() || spec.address == own_address) continue;
    auto address = Address::Parse(spec.address);
    if (!address.ok()) continue;
    peers.push_back({spec.id, std::async(std::launch::async, [a = *address, timeout, source] {
                       return SayHello(a, timeout, source);
                     })});
  }
  std::string why;
  for (Peer& p : peers) {
    Result<HelloAnswer> hello = p.answer.get();
    if (!hello.ok() || !why.empty()) continue;
    // A server that streams from another downstream server hears that
    // server's heartbeats, which say nothing of the master.
    bool hears_a_master = hello->upstream_role.empty() || hello->upstream_role == "standard";
    if (hello->is_master() && hello->epoch > epoch) {
      why = "'" + p.id + "' is already a master of epoch " + std::to_string(hello->epoch);
    } else if (hello->epoch == epoch && hears_a_master && hello->upstream != own_address &&
               hello->heard_ms_ago >= 0 && hello->heard_ms_ago < window.count()) {
      why = "'" + p.id + "' heard the master (through " + hello->upstream + ") " +
            std::to_string(hello->heard_ms_ago) +
            " ms ago: it is alive, and only the link from here is cut";
    }
  }
  return why;
}

EpochHeard NewestEpochHeard(const Tables& tables, const std::string& self_id,
                            const std::string& own_address, const std::vector<std::string>& also,
                            std::chrono::milliseconds timeout, const std::string& source) {
  std::vector<std::pair<std::string, std::string>> peers;  // who, address
  for (const ServerSpec& spec : LoadServerSpecs(tables)) {
    if (spec.id != self_id && !spec.address.empty() && spec.address != own_address) {
      peers.emplace_back("'" + spec.id + "'", spec.address);
    }
  }
  for (const std::string& a : also) peers.emplace_back(a, a);
  std::vector<std::future<Result<HelloAnswer>>> answers;
  for (const auto& [who, text] : peers) {
    auto address = Address::Parse(text);
    answers.push_back(std::async(std::launch::async, [address, timeout, source] {
      return address.ok() ? SayHello(*address, timeout, source)
                          : Result<HelloAnswer>(address.status());
    }));
  }
  EpochHeard newest;
  for (size_t i = 0; i < peers.size(); ++i) {
    Result<HelloAnswer> hello = answers[i].get();
    if (!hello.ok() || hello->server_id == self_id || hello->epoch <= newest.epoch) continue;
    newest = {hello->epoch, peers[i].first + " (" + hello->role + " at " + peers[i].second + ")"};
  }
  return newest;
}

}  // namespace tandem
