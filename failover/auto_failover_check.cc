#include "failover/auto_failover_check.h"

#include <future>
#include <vector>

#include "replica/server_spec.h"
#include "transport/hello.h"

namespace tandem {

std::string MasterHeardByOthers(const Tables& tables, const std::string& self_id,
                                const std::string& own_address, uint32_t epoch,
                                std::chrono::milliseconds window,
                                std::chrono::milliseconds timeout) {
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
    peers.push_back({spec.id, std::async(std::launch::async, [a = *address, timeout] {
                       return SayHello(a, timeout);
                     })});
  }
  std::string why;
  for (Peer& p : peers) {
    Result<HelloAnswer> hello = p.answer.get();
    if (!hello.ok() || !why.empty()) continue;
    if (hello->is_master() && hello->epoch > epoch) {
      why = "'" + p.id + "' is already a master of epoch " + std::to_string(hello->epoch);
    } else if (hello->epoch == epoch && hello->upstream != own_address &&
               hello->heard_ms_ago >= 0 && hello->heard_ms_ago < window.count()) {
      why = "'" + p.id + "' heard the master (through " + hello->upstream + ") " +
            std::to_string(hello->heard_ms_ago) +
            " ms ago: it is alive, and only the link from here is cut";
    }
  }
  return why;
}

}  // namespace tandem
