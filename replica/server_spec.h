// Server specs: the replicated `server` table, one row per ServerID, printed
// and read in the Helix form of `Field: value` lines.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "journal/status.h"
#include "journal/table_set.h"

namespace tandem {

inline constexpr std::string_view kServerTable = "server";

enum class ServerType { kStandard, kStandby, kForwardingStandby, kReplica };

std::string_view ServerTypeName(ServerType t);
std::optional<ServerType> ParseServerType(std::string_view name);

struct ServerSpec {
  std::string id;
  ServerType type = ServerType::kStandard;
  std::string address;
  std::string replicating_from;
  // The service user allowed to replicate (and fail over) as this ServerID.
  // On a secured master a spec without one cannot replicate.
  std::string user;
  bool mandatory = false;

  bool is_standby() const {
    return type == ServerType::kStandby || type == ServerType::kForwardingStandby;
  }
  // ServerID:, Services:, Options:, ReplicatingFrom:, Address:, User: lines.
  std::string Format() const;
  static Result<ServerSpec> Parse(std::string_view text);
};

std::optional<ServerSpec> LoadServerSpec(const Tables& tables, std::string_view id);
std::vector<ServerSpec> LoadServerSpecs(const Tables& tables);
Op ServerSpecOp(const ServerSpec& spec);

}  // namespace tandem
