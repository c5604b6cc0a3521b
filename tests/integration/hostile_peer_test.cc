// What an authenticated but hostile peer can do to a secured cluster, and
// what a failed reseed leaves behind: streams are bound to their spec's
// service user, acknowledgements cannot claim what was not written, the
// failover-master calls are the spec'd standby's alone, a reseed that
// cannot reach its master changes nothing, and the root's files are private.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "replica/stream_messages.h"
#include "tests/integration/cluster.h"
#include "tests/testing/journal_files.h"

namespace tandem::testing {
namespace {

class HostilePeerTest : public ClusterTest {
 protected:
  void SetUp() override {
    master_root_ = dir_.Sub("master");
    ASSERT_EQ(RunTandemd({"-r", master_root_, "--id", "master1"}).exit_code, 0);
    AddUser(master_root_, "admin", "super", "pw");
    AddUser(master_root_, "svc", "service", "svcpw");
    AddUser(master_root_, "evil", "service", "evilpw");
    master_ = TandemdProcess::Start(master_root_);
    ASSERT_TRUE(master_);
    admin_.env = {{"TANDEM_TICKETS", dir_.Sub("tickets")}, {"TANDEM_PASSWORD", "pw"}};
    ASSERT_EQ(RunTandem({"-p", master_->address(), "-u", "admin", "login"}, admin_).exit_code, 0);
    admin_.stdin_data =
        "ServerID: sb1\nServices: standby\nOptions: mandatory\nReplicatingFrom: master1\n"
        "User: svc\n";
    ASSERT_EQ(
        RunTandem({"-p", master_->address(), "-u", "admin", "server", "-i"}, admin_).exit_code, 0);
    admin_.stdin_data.clear();
  }

  // A connection logged in as `user`.
  struct Session {
    std::unique_ptr<Client> client;
    std::string user, ticket;
    Result<Response> Call(std::vector<std::string> args) {
      return client->Call({user, ticket, std::move(args)}, std::chrono::milliseconds(10000));
    }
  };
  Session As(const TandemdProcess& p, const std::string& user, const std::string& password) {
    Session s{p.Connect(), user, ""};
    EXPECT_TRUE(s.client);
    auto r = s.client->Call({user, "", {"login", password}});
    EXPECT_TRUE(r.ok() && r->status.ok()) << (r.ok() ? r->status.ToString() : "no answer");
    if (r.ok() && !r->rows.empty()) s.ticket = std::string(FieldOf(r->rows[0], "ticket"));
    return s;
  }

  // Opens sb1's stream on `s` and reads its first frame: *end is where it ends.
  static void OpenStream(Session& s, Position* end) {
    ASSERT_TRUE(s.Call({"journal-stream", "sb1", "1/0", "-"})->status.ok());
    auto frame = s.client->ReadFrame();
    ASSERT_TRUE(frame.ok());
    auto data = DecodeJournalData(frame->second);
    ASSERT_TRUE(data.ok());
    *end = {data->at.journal, data->at.offset + data->bytes.size()};
  }

  std::unique_ptr<TandemdProcess> StartStandby() {
    std::string root = dir_.Sub("sb1");
    EXPECT_EQ(RunTandemd({"-r", root, "--id", "sb1"}).exit_code, 0);
    for (std::string kv : {"target=" + master_->address(), std::string("service.user=svc"),
                           std::string("service.password=svcpw")}) {
      EXPECT_EQ(RunTandemd({"-r", root, "-cset", kv}).exit_code, 0);
    }
    return TandemdProcess::Start(root);
  }

  std::unique_ptr<TandemdProcess> master_;
  SpawnOptions admin_;
};

TEST_F(HostilePeerTest, AJournalStreamIsBoundToTheServiceUserItsSpecNames) {
  auto evil = As(*master_, "evil", "evilpw");
  auto refused = evil.Call({"journal-stream", "sb1", "1/0", "-"});
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->status.code(), Code::kPermissionDenied);
  EXPECT_NE(refused->status.message().find("may not replicate as 'sb1'"), std::string::npos)
      << refused->status.message();
  auto svc = As(*master_, "svc", "svcpw");
  auto opened = svc.Call({"journal-stream", "sb1", "1/0", "-"});
  ASSERT_TRUE(opened.ok());
  EXPECT_TRUE(opened->status.ok()) << opened->status.ToString();
}

TEST_F(HostilePeerTest, AServerHoldingANewerEpochGetsNoStreamFromAnOlderMaster) {
  auto svc = As(*master_, "svc", "svcpw");
  auto refused = svc.Call({"journal-stream", "sb1", "1/0", "-", "5", "1/0"});
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->status.code(), Code::kFenced) << refused->status.ToString();
  EXPECT_NE(refused->status.message().find("holds epoch 5, newer than this master's 1"),
            std::string::npos)
      << refused->status.message();
}

