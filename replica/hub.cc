#include "replica/hub.h"

#include <algorithm>
#include <optional>

#include "journal/log.h"
#include "replica/journal_streamer.h"
#include "replica/state_file.h"
#include "transport/dispatcher.h"

namespace tandem {
namespace {

std::string ReleaseFile(const Engine& engine) { return engine.layout().root() + "/staterelease"; }

}  // namespace

ReplicationHub::ReplicationHub(Engine* engine) : engine_(engine) {
  auto persisted = ReadPositionFile(ReleaseFile(*engine));
  {
    MutexLock lock(&mu_);
    release_ = persisted.ok() ? *persisted : Position{};
    persisted_release_ = release_;
    RecomputeLocked(engine_->durable());
  }
  engine_->SetDurableObserver([this](Position durable) { OnDurable(durable); });
  background_ = std::thread([this] { RunBackground(); });
  engine_->SetCommitGate([this](Position pos, std::function<void(const Status&)> fn) {
    WhenReleased(pos, std::move(fn));
  });
}

ReplicationHub::~ReplicationHub() {
  engine_->SetDurableObserver(nullptr);
  engine_->SetCommitGate(nullptr);
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  background_cv_.notify_all();
  background_.join();
  FailWaiting(Stopping());
}

Status ReplicationHub::Stopping() {
  return Status::Unavailable(
      "the server is stopping: the commit is durable here, but no mandatory standby has "
      "confirmed it; its outcome after a failover is unknown");
}

void ReplicationHub::WhenReleased(Position pos, std::function<void(const Status&)> fn) {
  int64_t seconds = SettingNumber(engine_->tables(), engine_->server_id(), kCfgCommitWaitTimeout);
  auto now = std::chrono::steady_clock::now();
  auto deadline = seconds == 0 ? std::chrono::steady_clock::time_point::max()
                               : now + std::chrono::seconds(seconds);
  {
    MutexLock lock(&mu_);
    if (release_ < pos) {
      waiting_.emplace(pos, Waiter{std::move(fn), deadline, now});
      background_cv_.notify_all();
      return;
    }
  }
  fn(Status::Ok());
}

void ReplicationHub::FailWaiting(const Status& why) {
  std::multimap<Position, Waiter> waiting;
  {
    MutexLock lock(&mu_);
    waiting.swap(waiting_);
  }
  for (auto& [pos, w] : waiting) w.fn(why);
}

std::string ReplicationHub::StalledByLocked() const {
  std::string out;
  auto now = NowSeconds();
  for (const auto& [id, d] : downstream_) {
    if (!d.mandatory || release_ < d.flushed) continue;
    out += (out.empty() ? "" : ", ") + ("'" + id + "' ") +
           (d.last_seen > 0 ? "(last heard " + std::to_string(now - d.last_seen) + " s ago)"
                            : "(not heard from since this master started)");
  }
  return out.empty() ? "the mandatory standbys" : "mandatory standby " + out;
}

void ReplicationHub::RunBackground() {
  MutexLock lock(&mu_);
  while (!stopping_) {
    if (persist_due_) {
      persist_due_ = false;
      const Position release = release_;
      lock.unlock();
      Status written = WritePositionFile(ReleaseFile(*engine_), release);
      if (!written.ok()) LogWarning() << "cannot persist release: " << written.message();
      lock.lock();
      if (stopping_) break;
      // On to the deadlines: a slow disk must not hold up their expiry.
    }
    auto now = std::chrono::steady_clock::now();
    auto next = std::chrono::steady_clock::time_point::max();
    std::vector<std::pair<Position, Waiter>> expired;
    for (auto it = waiting_.begin(); it != waiting_.end();) {
      if (it->second.deadline <= now) {
        expired.emplace_back(it->first, std::move(it->second));
        it = waiting_.erase(it);
      } else {
        next = std::min(next, it->second.deadline);
        ++it;
      }
    }
    if (!expired.empty()) {
      std::string who = StalledByLocked();
      lock.unlock();
      for (auto& [pos, w] : expired) {
        w.fn(Status::Unconfirmed("not confirmed within commit.wait.timeout: the commit at " +
                                 pos.Token() + " is durable on this master, but " + who +
                                 " has not flushed it; whether it survives a failover is "
                                 "unknown — do not count it as acknowledged"));
      }
      lock.lock();
      continue;
    }
    if (persist_due_) continue;  // due again while it was being written
    if (next == std::chrono::steady_clock::time_point::max()) {
      background_cv_.wait(lock);
    } else {
      background_cv_.wait_until(lock, next);
    }
  }
}

std::vector<std::function<void(const Status&)>> ReplicationHub::TakeReleasedLocked() {
  std::vector<std::function<void(const Status&)>> out;
  auto end = waiting_.upper_bound(release_);
  for (auto it = waiting_.begin(); it != end; ++it) out.push_back(std::move(it->second.fn));
  waiting_.erase(waiting_.begin(), end);
  return out;
}

Result<std::string> ReplicationHub::JournalPath(uint32_t n) const {
  return MasterJournalPath(*engine_, n);
}

ReplicationHub::Stall ReplicationHub::ReleaseStall() const {
  MutexLock lock(&mu_);
  if (waiting_.empty()) return {};
  // An idle master's release has not moved for an hour; its first commit is
  // not stalled for that long. The oldest waiter bounds it.
  auto oldest = std::chrono::steady_clock::time_point::max();
  for (const auto& [pos, w] : waiting_) oldest = std::min(oldest, w.queued);
  auto since = std::max(release_moved_, oldest);
  return {waiting_.size(),
          std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count()};
}

Position ReplicationHub::release() const {
  MutexLock lock(&mu_);
  return release_;
}

const std::vector<ServerSpec>& ReplicationHub::SpecsLocked() {
  uint64_t checksum = engine_->tables().ChecksumOf(kServerTable);
  if (specs_checksum_ != checksum) {
    specs_ = LoadServerSpecs(engine_->tables());
    specs_checksum_ = checksum;
  }
  return specs_;
}

bool ReplicationHub::RecomputeLocked(Position durable) {
  Position candidate = durable;
  bool any_mandatory = false;
  for (const ServerSpec& spec : SpecsLocked()) {
    auto& d = downstream_[spec.id];
    d.id = spec.id;
    d.type = spec.type;
    d.mandatory = spec.mandatory && spec.is_standby();
    if (!d.mandatory) continue;
    any_mandatory = true;
    // Not heard from since start: hold release where it is.
    Position limit = d.last_seen > 0 ? d.flushed : release_;
    candidate = std::min(candidate, limit);
    if (!d.connected && warned_.insert(spec.id).second) {
      LogWarning() << "mandatory standby '" << spec.id
                   << "' is not connected: replication to replicas and standbys is stalled at "
                   << release_.ToString() << " until it returns";
    }
    if (d.connected) warned_.erase(spec.id);
  }
  if (!any_mandatory) candidate = durable;
  if (candidate <= release_) return false;
  release_ = candidate;
  release_moved_ = std::chrono::steady_clock::now();
  if (release_.journal != persisted_release_.journal ||
      release_.offset >= persisted_release_.offset + (1 << 20)) {
    // Persisting lags a little: a lower release after a crash is always
    // safe. So it is written by the background thread, not by the writer's
    // or an acknowledgement's thread, which this runs on; counted as
    // persisted from here, so that commits meanwhile ask for no more writes
    // until the next megabyte.
    persisted_release_ = release_;
    persist_due_ = true;
    background_cv_.notify_all();
  }
  return true;
}

namespace {

// Microseconds since `pos` became durable, from the recorded history.
std::optional<uint32_t> LagSince(
    const std::deque<std::pair<Position, std::chrono::steady_clock::time_point>>& times,
    Position pos, std::chrono::steady_clock::time_point now) {
  auto it = std::lower_bound(times.begin(), times.end(), pos,
                             [](const auto& entry, Position p) { return entry.first < p; });
  if (it == times.end()) return std::nullopt;
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(now - it->second).count();
  return static_cast<uint32_t>(std::min<int64_t>(us, UINT32_MAX));
}

void AddSample(std::vector<uint32_t>* v, std::optional<uint32_t> us) {
  if (us && v->size() < LagStats::kMaxSamples) v->push_back(*us);
}

}  // namespace

void ReplicationHub::OnDurable(Position durable) {
  std::vector<std::function<void(const Status&)>> released;
  {
    MutexLock lock(&mu_);
    auto now = std::chrono::steady_clock::now();
    durable_times_.emplace_back(durable, now);
    while (durable_times_.size() > 1 &&
           now - durable_times_.front().second > std::chrono::seconds(30)) {
      durable_times_.pop_front();
    }
    if (RecomputeLocked(durable)) released = TakeReleasedLocked();
  }
  for (auto& fn : released) fn(Status::Ok());
  WakeListeners();
}

void ReplicationHub::Recompute() { OnDurable(engine_->durable()); }

void ReplicationHub::Attach(const std::string& id, std::shared_ptr<Listener> listener) {
  // One stream per ServerID: a new one (the server reconnected before its old
  // connection timed out, or another process claims its name) replaces it.
  std::vector<std::shared_ptr<Listener>> replaced;
  {
    MutexLock lock(&mu_);
    auto& d = downstream_[id];
    d.id = id;
    d.connected = true;
    for (auto& w : listeners_[id]) {
      if (auto p = w.lock()) replaced.push_back(std::move(p));
    }
    listeners_[id] = {listener};
  }
  for (auto& old : replaced) {
    LogWarning() << "a new journal stream for '" << id << "' replaces the one already open";
    old->Close("replaced by a newer stream for '" + id + "'");
  }
  LogInfo() << "downstream server '" << id << "' connected";
  Recompute();
}

void ReplicationHub::Detach(const std::string& id, const Listener* listener) {
  MutexLock lock(&mu_);
  auto& list = listeners_[id];
  size_t before = list.size();
  std::erase_if(list, [&](const std::weak_ptr<Listener>& w) {
    auto p = w.lock();
    return !p || p.get() == listener;
  });
  if (list.empty() && list.size() < before) {
    downstream_[id].connected = false;
    LogInfo() << "downstream server '" << id << "' disconnected";
  }
}

void ReplicationHub::OnAck(const std::string& id, const JournalAck& ack) {
  bool moved;
  std::vector<std::function<void(const Status&)>> released;
  {
    MutexLock lock(&mu_);
    auto& d = downstream_[id];
    auto now = std::chrono::steady_clock::now();
    if (d.flushed < ack.flushed)
      AddSample(&d.lag.flushed_us, LagSince(durable_times_, ack.flushed, now));
    if (d.applied < ack.applied)
      AddSample(&d.lag.applied_us, LagSince(durable_times_, ack.applied, now));
    d.written = std::max(d.written, ack.written);
    d.flushed = std::max(d.flushed, ack.flushed);
    d.applied = std::max(d.applied, ack.applied);
    d.last_seen = NowSeconds();
    d.backlog_files = ack.backlog_files;
    d.backlog_bytes = ack.backlog_bytes;
    moved = RecomputeLocked(engine_->durable());
    if (moved) released = TakeReleasedLocked();
  }
  for (auto& fn : released) fn(Status::Ok());
  if (moved) WakeListeners();
}

void ReplicationHub::CloseStreams(const std::string& reason) {
  std::vector<std::shared_ptr<Listener>> live;
  {
    MutexLock lock(&mu_);
    for (auto& [id, list] : listeners_) {
      for (auto& w : list) {
        if (auto p = w.lock()) live.push_back(std::move(p));
      }
    }
  }
  for (auto& l : live) l->Close(reason);
}

void ReplicationHub::LearnAddress(const std::string& id, const std::string& address) {
  auto spec = LoadServerSpec(engine_->tables(), id);
  if (!spec || !spec->address.empty()) return;  // the operator's word stands
  spec->address = address;
  engine_->CommitAsync(
      {{ServerSpecOp(*spec)}},
      [id, address](const Status& st, Position) {
        if (st.ok()) {
          LogInfo() << "spec of '" << id << "': Address " << address << " (as it says)";
        } else {
          LogWarning() << "cannot record the address of '" << id << "': " << st.message();
        }
      },
      Engine::Wait::kLocal);
}

Status ReplicationHub::Serving() const {
  if (auto fence = engine_->fence()) {
    return Status::Fenced(
        "this server (" + engine_->server_id() + ") is fenced: " + fence->fence +
        (fence->new_master.empty() ? "" : "; the master is now at " + fence->new_master));
  }
  return Status::Ok();
}

void ReplicationHub::WakeListeners() {
  std::vector<std::shared_ptr<Listener>> live;
  {
    MutexLock lock(&mu_);
    for (auto& [id, list] : listeners_) {
      for (auto& w : list) {
        if (auto p = w.lock()) live.push_back(std::move(p));
      }
    }
  }
  for (auto& l : live) l->OnPositions();
}

std::vector<DownstreamStatus> ReplicationHub::Downstream() const {
  MutexLock lock(&mu_);
  std::vector<DownstreamStatus> out;
  for (const auto& [id, d] : downstream_) out.push_back(d);
  return out;
}

std::vector<std::string> ReplicationHub::StalledBy() const {
  MutexLock lock(&mu_);
  std::vector<std::string> out;
  for (const auto& [id, d] : downstream_) {
    if (d.mandatory && !d.connected) out.push_back(id);
  }
  return out;
}

}  // namespace tandem
