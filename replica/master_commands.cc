#include "replica/master_commands.h"

#include <fcntl.h>

#include "journal/file.h"
#include "journal/log.h"
#include "journal/numbers.h"
#include "replica/journal_streamer.h"
#include "replica/server_spec.h"
#include "replica/status_rows.h"
#include "replica/stream_command.h"

namespace tandem {
namespace {

Response Error(Status st) { return Response::Error(std::move(st)); }

}  // namespace

void RegisterMasterReplicationCommands(Engine* engine, ReplicationHub* hub, Dispatcher* d) {
  d->ReserveTable(std::string(kServerTable), "server -i");
  RegisterJournalStreamCommand(hub, d);

  d->Register(
      "checkpoint-fetch",
      {AccessLevel::kService, true, true,
       [engine](const RequestContext&, const auto& args, Reply reply) {
         if (args.size() != 2) {
           return reply(Error(Status::InvalidArgument("usage: checkpoint-fetch NAME|- OFFSET")));
         }
         const RootLayout& layout = engine->layout();
         std::string name = args[0];
         if (name == "-") {
           auto ckps = layout.ListCheckpoints();
           if (!ckps.ok() || ckps->empty()) {
             return reply(Error(Status::NotFound(
                 "this master has no checkpoint yet; take one with 'tandem admin checkpoint'")));
           }
           name = "ckp." + std::to_string(ckps->back()) + ".gz";
         }
         if (name.find('/') != std::string::npos || name.rfind("ckp.", 0) != 0) {
           return reply(Error(Status::InvalidArgument("bad checkpoint name '" + name + "'")));
         }
         std::string path = layout.checkpoint_dir() + "/" + name;
         auto md5 = ReadFileToString(path + ".md5");
         auto file = File::Open(path, O_RDONLY);
         if (!md5.ok() || !file.ok()) {
           return reply(
               Error(Status::NotFound("checkpoint " + name + " is gone; start the reseed again")));
         }
         auto parsed = ParseDecimal<uint64_t>(args[1], "OFFSET");
         if (!parsed.ok()) return reply(Error(parsed.status()));
         uint64_t offset = *parsed;
         auto size_or = file->Size();
         uint64_t size = size_or.ok() ? *size_or : 0;
         std::string data(std::min<uint64_t>(size > offset ? size - offset : 0, 4u << 20), '\0');
         auto n = file->PRead(data.data(), data.size(), offset);
         if (!n.ok()) return reply(Error(n.status()));
         data.resize(*n);
         reply(Response::Rows({{{"name", name},
                                {"md5", md5->substr(0, md5->find_first_of(" \n"))},
                                {"size", std::to_string(size)},
                                {"offset", std::to_string(offset)},
                                {"data", std::move(data)}}}));
       }});

  d->Register(
      "server",
      {AccessLevel::kSuper, false, true,
       [engine, hub](const RequestContext&, const auto& args, Reply reply) {
         if (args.size() == 2 && args[0] == "-o") {
           auto spec = LoadServerSpec(engine->tables(), args[1]);
           if (!spec) return reply(Error(Status::NotFound("no server spec for '" + args[1] + "'")));
           return reply(Response::Rows({{{"spec", spec->Format()}}}));
         }
         if (args.size() == 2 && args[0] == "-i") {
           auto spec = ServerSpec::Parse(args[1]);
           if (!spec.ok()) return reply(Error(spec.status()));
           // Not gated: dropping a dead standby's mandatory flag is
           // what an operator does while it is away.
           engine->CommitAsync(
               {{ServerSpecOp(*spec)}},
               [hub, reply, id = spec->id](const Status& st, Position) {
                 if (!st.ok()) return reply(Error(st));
                 hub->Recompute();  // a mandatory flag takes effect at once
                 reply(Response::Rows({{{"saved", "Server " + id + " saved."}}}));
               },
               Engine::Wait::kLocal);
           return;
         }
         if (args.size() == 2 && args[0] == "-d") {
           // A retired server: its spec no longer holds the mandatory
           // gate, or a failover's wait for every server to return.
           if (args[1] == engine->server_id()) {
             return reply(
                 Error(Status::FailedPrecondition("'" + args[1] + "' is this master's own spec")));
           }
           if (!LoadServerSpec(engine->tables(), args[1])) {
             return reply(Error(Status::NotFound("no server spec for '" + args[1] + "'")));
           }
           engine->CommitAsync(
               {{Op::Delete(std::string(kServerTable), args[1])}},
               [hub, reply, id = args[1]](const Status& st, Position) {
                 if (!st.ok()) return reply(Error(st));
                 hub->Recompute();
                 reply(Response::Rows({{{"deleted", "Server " + id + " deleted."}}}));
               },
               Engine::Wait::kLocal);
           return;
         }
         reply(Error(Status::InvalidArgument(
             "usage: server -o SERVERID | server -i (spec on stdin) | server -d SERVERID")));
       }});

  d->Register("servers", {AccessLevel::kRead, false, true,
                          [engine, hub](const RequestContext&, const auto& args, Reply reply) {
                            if (args.empty() || args[0] != "-J") {
                              return reply(Error(Status::InvalidArgument("usage: servers -J")));
                            }
                            Position durable = engine->durable();
                            Position release = hub->release();
                            std::vector<Row> rows;
                            rows.push_back(MasterSelfRow(engine->server_id(), durable, release));
                            auto sizes = RotatedJournalSizes(engine->layout());
                            for (const auto& d2 : hub->Downstream())
                              rows.push_back(DownstreamRow(d2, durable, release, sizes));
                            auto stalled = hub->StalledBy();
                            for (const auto& id : stalled) {
                              LogWarning() << "servers -J: replication stalled: mandatory standby '"
                                           << id << "' is not alive";
                            }
                            reply(Response::Rows(std::move(rows)));
                          },
                          1, "servers -J"});

  d->Register("pull", {AccessLevel::kRead, false, true,
                       [engine](const RequestContext&, const auto& args, Reply reply) {
                         if (args.empty() || args[0] != "-lj")
                           return reply(Error(Status::InvalidArgument("usage: pull -lj")));
                         // As Helix answers: a master pulls from no one. A
                         // script checking that roles switched sees it here.
                         reply(Error(Status::FailedPrecondition(
                             "pull -lj: this server ('" + engine->server_id() + "') is " +
                             "the master of epoch " + std::to_string(engine->epoch().value) +
                             ", not a replica: it pulls from no one (its downstream " +
                             "servers: servers -J)")));
                       },
                       1, "pull -lj"});
}

}  // namespace tandem
