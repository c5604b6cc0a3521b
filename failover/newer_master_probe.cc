#include "failover/newer_master_probe.h"

#include <future>
#include <vector>

#include "replica/server_spec.h"
#include "transport/hello.h"

namespace tandem {

std::optional<ServerIdentity> FindNewerMaster(const Engine& engine, const std::string& own_address,
                                              std::chrono::milliseconds timeout,
                                              const std::string& source) {
  struct Probe {
    std::string standby;
    std::string address;
    std::future<Result<HelloAnswer>> answer;
  };
  std::vector<Probe> probes;
  for (const ServerSpec& spec : LoadServerSpecs(engine.tables())) {
    if (!spec.is_standby() || spec.address.empty() || spec.address == own_address) continue;
    auto address = Address::Parse(spec.address);
    if (!address.ok()) continue;
    probes.push_back(
        {spec.id, spec.address, std::async(std::launch::async, [a = *address, timeout, source] {
           return SayHello(a, timeout, source);
         })});
  }
  const uint32_t ours = engine.epoch().value;
  std::optional<ServerIdentity> newest;
  uint32_t newest_epoch = ours;
  for (Probe& p : probes) {
    Result<HelloAnswer> hello = p.answer.get();
    if (!hello.ok() || !hello->is_master() || hello->server_id != engine.server_id() ||
        hello->epoch <= newest_epoch) {
      continue;
    }
    newest_epoch = hello->epoch;
    newest = ServerIdentity{};
    newest->id = engine.server_id();
    newest->fence = "a master of epoch " + std::to_string(hello->epoch) + " serves at " +
                    p.address + " (standby '" + p.standby +
                    "' of our specs); this master of epoch " + std::to_string(ours) + " is stale";
    newest->new_master = p.address;
    if (hello->epoch == ours + 1) {  // then it is the one that took over from us
      newest->fenced_for = p.standby;
      newest->fenced_epoch = hello->epoch;
    }
  }
  return newest;
}

}  // namespace tandem
