#include "transport/engine_commands.h"

#include <chrono>

#include <sstream>

#include "journal/log.h"
#include "journal/numbers.h"
#include "transport/archive_commands.h"
#include "transport/configure_command.h"

namespace tandem {
namespace {

std::string MillisSince(std::chrono::steady_clock::time_point start) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now() - start)
                            .count());
}

constexpr size_t kDefaultScanLimit = 100000;
constexpr size_t kScanPageBytes = 16u << 20;

Response Ok(Row row = {}) {
  return Response::Rows(row.empty() ? std::vector<Row>{} : std::vector<Row>{std::move(row)});
}

Row PositionRow(Position pos) {
  return {{"journal", std::to_string(pos.journal)}, {"sequence", std::to_string(pos.offset)}};
}

// put, del and txn: pipelined (Command::pipelined).
Command Commit(Command command) {
  command.pipelined = true;
  return command;
}

Status Usage(const std::string& usage) { return Status::InvalidArgument("usage: " + usage); }

Status CheckWritable(const Dispatcher& d, std::string_view table) {
  if (table.empty()) return Status::InvalidArgument("empty table name");
  if (auto owner = d.TableOwner(table)) {
    return Status::PermissionDenied("table '" + std::string(table) + "' belongs to " + *owner +
                                    "; use the command that manages it");
  }
  return Status::Ok();
}

Status CheckReadable(std::string_view table) {
  if (table == kUserTable || table == kAuthTable) {
    return Status::PermissionDenied("table '" + std::string(table) + "' is not readable");
  }
  return Status::Ok();
}

std::vector<std::string> SplitWords(std::string_view line, size_t max_words) {
  std::vector<std::string> words;
  size_t i = 0;
  while (i < line.size() && words.size() + 1 < max_words) {
    while (i < line.size() && line[i] == ' ') ++i;
    size_t j = line.find(' ', i);
    if (j == std::string_view::npos) j = line.size();
    if (j > i) words.emplace_back(line.substr(i, j - i));
    i = j;
  }
  while (i < line.size() && line[i] == ' ') ++i;
  if (i < line.size()) words.emplace_back(line.substr(i));  // the rest, spaces and all
  return words;
}

}  // namespace

void CommitAndReply(Engine* engine, Transaction txn, Reply reply) {
  auto start = std::chrono::steady_clock::now();
  engine->CommitAsync(std::move(txn),
                      [engine, start, reply = std::move(reply)](const Status& st, Position pos) {
                        if (st.ok()) engine->commit_seconds().ObserveSince(start);
                        reply(st.ok() ? Ok(PositionRow(pos)) : Response::Error(st));
                      });
}

Result<Op> ParseOpLine(std::string_view line) {
  auto words = SplitWords(line, 4);
  if (words.size() == 4 && words[0] == "put") return Op::Put(words[1], words[2], words[3]);
  if (words.size() == 3 && words[0] == "del") return Op::Delete(words[1], words[2]);
  return Status::InvalidArgument("bad txn line '" + std::string(line) +
                                 "': expected 'put TABLE KEY VALUE' or 'del TABLE KEY'");
}

