#include "replica/downstream_node.h"

#include <unistd.h>

#include "journal/file.h"
#include "journal/log.h"
#include "replica/downstream_recovery.h"
#include "replica/local_config.h"
#include "replica/status_rows.h"
#include "transport/engine_commands.h"

namespace tandem {

Result<std::unique_ptr<DownstreamNode>> DownstreamNode::Open(const std::string& root) {
  RootLayout layout(root);
  TANDEM_ASSIGN_OR_RETURN(int fd, LockRoot(layout));
  std::unique_ptr<DownstreamNode> node(new DownstreamNode(layout, fd));
  auto id = ReadFileToString(layout.server_id_file());
  if (!id.ok() || id->empty()) {
    return Status::FailedPrecondition("a standby or replica needs a ServerID: run 'tandemd -r " +
                                      root + " --id NAME'");
  }
  node->server_id_ = id->substr(0, id->find('\n'));
  auto local = ReadLocalConfig(layout);
  TANDEM_ASSIGN_OR_RETURN(node->target_, Address::Parse(local["target"]));
  TANDEM_RETURN_IF_ERROR(layout.EnsureDirs());
  TANDEM_RETURN_IF_ERROR(CreateDirs(layout.rep_dir()));

  TANDEM_ASSIGN_OR_RETURN(DownstreamState state, RecoverDownstream(layout));
  LogInfo() << "downstream " << node->server_id_ << ": journalcopy at " << state.flushed.ToString()
            << ", applied at " << state.applied.ToString();
  node->tables_.Reset(std::move(state.tables));
  node->applier_ = std::make_unique<PullApplier>(layout, &node->tables_, state.applied);

  UpstreamOptions up;
  up.target = node->target_;
  up.server_id = node->server_id_;
  up.user = local["service.user"];
  up.password = local["service.password"];
  up.client.trust_file = root + "/trust";
  up.client.trust_new = true;  // first contact pins the upstream's key
  up.fsync = local["journalcopy.fsync"] != "off";
  PullApplier* applier = node->applier_.get();
  node->copier_ = std::make_unique<JournalCopier>(
      layout, up, state.flushed,
      [applier](const CopierStatus& st) { applier->SetLimit(st.flushed, st.release); },
      [applier] { return applier->applied(); });
  return node;
}

DownstreamNode::~DownstreamNode() {
  Stop();
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

void DownstreamNode::Start() {
  applier_->Start();
  copier_->Start();
}

void DownstreamNode::Stop() {
  if (copier_) copier_->Stop();
  if (applier_) applier_->Stop();
}

void DownstreamNode::RegisterCommands(Dispatcher* d, std::function<std::string()> address,
                                      std::function<void()> stop) {
  RegisterReadCommands(&tables_, server_id_, d);
  auto refuse = [this](const RequestContext&, const std::vector<std::string>&, Reply reply) {
    CopierStatus up = copier_->status();
    reply(Response::Error(Status::FailedPrecondition(
        "this server (" + server_id_ + ") is a " +
        (up.role.empty() ? "downstream server" : up.role) + " replicating from " +
        target_.ToString() + "; send writes to the master there")));
  };
  for (const char* cmd :
       {"put", "del", "txn", "configure", "user-add", "journaldbchecksums-write"}) {
    d->Register(cmd, {AccessLevel::kRead, false, true, refuse});
  }
  d->Register("info", {AccessLevel::kRead, false, true,
                       [this, address](const RequestContext& ctx, const auto&, Reply reply) {
                         CopierStatus up = copier_->status();
                         Position applied = applier_->applied();
                         reply(Response::Rows(
                             {{{"serverID", server_id_},
                               {"role", up.role.empty() ? "downstream" : up.role},
                               {"address", address()},
                               {"root", layout_.root()},
                               {"epoch", std::to_string(up.epoch.value)},
                               {"journal", std::to_string(applied.journal)},
                               {"sequence", std::to_string(applied.offset)},
                               {"target", target_.ToString()},
                               {"user", ctx.identity.user},
                               {"access", std::string(AccessLevelName(ctx.identity.level))}}}));
                       }});
  d->Register(
      "pull",
      {AccessLevel::kRead, false, true,
       [this](const RequestContext&, const auto& args, Reply reply) {
         if (args.empty() || args[0] != "-lj") {
           return reply(Response::Error(Status::InvalidArgument("usage: pull -lj")));
         }
         reply(Response::Rows({PullStatusRow(server_id_, copier_->status(), applier_->applied())}));
       }});
  d->Register(
      "journaldbchecksums",
      {AccessLevel::kRead, false, true,
       [this](const RequestContext&, const auto& args, Reply reply) {
         if (args.empty() || args[0] != "-s") {
           return reply(Response::Error(Status::FailedPrecondition(
               "journaldbchecksums runs on the master; here use 'journaldbchecksums -s' for the "
               "verdicts of the last checksum marker applied")));
         }
         reply(Response::Rows(ChecksumRows(applier_->last_checksums())));
       }});
  d->Register(
      "admin",
      {AccessLevel::kSuper, false, true,
       [stop](const RequestContext&, const auto& args, Reply reply) {
         if (args.empty() || args[0] != "stop") {
           return reply(Response::Error(Status::FailedPrecondition(
               "only 'admin stop' runs on a standby or replica; checkpoints and rotation are the "
               "master's")));
         }
         Response resp = Response::Rows({{{"stopping", "yes"}}});
         resp.after_send = stop;
         reply(std::move(resp));
       }});
}

}  // namespace tandem
