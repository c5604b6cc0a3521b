// Routes requests to command handlers after authenticating them.
//
// A root with no users is *unsecured*: the server accepts only loopback
// connections and treats every request as super. Once a user exists, every
// command except `login` needs a valid ticket, and the user's access level
// must allow the command.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "journal/metrics.h"
#include "journal/table_set.h"
#include "transport/auth.h"
#include "transport/message.h"

namespace tandem {

struct RequestContext {
  Identity identity;
  bool loopback = false;
  std::string peer;
  bool secured = false;  // the identity was checked against a ticket
};

using Reply = std::function<void(Response)>;
// `reply` must be called exactly once, from any thread.
using Handler =
    std::function<void(const RequestContext& ctx, const std::vector<std::string>& args, Reply)>;

struct Command {
  Command() = default;
  Command(AccessLevel need_, bool blocking_, bool needs_ticket_, Handler handler_,
          size_t max_args_ = SIZE_MAX, std::string_view usage_ = {})
      : need(need_),
        blocking(blocking_),
        needs_ticket(needs_ticket_),
        handler(std::move(handler_)),
        max_args(max_args_),
        usage(usage_) {}

  AccessLevel need = AccessLevel::kRead;
  // Slow work (password hashing, checkpoints) runs off the network threads.
  bool blocking = false;
  bool needs_ticket = true;
  Handler handler;
  // More arguments than this are refused before the handler runs, with
  // `usage`: a stray word is a mistake, never silently ignored.
  size_t max_args = SIZE_MAX;
  std::string_view usage;
  // A commit: a connection may send the next request before this one is
  // answered, because the journal writer keeps commits in the order they
  // come (transport/detail/session.h). Anything that reads state must not
  // be: it would overtake the writes sent before it.
  bool pipelined = false;
};

class Dispatcher {
 public:
  using Executor = std::function<void(std::function<void()>)>;

  // `tables` must outlive the dispatcher. With a root, whether the server
  // is secured is also kept there (ROOT/secured, see auth.h).
  explicit Dispatcher(const Tables* tables, std::string root = "");
  // Where blocking commands run; without one they run inline.
  void SetBlockingExecutor(Executor blocking) { blocking_ = std::move(blocking); }

  void Register(const std::string& name, Command command);
  // A table only `owner`'s own commands may write (they commit directly);
  // client writes to it (put, del, txn) are refused. Each module declares
  // its tables where it registers its commands.
  void ReserveTable(std::string table, std::string owner);
  // The owner of a reserved table, if it is one.
  std::optional<std::string> TableOwner(std::string_view table) const;
  // Runs slow work where blocking commands run (for streams that outlive
  // their opening request).
  void RunBlocking(std::function<void()> fn) const { blocking_ ? blocking_(std::move(fn)) : fn(); }
  void Dispatch(Request req, bool loopback, const std::string& peer, Reply reply) const;
  // Whether `req` is a command that may be pipelined (Command::pipelined).
  bool Pipelined(const Request& req) const;
  // Runs a handler; an exception it lets out becomes a kInternal answer.
  static void RunHandler(const std::string& name, const Handler& handler, const RequestContext& ctx,
                         const std::vector<std::string>& args, Reply reply);
  // True while the root has no users and never had: only loopback clients
  // may connect, and they get super access without a ticket.
  bool Unsecured() const;
  // Whether a request with these credentials is from a known user (or the
  // server is unsecured).
  bool Authenticates(std::string_view user, std::string_view ticket) const;

 public:
  // Refused tickets and passwords since start, for /metrics.
  uint64_t auth_failures() const { return auth_failures_.value(); }
  void CountAuthFailure() const { auth_failures_.Add(); }

 private:
  // Wraps the reply of a super-user command so that who asked for what, and
  // how it ended after how long, is in the log.
  static Reply Audited(const std::vector<std::string>& command, const RequestContext& ctx,
                       Reply reply, bool failures_only);
  const Tables* tables_;
  mutable Counter auth_failures_;  // refused tickets and failed logins
  std::optional<RootLayout> root_;
  mutable std::atomic<bool> secured_{false};
  Executor blocking_;
  std::map<std::string, Command, std::less<>> commands_;
  std::map<std::string, std::string, std::less<>> reserved_;  // table -> owner
};

int64_t NowSeconds();  // unix time
int64_t NowMillis();

}  // namespace tandem
