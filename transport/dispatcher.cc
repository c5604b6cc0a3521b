#include "transport/dispatcher.h"

#include <chrono>

#include "journal/log.h"
#include "transport/auth.h"

namespace tandem {

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
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

bool Dispatcher::Authenticates(std::string_view user, std::string_view ticket) const {
  return Unsecured() || CheckTicket(*tables_, user, ticket, NowSeconds()).ok();
}

void Dispatcher::Register(const std::string& name, Command command) {
  commands_[name] = std::move(command);
}

void Dispatcher::ReserveTable(std::string table, std::string owner) {
  reserved_[std::move(table)] = std::move(owner);
}

std::optional<std::string> Dispatcher::TableOwner(std::string_view table) const {
  auto it = reserved_.find(table);
  if (it == reserved_.end()) return std::nullopt;
  return it->second;
}

void Dispatcher::Dispatch(Request req, bool loopback, const std::string& peer, Reply reply) const {
  if (req.args.empty()) return reply(Response::Error(Status::InvalidArgument("empty command")));
  auto it = commands_.find(req.args[0]);
  if (it == commands_.end()) {
    return reply(Response::Error(
        Status::InvalidArgument("unknown command '" + req.args[0] + "'; try 'tandem help'")));
  }
  const Command& cmd = it->second;
  // Member by member: GCC 12 at -O3 takes the nested aggregate for
  // uninitialised (-Wmaybe-uninitialized).
  RequestContext ctx;
  ctx.identity.user = req.user;
  ctx.identity.level = AccessLevel::kSuper;
  ctx.loopback = loopback;
  ctx.peer = peer;
  ctx.secured = !Unsecured();
  if (cmd.need == AccessLevel::kSuper) {
    // Refused attempts too (a bad ticket, too little access). configure
    // writes its own lines for what it changed, so only its failures here.
    reply = Audited(req.args, ctx, std::move(reply), /*failures_only=*/req.args[0] == "configure");
  }
  if (ctx.secured && cmd.needs_ticket) {
    auto id = CheckTicket(*tables_, req.user, req.ticket, NowSeconds());
    if (!id.ok()) {
      CountAuthFailure();
      return reply(Response::Error(id.status()));
    }
    ctx.identity = *id;
    if (!LevelAllows(id->level, cmd.need)) {
      return reply(Response::Error(Status::PermissionDenied(
          "user '" + req.user + "' has " + std::string(AccessLevelName(id->level)) + " access; '" +
          req.args[0] + "' needs " + std::string(AccessLevelName(cmd.need)))));
    }
  }
  std::string name = std::move(req.args[0]);  // the rest move on as the arguments
  std::vector<std::string> args = std::move(req.args);
  args.erase(args.begin());
  if (args.size() > cmd.max_args) {
    return reply(Response::Error(
        Status::InvalidArgument("usage: " + std::string(cmd.usage) + " ('" +
                                Escaped(std::string_view(args[cmd.max_args]).substr(0, 64)) +
                                "' is one argument too many)")));
  }
  if (cmd.blocking && blocking_) {
    blocking_([handler = cmd.handler, ctx, args = std::move(args), reply = std::move(reply),
               name = std::move(name)] { RunHandler(name, handler, ctx, args, reply); });
  } else {
    RunHandler(name, cmd.handler, ctx, args, std::move(reply));
  }
}

bool Dispatcher::Pipelined(const Request& req) const {
  if (req.args.empty()) return false;
  auto it = commands_.find(req.args[0]);
  return it != commands_.end() && it->second.pipelined;
}

Reply Dispatcher::Audited(const std::vector<std::string>& command, const RequestContext& ctx,
                          Reply reply, bool failures_only) {
  // Who asked for what, from where: the arguments escaped, a password never.
  // user-add's password is its last argument (the client appends it), but a
  // mistyped command may put it anywhere: past the name only "--level" and a
  // level name are shown, and never the last argument.
  auto secret = [&](size_t i) {
    if (command[0] != "user-add" || i <= 1) return false;
    if (i + 1 == command.size()) return true;
    return command[i] != "--level" && !ParseAccessLevel(command[i]).has_value();
  };
  std::string what;
  for (size_t i = 0; i < command.size(); ++i) {
    what += (i ? " " : "") +
            (secret(i) ? std::string("(password)") : Escaped(command[i].substr(0, 200)));
  }
  std::string who = "'" + Escaped(ctx.identity.user) + "' from " + ctx.peer;
  if (!failures_only) LogInfo() << "audit: " << who << ": " << what;
  auto start = std::chrono::steady_clock::now();
  return [what, who, start, failures_only, reply = std::move(reply)](Response resp) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::steady_clock::now() - start)
                  .count();
    if (resp.status.ok()) {
      if (failures_only) return reply(std::move(resp));
      LogInfo() << "audit: " << who << ": " << what << ": ok (" << ms << " ms)";
    } else {
      LogWarning() << "audit: " << who << ": " << what << ": " << CodeName(resp.status.code())
                   << ": " << resp.status.message() << " (" << ms << " ms)";
    }
    reply(std::move(resp));
  };
}

void Dispatcher::RunHandler(const std::string& name, const Handler& handler,
                            const RequestContext& ctx, const std::vector<std::string>& args,
                            Reply reply) {
  // Handlers answer with values, never exceptions; one that throws anyway is
  // a bug, and it costs its own request only.
  // One allocation: the reply beside its flag, and a std::function small
  // enough to hold the pointer to them without another.
  struct Once {
    std::atomic<bool> answered{false};
    Reply reply;
  };
  auto state = std::make_shared<Once>();
  state->reply = std::move(reply);
  Reply once = [state](Response resp) {
    if (!state->answered.exchange(true)) state->reply(std::move(resp));
  };
  auto fail = [&](const std::string& what) {
    LogError() << "command '" << name << "' from " << ctx.peer << " failed: " << what;
    once(Response::Error(Status::Internal("'" + name + "' failed inside the server (" + what +
                                          "); the server logged it and keeps serving")));
  };
  try {
    handler(ctx, args, once);
  } catch (const std::exception& e) {
    fail(e.what());
  } catch (...) {
    fail("an unknown exception");
  }
}

}  // namespace tandem