TEST_F(HostilePeerTest, ASecondStreamForAServerIdReplacesTheFirst) {
  auto first = As(*master_, "svc", "svcpw");
  ASSERT_TRUE(first.Call({"journal-stream", "sb1", "1/0", "-"})->status.ok());
  auto second = As(*master_, "svc", "svcpw");
  ASSERT_TRUE(second.Call({"journal-stream", "sb1", "1/0", "-"})->status.ok());
  // The first connection is closed; whatever it had in flight is dropped.
  EXPECT_TRUE(WaitFor([&] {
    auto frame = first.client->ReadFrame();
    return !frame.ok();
  }));
  EXPECT_NE(master_->Log().find("replaces the one already open"), std::string::npos);
}

TEST_F(HostilePeerTest, AnAcknowledgementBeyondWhatWasWrittenIsRefused) {
  auto svc = As(*master_, "svc", "svcpw");
  Position end;
  ASSERT_NO_FATAL_FAILURE(OpenStream(svc, &end));
  // Claims to have applied (and flushed) far more than it says it wrote.
  JournalAck ack{Position{end.journal, end.offset + 1000},
                 Position{end.journal, end.offset + 1000},
                 1,
                 0,
                 0,
                 end};
  ASSERT_TRUE(svc.client->SendFrame(MessageType::kJournalAck, EncodeJournalAck(ack)).ok());
  EXPECT_TRUE(svc.client->PeerClosed());
  auto rows = As(*master_, "admin", "pw").Call({"servers", "-J"});
  ASSERT_TRUE(rows.ok());
  for (const Row& r : rows->rows) {
    if (FieldOf(r, "serverID") == "sb1") {
      EXPECT_NE(FieldOf(r, "journalcopy"), ack.flushed.Token()) << "the false claim was counted";
    }
  }
}

TEST_F(HostilePeerTest, AnAcknowledgementOfTwoBillionFramesIsRefused) {
  auto svc = As(*master_, "svc", "svcpw");
  Position end;
  ASSERT_NO_FATAL_FAILURE(OpenStream(svc, &end));
  JournalAck ack{end, end, 0x80000000u, 0, 0, end};  // negative as an int
  ASSERT_TRUE(svc.client->SendFrame(MessageType::kJournalAck, EncodeJournalAck(ack)).ok());
  EXPECT_TRUE(svc.client->PeerClosed());
  EXPECT_NE(master_->Log().find("acknowledged frames that were never sent"), std::string::npos)
      << master_->Log();
}

TEST_F(HostilePeerTest, OnlyTheSpecdStandbyMayPauseAndNobodyFencesAMasterOnTheirWordAlone) {
  auto evil = As(*master_, "evil", "evilpw");
  auto paused = evil.Call({"failover-master", "pause", "sb1", "0", "1000", "owned"});
  ASSERT_TRUE(paused.ok());
  EXPECT_EQ(paused->status.code(), Code::kPermissionDenied) << paused->status.ToString();
  // Nor resume, stop or ignore it: each names a standby its caller is not.
  for (std::vector<std::string> args :
       {std::vector<std::string>{"failover-master", "resume", "sb1"},
        {"failover-master", "stop", "sb1", "1/0", "127.0.0.1:1"},
        {"failover-master", "ignore", "sb1", "127.0.0.1:1"}}) {
    auto refused = evil.Call(args);
    ASSERT_TRUE(refused.ok());
    EXPECT_EQ(refused->status.code(), Code::kPermissionDenied) << args[1];
  }
  auto svc = As(*master_, "svc", "svcpw");
  auto none = svc.Call({"failover-master", "pause", "sb1", "0", "0", "a lease that ends at once"});
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->status.code(), Code::kInvalidArgument) << none->status.ToString();
  auto forever = svc.Call({"failover-master", "pause", "sb1", "0", "999999999999", "31 years"});
  ASSERT_TRUE(forever.ok());
  EXPECT_EQ(forever->status.code(), Code::kInvalidArgument) << forever->status.ToString();
  // `newer` only from a server of ours, as its User: — and even then only
  // believed once the master has reached the newer master itself.
  auto claimed = evil.Call({"failover-master", "newer", "99", "sb1", "127.0.0.1:1"});
  ASSERT_TRUE(claimed.ok());
  EXPECT_EQ(claimed->status.code(), Code::kPermissionDenied) << claimed->status.ToString();
  auto unverified = svc.Call({"failover-master", "newer", "99", "sb1", "127.0.0.1:1"});
  ASSERT_TRUE(unverified.ok());
  EXPECT_EQ(unverified->status.code(), Code::kFailedPrecondition) << unverified->status.ToString();
  auto admin = As(*master_, "admin", "pw");
  EXPECT_EQ(FieldOf(admin.Call({"info"})->rows[0], "role"), "standard");
  EXPECT_TRUE(admin.Call({"put", "kv", "still", "writable"})->status.ok());
}