void RegisterReadCommands(const Tables* tables, std::string server_id, Dispatcher* d) {
  auto throttle = std::make_shared<LoginThrottle>();
  d->Register(
      "login",
      {AccessLevel::kNone, /*blocking=*/true, /*needs_ticket=*/false,
       [tables, server_id, throttle, d](const RequestContext& ctx, const auto& args, Reply reply) {
         if (args.size() != 1) return reply(Response::Error(Usage("login (password on stdin)")));
         if (!HasUsers(*tables)) {
           return reply(Response::Error(
               ctx.secured ? Status::Unavailable("this server is secured but has not replicated "
                                                 "its users yet; log in once it has caught up")
                           : Status::FailedPrecondition(
                                 "this server has no users; no login is needed (loopback only)")));
         }
         // Per user and address: a stranger's guesses must not lock out a
         // service user logging in from its standby.
         std::string who = ctx.identity.user + "@" + ctx.peer.substr(0, ctx.peer.rfind(':'));
         auto now = LoginThrottle::Clock::now();
         if (Status wait = throttle->Check(who, now); !wait.ok()) {
           return reply(Response::Error(wait));
         }
         auto id = CheckPassword(*tables, ctx.identity.user, args[0]);
         if (!id.ok()) {
           throttle->Failed(who, now);
           d->CountAuthFailure();
           LogWarning() << "failed login for '" << ctx.identity.user << "' from " << ctx.peer;
           return reply(Response::Error(id.status()));
         }
         throttle->Succeeded(who);
         // A bad stored value must not lock everyone out: the default stands in.
         int64_t lifetime = SettingNumber(*tables, server_id, kCfgTicketTimeout);
         auto ticket = IssueTicket(*tables, id->user, NowSeconds(), lifetime);
         if (!ticket.ok()) return reply(Response::Error(ticket.status()));
         reply(Ok({{"user", id->user},
                   {"ticket", *ticket},
                   {"level", std::string(AccessLevelName(id->level))},
                   {"expires_in", std::to_string(lifetime)}}));
       }});

  d->Register("get", {AccessLevel::kRead, false, true,
                      [tables](const RequestContext&, const auto& args, Reply reply) {
                        if (args.size() != 2) return reply(Response::Error(Usage("get TABLE KEY")));
                        if (Status st = CheckReadable(args[0]); !st.ok())
                          return reply(Response::Error(st));
                        auto value = tables->Get(args[0], args[1]);
                        if (!value) {
                          return reply(Response::Error(Status::NotFound(
                              "no key '" + args[1] + "' in table '" + args[0] + "'")));
                        }
                        reply(Ok({{"key", args[1]}, {"value", *value}}));
                      }});

  // scan TABLE [PREFIX] [-a AFTER]: a page of rows. A page ends at
  // kDefaultScanLimit rows or kScanPageBytes, far below the frame limit; when
  // more rows follow, a last row {"next": KEY} says where the next page
  // starts (-a KEY). `tandem scan` follows the pages.
  d->Register("scan", {AccessLevel::kRead, false, true,
                       [tables](const RequestContext&, const auto& args, Reply reply) {
                         std::vector<std::string> a = args;
                         std::optional<std::string> after;
                         if (a.size() >= 3 && a[a.size() - 2] == "-a") {
                           after = a.back();
                           a.resize(a.size() - 2);
                         }
                         if (a.empty() || a.size() > 2) {
                           return reply(Response::Error(Usage("scan TABLE [PREFIX] [-a AFTER]")));
                         }
                         if (Status st = CheckReadable(a[0]); !st.ok())
                           return reply(Response::Error(st));
                         auto rows = tables->Scan(a[0], a.size() == 2 ? a[1] : "",
                                                  kDefaultScanLimit + 1, after, kScanPageBytes);
                         bool more =
                             rows.size() > kDefaultScanLimit ||
                             !tables
                                  ->Scan(a[0], a.size() == 2 ? a[1] : "", 1,
                                         rows.empty()
                                             ? after
                                             : std::optional<std::string_view>(rows.back().first))
                                  .empty();
                         if (rows.size() > kDefaultScanLimit) rows.resize(kDefaultScanLimit);
                         std::vector<Row> out;
                         out.reserve(rows.size() + 1);
                         for (auto& [k, v] : rows)
                           out.push_back({{"key", k}, {"value", std::move(v)}});
                         if (more && !rows.empty()) out.push_back({{"next", rows.back().first}});
                         reply(Response::Rows(std::move(out)));
                       }});
}

