#include "transport/dispatcher.h"

#include <chrono>

#include "journal/log.h"

namespace tandem {

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Dispatcher::Dispatcher(const Tables* tables, std::string root) : tables_(tables) {
  if (!root.empty()) {
    root_.emplace(std::move(root));
    secured_ = IsMarkedSecured(*root_);
  }
}

bool Dispatcher::Unsecured() const {
  if (secured_.load()) return false;
  if (!HasUsers(*tables_)) return true;
  if (root_) {
    if (Status st = MarkSecured(*root_); !st.ok()) {
      LogError() << "cannot record that this root is secured: " << st.message();
    }
  }
  secured_ = true;
  return false;
}

void Dispatcher::Register(const std::string& name, Command command) {
  commands_[name] = std::move(command);
}

void Dispatcher::Dispatch(const Request& req, bool loopback, const std::string& peer,
                          Reply reply) const {
  if (req.args.empty()) return reply(Response::Error(Status::InvalidArgument("empty command")));
  auto it = commands_.find(req.args[0]);
  if (it == commands_.end()) {
    return reply(Response::Error(
        Status::InvalidArgument("unknown command '" + req.args[0] + "'; try 'tandem help'")));
  }
  const Command& cmd = it->second;
  RequestContext ctx{{req.user, AccessLevel::kSuper}, loopback, peer, !Unsecured()};
  if (ctx.secured && cmd.needs_ticket) {
    auto id = CheckTicket(*tables_, req.user, req.ticket, NowSeconds());
    if (!id.ok()) return reply(Response::Error(id.status()));
    ctx.identity = *id;
    if (!LevelAllows(id->level, cmd.need)) {
      return reply(Response::Error(Status::PermissionDenied(
          "user '" + req.user + "' has " + std::string(AccessLevelName(id->level)) + " access; '" +
          req.args[0] + "' needs " + std::string(AccessLevelName(cmd.need)))));
    }
  }
  std::vector<std::string> args(req.args.begin() + 1, req.args.end());
  if (cmd.blocking && blocking_) {
    blocking_([handler = cmd.handler, ctx, args = std::move(args), reply = std::move(reply)] {
      handler(ctx, args, reply);
    });
  } else {
    cmd.handler(ctx, args, std::move(reply));
  }
}

}  // namespace tandem
