#include "replica/upstream_choice.h"

#include <algorithm>
#include <functional>
#include <future>
#include <optional>
#include <thread>

#include "journal/engine.h"
#include "journal/log.h"
#include "replica/server_spec.h"
#include "replica/stragglers.h"

namespace tandem {
namespace {

struct Answer {
  Address address;
  Result<HelloAnswer> hello;
};

using Clock = std::chrono::steady_clock;
constexpr std::chrono::milliseconds kSettle{100};

// When a round stops waiting. Once it has its answer (`settles`: a master
// of an epoch newer than this server holds), the others get kSettle more to
// say they are newer still (a chain of failovers), and a preferred
// candidate that may be a downstream server (a replica's cascade) a quarter
// of the timeout: not the whole timeout that a hung or black-holed
// candidate (often the old master itself, a sole target) takes. So a server
// moves to a new master within its bound.
struct Settling {
  std::function<bool(const HelloAnswer&)> settles;
  bool wait_for_first = false;
  std::optional<Clock::time_point> since;  // when the answer came
};

// Whether a candidate may be the new master a moment from now: a standby
// (it promotes itself and restarts in place), or one that refused just now
// (it is restarting). Masters, fenced servers and replicas will not be.
bool MayBecomeMaster(const Result<HelloAnswer>& h) {
  if (!h.ok()) return h.status().code() != Code::kTimeout;
  return h->role == "standby" || h->role == "forwarding-standby";
}

// Asks every address at once; answers in the same order. While the round
// waits for a silent candidate, those that may become the master are asked
// again every tenth of the timeout, and one that does is then followed at
// once rather than at the next round. One still unanswered when the wait
// ends counts as a timeout; its question runs out on its own (SayHello is
// bounded), as one of the process's stragglers.
std::vector<Answer> AskAll(const std::vector<Address>& addresses, const HelloRound& round,
                           Settling& settling) {
  const size_t n = addresses.size();
  auto ask = [&](size_t i) {
    return std::async(std::launch::async,
                      [a = addresses[i], timeout = round.timeout, source = round.source] {
                        return SayHello(a, timeout, source);
                      });
  };
  std::vector<std::future<Result<HelloAnswer>>> asking(n);  // in flight, if valid
  std::vector<std::optional<Result<HelloAnswer>>> got(n);   // the latest answer
  std::vector<Clock::time_point> asked(n, Clock::now());
  for (size_t i = 0; i < n; ++i) asking[i] = ask(i);
  const auto again = std::max(std::chrono::milliseconds(10), round.timeout / 10);
  // Past the last step's floor of a hello that started at once (deadline.h).
  const auto end = Clock::now() + round.timeout * 3 / 2 + kSettle;
  auto deadline = [&] {
    if (!settling.since) return end;
    bool first_pending = settling.wait_for_first && n > 0 && !got[0];
    return std::min(
        end, *settling.since + (first_pending ? std::max(kSettle, round.timeout / 4) : kSettle));
  };
  size_t silent = n;
  // Takes in the answers that have come; true while a candidate is silent.
  auto collect = [&](Clock::time_point now) {
    for (size_t i = 0; i < n; ++i) {
      if (!asking[i].valid() ||
          asking[i].wait_for(std::chrono::milliseconds(0)) != std::future_status::ready) {
        continue;
      }
      Result<HelloAnswer> answer = asking[i].get();
      if (!got[i]) --silent;
      // A server restarting in place refuses for a moment: keep what it said.
      if (!got[i] || answer.ok() || !got[i]->ok()) got[i] = std::move(answer);
      if (!settling.since && settling.settles && got[i]->ok() && settling.settles(**got[i])) {
        settling.since = now;
      }
    }
    return silent > 0;
  };
  while (collect(Clock::now()) && Clock::now() < deadline() &&
         !(round.cancelled && round.cancelled())) {
    auto now = Clock::now();
    for (size_t i = 0; i < n && !settling.since; ++i) {
      if (!asking[i].valid() && got[i] && MayBecomeMaster(*got[i]) && now - asked[i] >= again) {
        asking[i] = ask(i);
        asked[i] = now;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  collect(Clock::now());  // what came during the last sleep
  std::vector<Answer> out;
  out.reserve(n);
  auto unfinished = std::make_shared<std::vector<std::future<Result<HelloAnswer>>>>();
  for (size_t i = 0; i < n; ++i) {
    if (got[i]) {
      out.push_back({addresses[i], std::move(*got[i])});
    } else {
      out.push_back({addresses[i], Status::Timeout("no answer before the round ended")});
    }
    if (asking[i].valid()) unfinished->push_back(std::move(asking[i]));
  }
  // A future of std::async waits for its hello when destroyed: elsewhere.
  if (!unfinished->empty()) ProcessStragglers().Run([unfinished] { unfinished->clear(); });
  return out;
}

// AskAll, then once more for the servers the answers point at that are not
// asked yet: a fenced master's new master and, when `first_upstream`, the
// upstream of a first (preferred) candidate that is not a master. So a
// server pointed at an old master, or a standby pointed at a standby, finds
// the master even before the specs that name it have replicated here.
// Other downstream servers' upstreams are not followed: their links are
// theirs (failover.auto asks them precisely because ours may be cut).
std::vector<Answer> AskWithHints(const std::vector<Address>& addresses, const HelloRound& round,
                                 Settling settling, bool first_upstream) {
  std::vector<Answer> answers = AskAll(addresses, round, settling);
  std::vector<Address> hints;
  auto known = [&](const std::string& text) {
    for (const Answer& a : answers) {
      if (a.address.ToString() == text) return true;
    }
    for (const Address& h : hints) {
      if (h.ToString() == text) return true;
    }
    return false;
  };
  auto add = [&](const std::string& text) {
    auto hint = Address::Parse(text);
    if (!text.empty() && hint.ok() && !known(hint->ToString())) hints.push_back(*hint);
  };
  for (size_t i = 0; i < answers.size(); ++i) {
    const Result<HelloAnswer>& h = answers[i].hello;
    if (!h.ok()) continue;
    if (h->role == "fenced") add(h->new_master);
    if (i == 0 && first_upstream && !h->is_master()) add(h->upstream);
  }
  if (hints.empty() || (round.cancelled && round.cancelled())) return answers;
  // After a settled round, hints get kSettle of their own.
  settling.wait_for_first = false;
  if (settling.since) settling.since = Clock::now();
  for (Answer& a : AskAll(hints, round, settling)) answers.push_back(std::move(a));
  return answers;
}

}  // namespace

UpstreamCandidates ListCandidates(const Tables& tables, const std::string& server_id,
                                  const std::vector<Address>& targets,
                                  const std::string& own_address) {
  UpstreamCandidates out;
  // Until its own spec has replicated, a server is taken for a standby.
  auto self = LoadServerSpec(tables, server_id);
  out.masters_only = !self || self->is_standby();
  auto add = [&](const Address& a) {
    std::string text = a.ToString();
    if (text == own_address) return false;
    for (const Address& b : out.addresses) {
      if (b.ToString() == text) return false;
    }
    out.addresses.push_back(a);
    return true;
  };
  if (auto replicated = tables.Get(kConfigTable, server_id + "#target")) {
    if (auto a = Address::Parse(*replicated); a.ok()) {
      out.first_preferred = add(*a);
    } else {
      LogWarning() << server_id << "#target='" << *replicated << "' is not an address; ignored";
    }
  }
  bool sole_target = targets.size() == 1 && out.addresses.empty();
  for (const Address& a : targets) {
    if (add(a) && sole_target) out.first_preferred = true;
  }
  for (const ServerSpec& spec : LoadServerSpecs(tables)) {
    if (spec.id == server_id || spec.address.empty()) continue;
    if (spec.type != ServerType::kStandard && !spec.is_standby()) continue;
    if (auto a = Address::Parse(spec.address); a.ok()) add(*a);
  }
  return out;
}

UpstreamChoice ChooseUpstream(const UpstreamCandidates& candidates, const std::string& server_id,
                              uint32_t held_epoch, const HelloRound& round) {
  UpstreamChoice choice;
  choice.newest = held_epoch;
  if (candidates.addresses.empty()) return choice;
  choice.address = candidates.addresses.front();
  Settling settling;
  settling.settles = [&](const HelloAnswer& h) {
    return h.is_master() && h.server_id != server_id && h.epoch > held_epoch;
  };
  settling.wait_for_first = candidates.first_preferred && !candidates.masters_only;
  std::vector<Answer> answers =
      AskWithHints(candidates.addresses, round, settling, candidates.first_preferred);
  // With no usable answer the first candidate is tried again, unless it is
  // this server under another form of its address.
  for (const Answer& a : answers) {
    if (!a.hello.ok() || a.hello->server_id != server_id) {
      choice.address = a.address;
      break;
    }
  }
  auto usable = [&](const Answer& a) {
    return a.hello.ok() && a.hello->server_id != server_id && a.hello->role != "fenced";
  };
  for (const Answer& a : answers) {
    if (usable(a) && a.hello->is_master()) choice.newest = std::max(choice.newest, a.hello->epoch);
  }
  const Answer& first = answers.front();
  if (candidates.first_preferred && usable(first) && first.hello->epoch >= choice.newest &&
      (first.hello->is_master() || !candidates.masters_only)) {
    choice.found = true;
  }
  for (const Answer& a : answers) {
    if (!usable(a) || !a.hello->is_master()) continue;
    if (a.hello->epoch < choice.newest) {
      choice.older_masters.push_back({a.address, *a.hello});
    } else if (!choice.found) {
      choice.address = a.address;
      choice.found = true;
    }
  }
  for (const Answer& a : answers) {
    if (a.address.ToString() != choice.address.ToString()) continue;
    if (a.hello.ok()) {
      choice.role = a.hello->role;
    } else {
      choice.silence = a.hello.status();
    }
    break;
  }
  return choice;
}

std::optional<ProbedServer> NewerMasterAmong(const UpstreamCandidates& candidates,
                                             const std::string& server_id,
                                             const std::string& current, uint32_t epoch,
                                             const HelloRound& round) {
  std::vector<Address> others;
  for (const Address& a : candidates.addresses) {
    if (a.ToString() != current) others.push_back(a);
  }
  std::optional<ProbedServer> newest;
  Settling settling;
  settling.settles = [&](const HelloAnswer& h) {
    return h.is_master() && h.server_id != server_id && h.epoch > epoch;
  };
  for (Answer& a : AskWithHints(others, round, settling, false)) {
    if (!a.hello.ok() || !a.hello->is_master() || a.hello->server_id == server_id) continue;
    if (a.hello->epoch > (newest ? newest->hello.epoch : epoch)) {
      newest = ProbedServer{a.address, *a.hello};
    }
  }
  return newest;
}

}  // namespace tandem