void RegisterEngineCommands(Engine* engine, Dispatcher* d, ServerInfo info) {
  RegisterReadCommands(&engine->tables(), engine->server_id(), d);
  d->ReserveTable(std::string(kUserTable), "user-add");
  d->ReserveTable(std::string(kAuthTable), "login");
  d->ReserveTable(std::string(kConfigTable), "configure");
  // Who is this? Answered without a ticket: what another server needs to
  // verify an epoch, and nothing more.
  d->Register("hello", {AccessLevel::kNone, false, /*needs_ticket=*/false,
                        [engine, info](const RequestContext&, const auto&, Reply reply) {
                          auto fence = engine->fence();
                          Row row = {{"serverID", engine->server_id()},
                                     {"role", fence ? "fenced" : "standard"},
                                     {"epoch", std::to_string(engine->epoch().value)},
                                     {"address", info.address()}};
                          if (fence && !fence->new_master.empty()) {
                            row.emplace_back("newMaster", fence->new_master);
                          }
                          reply(Ok(std::move(row)));
                        },
                        0, "hello"});
  d->Register("info", {AccessLevel::kRead, false, true,
                       [engine, info](const RequestContext& ctx, const auto&, Reply reply) {
                         Position pos = engine->durable();
                         auto fence = engine->fence();
                         Row row = {{"serverID",
                                     engine->server_id().empty() ? "(unset)" : engine->server_id()},
                                    {"role", fence ? "fenced" : "standard"},
                                    {"address", info.address()},
                                    {"root", engine->layout().root()},
                                    {"epoch", std::to_string(engine->epoch().value)},
                                    {"journal", std::to_string(pos.journal)},
                                    {"sequence", std::to_string(pos.offset)},
                                    {"user", ctx.identity.user},
                                    {"access", std::string(AccessLevelName(ctx.identity.level))},
                                    {"version", TANDEM_VERSION}};
                         if (fence) {
                           row.emplace_back("fence", fence->fence);
                           row.emplace_back("newMaster", fence->new_master);
                         }
                         reply(Ok(std::move(row)));
                       },
                       0, "info"});

  d->Register("put", Commit({AccessLevel::kWrite, false, true,
                             [engine, d](const RequestContext&, const auto& args, Reply reply) {
                               if (args.size() != 3)
                                 return reply(Response::Error(Usage("put TABLE KEY VALUE")));
                               if (Status st = CheckWritable(*d, args[0]); !st.ok())
                                 return reply(Response::Error(st));
                               CommitAndReply(engine, {{Op::Put(args[0], args[1], args[2])}},
                                              std::move(reply));
                             }}));

  d->Register("del", Commit({AccessLevel::kWrite, false, true,
                             [engine, d](const RequestContext&, const auto& args, Reply reply) {
                               if (args.size() != 2)
                                 return reply(Response::Error(Usage("del TABLE KEY")));
                               if (Status st = CheckWritable(*d, args[0]); !st.ok())
                                 return reply(Response::Error(st));
                               CommitAndReply(engine, {{Op::Delete(args[0], args[1])}},
                                              std::move(reply));
                             }}));

  d->Register("txn",
              Commit({AccessLevel::kWrite, false, true,
                      [engine, d](const RequestContext&, const auto& args, Reply reply) {
                        Transaction txn;
                        for (const auto& line : args) {
                          if (line.empty()) continue;
                          auto op = ParseOpLine(line);
                          if (!op.ok()) return reply(Response::Error(op.status()));
                          if (Status st = CheckWritable(*d, op->table); !st.ok())
                            return reply(Response::Error(st));
                          txn.ops.push_back(std::move(op).value());
                        }
                        if (txn.ops.empty())
                          return reply(Response::Error(Usage("txn (ops on stdin, one per line)")));
                        CommitAndReply(engine, std::move(txn), std::move(reply));
                      }}));

  d->Register("admin", {AccessLevel::kSuper, true, true,
                        [engine, info](const RequestContext& ctx, const auto& args, Reply reply) {
                          std::string sub = args.empty() ? "" : args[0];
                          if (sub == "checkpoint") {
                            auto start = std::chrono::steady_clock::now();
                            auto ckp = engine->Checkpoint();
                            if (!ckp.ok()) return reply(Response::Error(ckp.status()));
                            return reply(Ok({{"checkpoint", ckp->path},
                                             {"journal", std::to_string(ckp->journal)},
                                             {"rows", std::to_string(ckp->rows)},
                                             {"bytes", std::to_string(ckp->bytes)},
                                             {"ms", MillisSince(start)}}));
                          }
                          if (sub == "journal") {
                            auto pos = engine->Rotate();
                            if (!pos.ok()) return reply(Response::Error(pos.status()));
                            return reply(Ok({{"rotated", std::to_string(pos->journal)},
                                             {"journal", std::to_string(pos->journal + 1)}}));
                          }
                          if (sub == "stop") {
                            LogInfo() << "stop requested by '" << ctx.identity.user << "' from "
                                      << ctx.peer;
                            Response resp = Ok({{"stopping", info.address()}});
                            resp.after_send = info.stop;
                            return reply(std::move(resp));
                          }
                          reply(Response::Error(Usage("admin checkpoint|journal|stop")));
                        },
                        1, "admin checkpoint|journal|stop"});

  d->Register("journaldbchecksums",
              {AccessLevel::kSuper, true, true,
               [engine, d](const RequestContext&, const auto& args, Reply reply) {
                 std::string only;
                 if (args.size() == 2 && args[0] == "-t") {
                   only = args[1];
                 } else if (!args.empty()) {
                   return reply(Response::Error(Usage("journaldbchecksums [-t TABLE]")));
                 }
                 auto marked = engine->JournalChecksums();
                 if (!marked.ok()) return reply(Response::Error(marked.status()));
                 std::vector<Row> rows;
                 for (const TableChecksum& s : marked->second) {
                   if (!only.empty() && s.table != only) continue;
                   if (d->TableOwner(s.table) && s.table != kConfigTable && only.empty()) continue;
                   rows.push_back({{"table", s.table},
                                   {"checksum", FormatChecksum(s.checksum)},
                                   {"rows", std::to_string(s.rows)},
                                   {"journal", std::to_string(marked->first.journal)},
                                   {"sequence", std::to_string(marked->first.offset)}});
                 }
                 if (rows.empty()) {
                   rows.push_back({{"table", only.empty() ? "(none)" : only},
                                   {"checksum", "0x0000000000000000"},
                                   {"rows", "0"},
                                   {"journal", std::to_string(marked->first.journal)},
                                   {"sequence", std::to_string(marked->first.offset)}});
                 }
                 reply(Response::Rows(std::move(rows)));
               }});

  RegisterConfigureCommand(d, {&engine->tables(), engine->server_id(), nullptr, engine, nullptr});

  d->Register(
      "user-add",
      {AccessLevel::kSuper, true, true,
       [engine](const RequestContext&, const auto& args, Reply reply) {
         if (args.size() != 4 || args[1] != "--level") {
           return reply(Response::Error(Usage("user-add NAME --level read|write|service|super")));
         }
         auto level = ParseAccessLevel(args[2]);
         if (!level)
           return reply(
               Response::Error(Status::InvalidArgument("unknown level '" + args[2] + "'")));
         auto txn = MakeUserTransaction(engine->tables(), args[0], *level, args[3]);
         if (!txn.ok()) return reply(Response::Error(txn.status()));
         CommitAndReply(engine, std::move(txn).value(), std::move(reply));
       }});
}

}  // namespace tandem
