#include "journal/fault_point.h"

#ifdef TANDEM_FAULT_POINTS

#include <signal.h>

#include <charconv>
#include <chrono>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "journal/log.h"

namespace tandem {
namespace {

struct Armed {
  std::string action;
  int at = 1;    // fire on this hit
  int hits = 0;  // seen so far
};

struct Registry {
  std::mutex mu;
  std::map<std::string, Armed, std::less<>> points;

  // NAME=ACTION[@N], comma-separated.
  Registry() {
    const char* env = std::getenv("TANDEM_FAULTS");
    std::string_view spec = env ? env : "";
    while (!spec.empty()) {
      std::string_view item = spec.substr(0, spec.find(','));
      spec.remove_prefix(std::min(spec.size(), item.size() + 1));
      size_t eq = item.find('=');
      if (eq == std::string_view::npos) continue;
      Add(item.substr(0, eq), item.substr(eq + 1));
    }
  }
  void Add(std::string_view name, std::string_view action) {
    Armed a;
    size_t at = action.find('@');
    if (at != std::string_view::npos) {
      std::from_chars(action.data() + at + 1, action.data() + action.size(), a.at);
      action = action.substr(0, at);
    }
    a.action = action;
    points[std::string(name)] = a;
    LogWarning() << "fault point '" << name << "' armed: " << action << " at hit " << a.at;
  }
};

Registry& Points() {
  static Registry registry;
  return registry;
}

}  // namespace

Status HitFaultPoint(std::string_view name) {
  Registry& r = Points();
  std::string action;
  {
    std::lock_guard lock(r.mu);
    auto it = r.points.find(name);
    if (it == r.points.end() || ++it->second.hits != it->second.at) return Status::Ok();
    action = it->second.action;
  }
  LogWarning() << "fault point '" << name << "': " << action;
  if (action == "crash") ::raise(SIGKILL);
  if (action == "stop") ::raise(SIGSTOP);
  if (action == "sleep") std::this_thread::sleep_for(std::chrono::seconds(2));
  if (action == "error") return Status::IOError("fault injected at '" + std::string(name) + "'");
  return Status::Ok();
}

void ArmFaultPoint(std::string_view name, std::string_view action) {
  Registry& r = Points();
  std::lock_guard lock(r.mu);
  if (action.empty()) {
    r.points.erase(std::string(name));
  } else {
    r.Add(name, action);
  }
}

}  // namespace tandem

#endif  // TANDEM_FAULT_POINTS