TEST_F(HostilePeerTest, AReseedThatCannotReachTheMasterChangesNothingAndTheStandbyStaysSecured) {
  auto admin = As(*master_, "admin", "pw");
  ASSERT_TRUE(admin.Call({"put", "kv", "k1", "v1"})->status.ok());
  auto standby = StartStandby();
  ASSERT_TRUE(standby);
  ASSERT_TRUE(WaitFor([&] {  // users and data replicated
    auto c = standby->Connect();
    auto login = c ? c->Call({"admin", "", {"login", "pw"}}) : Status::Unavailable("no");
    if (!login.ok() || !login->status.ok()) return false;
    std::string ticket(FieldOf(login->rows.at(0), "ticket"));
    auto r = c->Call({"admin", ticket, {"get", "kv", "k1"}});
    return r.ok() && r->status.ok();
  }));
  EXPECT_EQ(master_->Terminate(), 0);

  auto sadmin = As(*standby, "admin", "pw");
  auto reseed = sadmin.Call({"admin", "reseed", "-y"});
  ASSERT_TRUE(reseed.ok());
  EXPECT_FALSE(reseed->status.ok());
  EXPECT_NE(reseed->status.message().find("nothing here was changed"), std::string::npos)
      << reseed->status.message();
  auto kept = sadmin.Call({"get", "kv", "k1"});
  ASSERT_TRUE(kept.ok());
  EXPECT_TRUE(kept->status.ok()) << kept->status.ToString();
  // No ticket, no access, however empty the tables might ever be.
  auto anonymous = standby->Connect()->Call({"", "", {"info"}});
  ASSERT_TRUE(anonymous.ok());
  EXPECT_EQ(anonymous->status.code(), Code::kUnauthenticated) << anonymous->status.ToString();
}

TEST_F(HostilePeerTest, AStandbyWithServiceCredentialsIsSecuredBeforeItHoldsASingleUser) {
  // Its master unreachable from the first start: its tables hold no user, so
  // only the root's own record (ROOT/secured) can say it is secured.
  std::string root = dir_.Sub("lonely");
  ASSERT_EQ(RunTandemd({"-r", root, "--id", "sb9"}).exit_code, 0);
  for (std::string kv : {std::string("target=127.0.0.1:1"), std::string("service.user=svc"),
                         std::string("service.password=svcpw")}) {
    ASSERT_EQ(RunTandemd({"-r", root, "-cset", kv}).exit_code, 0);
  }
  auto standby = TandemdProcess::Start(root);
  ASSERT_TRUE(standby);
  EXPECT_TRUE(std::filesystem::exists(root + "/secured"));
  for (std::vector<std::string> args :
       {std::vector<std::string>{"info"}, {"scan", "kv"}, {"admin", "stop"}}) {
    auto anonymous = standby->Connect()->Call({"", "", args});
    ASSERT_TRUE(anonymous.ok());
    EXPECT_EQ(anonymous->status.code(), Code::kUnauthenticated) << args[0];
  }
  EXPECT_FALSE(standby->Exited());
}

TEST_F(HostilePeerTest, TheFilesOfARootAreTheServersAlone) {
  auto admin = As(*master_, "admin", "pw");
  ASSERT_TRUE(admin.Call({"put", "kv", "k", "v"})->status.ok());
  ASSERT_TRUE(admin.Call({"admin", "checkpoint"})->status.ok());
  for (const std::string rel :
       {"", "/journal", "/server.id", "/journals", "/checkpoints", "/checkpoints/ckp.2.gz",
        "/checkpoints/ckp.2.gz.md5", "/journals/journal.1", "/logs"}) {
    struct stat st;
    ASSERT_EQ(::stat((master_root_ + rel).c_str(), &st), 0) << rel;
    EXPECT_EQ(st.st_mode & 077, 0u) << master_root_ + rel << " is readable by others";
  }
  // A standby's copy holds the same secrets.
  auto standby = StartStandby();
  ASSERT_TRUE(standby);
  const std::string sb = dir_.Sub("sb1");
  auto copied = [&] {  // seeded from the checkpoint and journalcopying
    std::error_code ec;
    auto it = std::filesystem::directory_iterator(sb + "/journals.rep", ec);
    return !ec && it != std::filesystem::directory_iterator();
  };
  ASSERT_TRUE(WaitFor(copied));
  EXPECT_EQ(standby->Terminate(), 0);  // nothing renamed under the listing
  for (const auto& entry : std::filesystem::recursive_directory_iterator(sb)) {
    struct stat st;
    ASSERT_EQ(::stat(entry.path().c_str(), &st), 0) << entry.path();
    EXPECT_EQ(st.st_mode & 077, 0u) << entry.path() << " is readable by others";
  }
}

}  // namespace
}  // namespace tandem::testing
