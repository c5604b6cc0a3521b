#include "replica/server_spec.h"

#include <sstream>

namespace tandem {

std::string_view ServerTypeName(ServerType t) {
  switch (t) {
    case ServerType::kStandard:
      return "standard";
    case ServerType::kStandby:
      return "standby";
    case ServerType::kForwardingStandby:
      return "forwarding-standby";
    case ServerType::kReplica:
      return "replica";
  }
  return "standard";
}

std::optional<ServerType> ParseServerType(std::string_view name) {
  for (ServerType t : {ServerType::kStandard, ServerType::kStandby, ServerType::kForwardingStandby,
                       ServerType::kReplica}) {
    if (ServerTypeName(t) == name) return t;
  }
  return std::nullopt;
}

std::string ServerSpec::Format() const {
  std::ostringstream out;
  out << "ServerID: " << id << "\n"
      << "Services: " << ServerTypeName(type) << "\n"
      << "Options: " << (mandatory ? "mandatory" : "nomandatory") << "\n"
      << "ReplicatingFrom: " << replicating_from << "\n"
      << "Address: " << address << "\n";
  if (!user.empty()) out << "User: " << user << "\n";
  return out.str();
}

Result<ServerSpec> ServerSpec::Parse(std::string_view text) {
  ServerSpec spec;
  std::istringstream in{std::string(text)};
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.empty() || line[0] == '#') continue;
    auto colon = line.find(':');
    if (colon == std::string::npos) {
      return Status::InvalidArgument("spec line " + std::to_string(lineno) +
                                     ": expected 'Field: value', found '" + line + "'");
    }
    std::string field = line.substr(0, colon);
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.erase(0, 1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\r')) value.pop_back();
    if (field == "ServerID") {
      spec.id = value;
    } else if (field == "Services" || field == "Type") {
      auto t = ParseServerType(value);
      if (!t) {
        return Status::InvalidArgument("spec line " + std::to_string(lineno) +
                                       ": unknown service '" + value +
                                       "' (standard, standby, forwarding-standby, replica)");
      }
      spec.type = *t;
    } else if (field == "Options") {
      if (value != "mandatory" && value != "nomandatory") {
        return Status::InvalidArgument("spec line " + std::to_string(lineno) +
                                       ": Options is mandatory or nomandatory, not '" + value +
                                       "'");
      }
      spec.mandatory = value == "mandatory";
    } else if (field == "ReplicatingFrom") {
      spec.replicating_from = value;
    } else if (field == "Address") {
      spec.address = value;
    } else if (field == "User") {
      spec.user = value;
    } else {
      return Status::InvalidArgument("spec line " + std::to_string(lineno) + ": unknown field '" +
                                     field + "'");
    }
  }
  if (spec.id.empty() || spec.id.find_first_of(" \t#") != std::string::npos) {
    return Status::InvalidArgument("spec needs a ServerID without spaces or '#'");
  }
  if (spec.mandatory && !spec.is_standby()) {
    return Status::InvalidArgument("only a standby or forwarding-standby can be mandatory");
  }
  return spec;
}

std::optional<ServerSpec> LoadServerSpec(const Tables& tables, std::string_view id) {
  auto text = tables.Get(kServerTable, id);
  if (!text) return std::nullopt;
  auto spec = ServerSpec::Parse(*text);
  if (!spec.ok()) return std::nullopt;
  return *spec;
}

std::vector<ServerSpec> LoadServerSpecs(const Tables& tables) {
  std::vector<ServerSpec> out;
  for (const auto& [id, text] : tables.Scan(kServerTable, "", 100000)) {
    if (auto spec = ServerSpec::Parse(text); spec.ok()) out.push_back(*spec);
  }
  return out;
}

Op ServerSpecOp(const ServerSpec& spec) {
  return Op::Put(std::string(kServerTable), spec.id, spec.Format());
}

}  // namespace tandem
