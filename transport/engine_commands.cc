#include "transport/engine_commands.h"

#include <sstream>

#include "journal/log.h"
#include "transport/archive_commands.h"

namespace tandem {
namespace {

constexpr size_t kDefaultScanLimit = 100000;

Response Ok(Row row = {}) {
  return Response::Rows(row.empty() ? std::vector<Row>{} : std::vector<Row>{std::move(row)});
}

Row PositionRow(Position pos) {
  return {{"journal", std::to_string(pos.journal)}, {"sequence", std::to_string(pos.offset)}};
}

Status Usage(const std::string& usage) { return Status::InvalidArgument("usage: " + usage); }

Status CheckWritable(std::string_view table) {
  if (table.empty()) return Status::InvalidArgument("empty table name");
  if (IsReservedTable(table)) {
    return Status::PermissionDenied("table '" + std::string(table) +
                                    "' is reserved; use the command that manages it");
  }
  return Status::Ok();
}

Status CheckReadable(std::string_view table) {
  if (table == kUserTable || table == kAuthTable) {
    return Status::PermissionDenied("table '" + std::string(table) + "' is not readable");
  }
  return Status::Ok();
}

// Commits and replies with the position once durable.
void CommitAndReply(Engine* engine, Transaction txn, Reply reply) {
  engine->CommitAsync(std::move(txn), [reply = std::move(reply)](const Status& st, Position pos) {
    reply(st.ok() ? Ok(PositionRow(pos)) : Response::Error(st));
  });
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

bool IsReservedTable(std::string_view table) {
  return table == kUserTable || table == kAuthTable || table == kConfigTable || table == "server" ||
         table == kRevTable || table == kHeadTable || table == kCounterTable;
}

Result<Op> ParseOpLine(std::string_view line) {
  auto words = SplitWords(line, 4);
  if (words.size() == 4 && words[0] == "put") return Op::Put(words[1], words[2], words[3]);
  if (words.size() == 3 && words[0] == "del") return Op::Delete(words[1], words[2]);
  return Status::InvalidArgument("bad txn line '" + std::string(line) +
                                 "': expected 'put TABLE KEY VALUE' or 'del TABLE KEY'");
}

void RegisterReadCommands(const Tables* tables, std::string server_id, Dispatcher* d) {
  d->Register(
      "login",
      {AccessLevel::kNone, /*blocking=*/true, /*needs_ticket=*/false,
       [tables, server_id](const RequestContext& ctx, const auto& args, Reply reply) {
         if (args.size() != 1) return reply(Response::Error(Usage("login (password on stdin)")));
         if (!HasUsers(*tables)) {
           return reply(Response::Error(
               ctx.secured ? Status::Unavailable("this server is secured but has not replicated "
                                                 "its users yet; log in once it has caught up")
                           : Status::FailedPrecondition(
                                 "this server has no users; no login is needed (loopback only)")));
         }
         auto id = CheckPassword(*tables, ctx.identity.user, args[0]);
         if (!id.ok()) {
           LogWarning() << "failed login for '" << ctx.identity.user << "' from " << ctx.peer;
           return reply(Response::Error(id.status()));
         }
         int64_t lifetime = std::stoll(ConfigValue(*tables, server_id, kCfgTicketTimeout, "43200"));
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

  d->Register("scan", {AccessLevel::kRead, false, true,
                       [tables](const RequestContext&, const auto& args, Reply reply) {
                         if (args.empty() || args.size() > 2)
                           return reply(Response::Error(Usage("scan TABLE [PREFIX]")));
                         if (Status st = CheckReadable(args[0]); !st.ok())
                           return reply(Response::Error(st));
                         auto rows = tables->Scan(args[0], args.size() == 2 ? args[1] : "",
                                                  kDefaultScanLimit);
                         std::vector<Row> out;
                         out.reserve(rows.size());
                         for (auto& [k, v] : rows)
                           out.push_back({{"key", std::move(k)}, {"value", std::move(v)}});
                         reply(Response::Rows(std::move(out)));
                       }});
}

void RegisterEngineCommands(Engine* engine, Dispatcher* d, ServerInfo info) {
  RegisterReadCommands(&engine->tables(), engine->server_id(), d);
  // Who is this? Answered without a ticket: what another server needs to
  // verify an epoch, and nothing more.
  d->Register("hello", {AccessLevel::kNone, false, /*needs_ticket=*/false,
                        [engine, info](const RequestContext&, const auto&, Reply reply) {
                          reply(Ok({{"serverID", engine->server_id()},
                                    {"role", engine->fence() ? "fenced" : "standard"},
                                    {"epoch", std::to_string(engine->epoch().value)},
                                    {"address", info.address()}}));
                        }});
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
                                    {"access", std::string(AccessLevelName(ctx.identity.level))}};
                         if (fence) {
                           row.emplace_back("fence", fence->fence);
                           row.emplace_back("newMaster", fence->new_master);
                         }
                         reply(Ok(std::move(row)));
                       }});

  d->Register("put", {AccessLevel::kWrite, false, true,
                      [engine](const RequestContext&, const auto& args, Reply reply) {
                        if (args.size() != 3)
                          return reply(Response::Error(Usage("put TABLE KEY VALUE")));
                        if (Status st = CheckWritable(args[0]); !st.ok())
                          return reply(Response::Error(st));
                        CommitAndReply(engine, {{Op::Put(args[0], args[1], args[2])}},
                                       std::move(reply));
                      }});

  d->Register("del", {AccessLevel::kWrite, false, true,
                      [engine](const RequestContext&, const auto& args, Reply reply) {
                        if (args.size() != 2) return reply(Response::Error(Usage("del TABLE KEY")));
                        if (Status st = CheckWritable(args[0]); !st.ok())
                          return reply(Response::Error(st));
                        CommitAndReply(engine, {{Op::Delete(args[0], args[1])}}, std::move(reply));
                      }});

  d->Register("txn", {AccessLevel::kWrite, false, true,
                      [engine](const RequestContext&, const auto& args, Reply reply) {
                        Transaction txn;
                        for (const auto& line : args) {
                          if (line.empty()) continue;
                          auto op = ParseOpLine(line);
                          if (!op.ok()) return reply(Response::Error(op.status()));
                          if (Status st = CheckWritable(op->table); !st.ok())
                            return reply(Response::Error(st));
                          txn.ops.push_back(std::move(op).value());
                        }
                        if (txn.ops.empty())
                          return reply(Response::Error(Usage("txn (ops on stdin, one per line)")));
                        CommitAndReply(engine, std::move(txn), std::move(reply));
                      }});

  d->Register("admin", {AccessLevel::kSuper, true, true,
                        [engine, info](const RequestContext& ctx, const auto& args, Reply reply) {
                          std::string sub = args.empty() ? "" : args[0];
                          if (sub == "checkpoint") {
                            auto ckp = engine->Checkpoint();
                            if (!ckp.ok()) return reply(Response::Error(ckp.status()));
                            return reply(Ok({{"checkpoint", ckp->path},
                                             {"journal", std::to_string(ckp->journal)},
                                             {"rows", std::to_string(ckp->rows)},
                                             {"bytes", std::to_string(ckp->bytes)}}));
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
                        }});

  d->Register("journaldbchecksums",
              {AccessLevel::kSuper, true, true,
               [engine](const RequestContext&, const auto& args, Reply reply) {
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
                   if (IsReservedTable(s.table) && s.table != kConfigTable && only.empty())
                     continue;
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

  d->Register("configure",
              {AccessLevel::kSuper, false, true,
               [engine](const RequestContext&, const auto& args, Reply reply) {
                 if (args.size() == 2 && args[0] == "set") {
                   auto eq = args[1].find('=');
                   if (eq == std::string::npos || eq == 0) {
                     return reply(Response::Error(Usage("configure set [SERVERID#]NAME=VALUE")));
                   }
                   return CommitAndReply(engine,
                                         {{Op::Put(std::string(kConfigTable), args[1].substr(0, eq),
                                                   args[1].substr(eq + 1))}},
                                         std::move(reply));
                 }
                 if (args.size() == 2 && args[0] == "unset") {
                   return CommitAndReply(engine, {{Op::Delete(std::string(kConfigTable), args[1])}},
                                         std::move(reply));
                 }
                 if (args.size() == 1 && args[0] == "show") {
                   std::vector<Row> rows;
                   for (auto& [k, v] : engine->tables().Scan(kConfigTable, "", kDefaultScanLimit)) {
                     rows.push_back({{"name", k}, {"value", v}});
                   }
                   return reply(Response::Rows(std::move(rows)));
                 }
                 reply(Response::Error(Usage("configure set NAME=VALUE | unset NAME | show")));
               }});

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
