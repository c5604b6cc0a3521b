// The embedding API as a host uses it: only <tandem/tandem.h>, two Nodes in
// one process (a master and its mandatory standby), real sockets on
// loopback, no internal headers.
#include <tandem/tandem.h>

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <mutex>
#include <thread>

namespace {

using namespace std::chrono_literals;

// Polls `condition` for up to 30 s: a wait for a state, not a timing claim.
template <typename F>
bool WaitFor(F condition) {
  for (int i = 0; i < 6000; ++i) {
    if (condition()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return condition();
}

// What a host records of its callbacks; they run on Tandem's threads.
struct Recorder {
  std::mutex mu;
  std::vector<tandem::RoleChange> roles;
  std::vector<tandem::AppliedTransaction> applied;
  std::vector<uint32_t> checkpoints;

  void Watch(tandem::NodeOptions* o) {
    o->on_role_change = [this](const tandem::RoleChange& c) {
      std::lock_guard lock(mu);
      roles.push_back(c);
    };
    o->on_applied = [this](const tandem::AppliedTransaction& t) {
      std::lock_guard lock(mu);
      applied.push_back(t);
    };
    o->on_checkpoint = [this](uint32_t journal) {
      std::lock_guard lock(mu);
      checkpoints.push_back(journal);
    };
  }
  std::optional<tandem::Role> last_role() {
    std::lock_guard lock(mu);
    if (roles.empty()) return std::nullopt;
    return roles.back().role;
  }
  // The transactions applied to `table`, as key=value (or key for a delete).
  std::vector<std::string> Rows(const std::string& table) {
    std::lock_guard lock(mu);
    std::vector<std::string> out;
    for (const auto& t : applied) {
      for (const auto& w : t.writes) {
        if (w.table == table)
          out.push_back(w.key + (w.kind == tandem::Write::Kind::kPut ? "=" + w.value : ""));
      }
    }
    return out;
  }
};

class NodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tandem-node-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<tandem::Node> OpenMaster(Recorder* rec) {
    tandem::NodeOptions o;
    o.root = dir_ + "/master";
    o.server_id = "master1";
    rec->Watch(&o);
    auto opened = tandem::Node::Open(std::move(o));
    EXPECT_TRUE(opened.ok()) << opened.outcome.message();
    return std::move(opened.value);
  }
  std::unique_ptr<tandem::Node> OpenStandby(Recorder* rec, const tandem::Node& master) {
    tandem::NodeOptions o;
    o.root = dir_ + "/standby";
    o.server_id = "sb1";
    o.master_address = master.Status().address;
    rec->Watch(&o);
    auto opened = tandem::Node::Open(std::move(o));
    EXPECT_TRUE(opened.ok()) << opened.outcome.message();
    return std::move(opened.value);
  }

  std::string dir_;
};

TEST_F(NodeTest, AMasterCommitsReadsAndTellsTheHostEveryTransactionInJournalOrder) {
  EXPECT_STREQ(tandem::Version(), TANDEM_EXPECTED_VERSION);
  Recorder rec;
  auto master = OpenMaster(&rec);
  ASSERT_TRUE(master);
  ASSERT_TRUE(WaitFor([&] { return rec.last_role() == tandem::Role::kMaster; }));

  tandem::JournalPosition last;
  for (int i = 0; i < 5; ++i) {
    auto pos = master->Commit({tandem::Write::Put("kv", "k" + std::to_string(i), "v")});
    ASSERT_TRUE(pos.ok()) << pos.outcome.message();
    EXPECT_LT(last, pos.value);
    last = pos.value;
  }
  auto del = master->Commit({tandem::Write::Delete("kv", "k0")});
  ASSERT_TRUE(del.ok());
  EXPECT_EQ(master->Get("kv", "k1"), "v");
  EXPECT_EQ(master->Get("kv", "k0"), std::nullopt);
  EXPECT_EQ(master->Scan("kv", "k").size(), 4u);

  // The host saw each transaction once, in order, ending where Commit said.
  EXPECT_EQ(rec.Rows("kv"),
            (std::vector<std::string>{"k0=v", "k1=v", "k2=v", "k3=v", "k4=v", "k0"}));
  {
    std::lock_guard lock(rec.mu);
    EXPECT_EQ(rec.applied.back().end, del.value);
  }
  // The checkpoint hook runs at the point the checkpoint captures: after
  // every transaction before it.
  auto ckp = master->Checkpoint();
  ASSERT_TRUE(ckp.ok()) << ckp.outcome.message();
  {
    std::lock_guard lock(rec.mu);
    EXPECT_EQ(rec.checkpoints, std::vector<uint32_t>{ckp.value});
  }
  tandem::NodeStatus st = master->Status();
  EXPECT_EQ(st.role, tandem::Role::kMaster);
  EXPECT_EQ(st.server_id, "master1");
  EXPECT_TRUE(st.health.ok()) << st.health.message();
  master->Stop();
  EXPECT_EQ(rec.last_role(), tandem::Role::kStopped);
  EXPECT_TRUE(master->Wait().ok());
}

TEST_F(NodeTest, ErrorsAreValuesWithCodes) {
  tandem::NodeOptions bad;
  bad.root = dir_ + "/bad";
  bad.address = "127.0.0.1:notaport";
  auto opened = tandem::Node::Open(bad);
  EXPECT_FALSE(opened.ok());
  EXPECT_EQ(opened.outcome.code(), tandem::ErrorCode::kInvalidArgument) << opened.outcome.message();

  Recorder rec;
  auto master = OpenMaster(&rec);
  ASSERT_TRUE(master);
  // A second node on the same root is refused: the first one holds it.
  tandem::NodeOptions again;
  again.root = dir_ + "/master";
  auto second = tandem::Node::Open(again);
  EXPECT_FALSE(second.ok());
  EXPECT_FALSE(second.outcome.message().empty());

  // A new standby's bad master address leaves nothing behind that would
  // open it as a master next time; nor is an address without an id taken.
  tandem::NodeOptions standby;
  standby.root = dir_ + "/standby";
  standby.master_address = master->Status().address;
  EXPECT_EQ(tandem::Node::Open(standby).outcome.code(), tandem::ErrorCode::kInvalidArgument);
  standby.server_id = "sb1";
  standby.master_address = "no-port";
  EXPECT_EQ(tandem::Node::Open(standby).outcome.code(), tandem::ErrorCode::kInvalidArgument);
  standby.master_address = master->Status().address;
  auto follower = tandem::Node::Open(standby);
  ASSERT_TRUE(follower.ok()) << follower.outcome.message();
  EXPECT_EQ(follower.value->Status().role, tandem::Role::kDownstream);
  follower.value.reset();

  auto preview = master->Failover({});
  EXPECT_EQ(preview.outcome.code(), tandem::ErrorCode::kFailedPrecondition);
  EXPECT_EQ(master->Rejoin("127.0.0.1:1").code(), tandem::ErrorCode::kFailedPrecondition);
  EXPECT_EQ(master->DefineServer({.id = "", .type = "standby"}).code(),
            tandem::ErrorCode::kInvalidArgument);
}

TEST_F(NodeTest, AStandbyFollowsFailsOverWhenTheHostSaysAndTheOldMasterRejoins) {
  Recorder mrec, srec;
  auto master = OpenMaster(&mrec);
  ASSERT_TRUE(master);
  ASSERT_TRUE(master->DefineServer({.id = "sb1", .type = "standby", .mandatory = true}).ok());
  auto standby = OpenStandby(&srec, *master);
  ASSERT_TRUE(standby);
  ASSERT_TRUE(WaitFor([&] { return srec.last_role() == tandem::Role::kDownstream; }));
  ASSERT_TRUE(WaitFor([&] { return standby->Status().health.ok(); }));

  // commit.wait=mandatory: acknowledged only once the standby holds it.
  ASSERT_TRUE(master->Commit({tandem::Write::Put("config", "commit.wait", "mandatory")}).ok());
  auto pos = master->Commit({tandem::Write::Put("kv", "a", "1")});
  ASSERT_TRUE(pos.ok()) << pos.outcome.message();
  ASSERT_TRUE(WaitFor([&] { return standby->Get("kv", "a") == "1"; }));
  EXPECT_GE(standby->Status().durable, pos.value);
  // The standby's host saw the master's transactions, at the same positions.
  EXPECT_EQ(srec.Rows("kv"), std::vector<std::string>{"a=1"});
  {
    std::scoped_lock lock(mrec.mu, srec.mu);
    ASSERT_FALSE(srec.applied.empty());
    EXPECT_EQ(srec.applied.back().end, mrec.applied.back().end);
  }
  auto refused = standby->Commit({tandem::Write::Put("kv", "b", "2")});
  EXPECT_EQ(refused.outcome.code(), tandem::ErrorCode::kFailedPrecondition);

  // The preview checks and says what it would do; nothing changes.
  auto preview = standby->Failover({});
  EXPECT_TRUE(preview.outcome.ok()) << preview.outcome.message();
  EXPECT_FALSE(preview.lines.empty());
  EXPECT_EQ(standby->Status().role, tandem::Role::kDownstream);

  tandem::FailoverRequest request;
  request.execute = true;
  request.require_master = true;
  std::vector<std::string> steps;
  auto result = standby->Failover(request, [&](const tandem::FailoverMessage& line) {
    if (line.kind == "step") steps.push_back(line.text);
  });
  ASSERT_TRUE(result.outcome.ok()) << result.outcome.message();
  EXPECT_EQ(result.epoch, 2u);
  EXPECT_FALSE(steps.empty());
  EXPECT_EQ(standby->Status().role, tandem::Role::kMaster);
  EXPECT_TRUE(WaitFor([&] { return srec.last_role() == tandem::Role::kMaster; }));
  EXPECT_TRUE(WaitFor([&] { return mrec.last_role() == tandem::Role::kFencedMaster; }));

  // The old master refuses, naming the new one; the new one takes writes
  // and kept everything acknowledged.
  std::string new_master = standby->Status().address;
  auto stale = master->Commit({tandem::Write::Put("kv", "c", "3")});
  EXPECT_EQ(stale.outcome.code(), tandem::ErrorCode::kFenced);
  EXPECT_NE(stale.outcome.message().find(new_master), std::string::npos) << stale.outcome.message();
  EXPECT_EQ(standby->Get("kv", "a"), "1");
  auto written = standby->Commit({tandem::Write::Put("kv", "d", "4")});
  ASSERT_TRUE(written.ok()) << written.outcome.message();

  // Failback's first half: the old master becomes the new one's standby,
  // under the name the new master had as one.
  tandem::Outcome rejoined = master->Rejoin(new_master);
  ASSERT_TRUE(rejoined.ok()) << rejoined.message();
  EXPECT_EQ(master->Status().role, tandem::Role::kDownstream);
  EXPECT_TRUE(WaitFor([&] { return mrec.last_role() == tandem::Role::kDownstream; }));
  EXPECT_TRUE(WaitFor([&] { return master->Get("kv", "d") == "4"; }));
}

TEST_F(NodeTest, TheHostReceivesTheLogLines) {
  std::mutex mu;
  std::vector<std::string> lines;
  tandem::SetLogSink([&](tandem::LogSeverity, std::string_view id, std::string_view message) {
    std::lock_guard lock(mu);
    lines.push_back(std::string(id) + ": " + std::string(message));
  });
  {
    Recorder rec;
    auto master = OpenMaster(&rec);
    ASSERT_TRUE(master);
  }
  tandem::SetLogSink(nullptr);
  std::lock_guard lock(mu);
  bool listening = false;
  for (const auto& l : lines) listening |= l.rfind("master1: listening on ", 0) == 0;
  EXPECT_TRUE(listening);
}

}  // namespace
