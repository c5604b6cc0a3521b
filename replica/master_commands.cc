#include "replica/master_commands.h"

#include <fcntl.h>

#include "journal/file.h"
#include "journal/log.h"
#include "replica/journal_streamer.h"
#include "replica/server_spec.h"
#include "replica/status_rows.h"

namespace tandem {
namespace {

Response Error(Status st) { return Response::Error(std::move(st)); }

// Validates a downstream server's request to stream from `start`.
Result<ServerSpec> CheckStreamRequest(const Engine& engine, const std::string& id, Position start,
                                      const std::string& tail) {
  auto spec = LoadServerSpec(engine.tables(), id);
  if (!spec) {
    return Status::PermissionDenied("no server spec for '" + id +
                                    "' on this master; create one with 'tandem server -i'");
  }
  if (spec->type == ServerType::kStandard) {
    return Status::PermissionDenied("server '" + id +
                                    "' is a standard server, not a standby or replica");
  }
  Position durable = engine.durable();
  if (start > durable) {
    return Status::FailedPrecondition(
        "'" + id + "' asks for " + start.ToString() + ", past this master's durable position " +
        durable.ToString() + ": its journal is ahead of the master's (diverged)");
  }
  auto path = MasterJournalPath(engine, start.journal);
  if (!path.ok()) {
    return Status::FailedPrecondition(
        "'" + id + "' is at " + start.ToString() +
        ", older than the journals this master retains; run 'tandem admin reseed' on it");
  }
  auto ours = TailHash(*path, start.offset);
  if (!ours.ok() || *ours != tail) {
    return Status::FailedPrecondition(
        "the journal of '" + id + "' differs from this master's journal " +
        std::to_string(start.journal) + " in the 4096 bytes before sequence " +
        std::to_string(start.offset) + "; refusing to append to a diverged journal");
  }
  return *spec;
}

}  // namespace

void RegisterMasterReplicationCommands(Engine* engine, ReplicationHub* hub, Dispatcher* d) {
  d->Register(
      "journal-stream",
      {AccessLevel::kService, false, true,
       [engine, hub](const RequestContext& ctx, const auto& args, Reply reply) {
         Position start;
         if (args.size() != 3 || !Position::ParseToken(args[1], &start)) {
           return reply(
               Error(Status::InvalidArgument("usage: journal-stream SERVERID N/S TAILHASH")));
         }
         auto spec = CheckStreamRequest(*engine, args[0], start, args[2]);
         if (!spec.ok()) {
           LogWarning() << "refused journal stream to '" << args[0] << "' (" << ctx.peer
                        << "): " << spec.status().message();
           return reply(Error(spec.status()));
         }
         Response resp = Response::Rows({{{"type", std::string(ServerTypeName(spec->type))},
                                          {"mandatory", spec->mandatory ? "1" : "0"},
                                          {"epoch", std::to_string(engine->epoch().value)}}});
         resp.stream = std::make_shared<JournalStreamer>(engine, hub, spec->id,
                                                         spec->type == ServerType::kReplica, start);
         reply(std::move(resp));
       }});

  // Seeding: a downstream server fetches the newest checkpoint in chunks,
  // naming it after the first call so a newer one cannot swap in mid-way.
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
         uint64_t offset = std::stoull(args[1]);
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

  d->Register("server",
              {AccessLevel::kSuper, false, true,
               [engine, hub](const RequestContext&, const auto& args, Reply reply) {
                 if (args.size() == 2 && args[0] == "-o") {
                   auto spec = LoadServerSpec(engine->tables(), args[1]);
                   if (!spec)
                     return reply(Error(Status::NotFound("no server spec for '" + args[1] + "'")));
                   return reply(Response::Rows({{{"spec", spec->Format()}}}));
                 }
                 if (args.size() == 2 && args[0] == "-i") {
                   auto spec = ServerSpec::Parse(args[1]);
                   if (!spec.ok()) return reply(Error(spec.status()));
                   engine->CommitAsync({{ServerSpecOp(*spec)}}, [hub, reply, id = spec->id](
                                                                    const Status& st, Position) {
                     if (!st.ok()) return reply(Error(st));
                     hub->Recompute();  // a mandatory flag takes effect at once
                     reply(Response::Rows({{{"saved", "Server " + id + " saved."}}}));
                   });
                   return;
                 }
                 reply(Error(Status::InvalidArgument(
                     "usage: server -o SERVERID | server -i (spec on stdin)")));
               }});

  d->Register("servers", {AccessLevel::kRead, false, true,
                          [engine, hub](const RequestContext&, const auto& args, Reply reply) {
                            if (args.empty() || args[0] != "-J") {
                              return reply(Error(Status::InvalidArgument("usage: servers -J")));
                            }
                            Position durable = engine->durable();
                            Position release = hub->release();
                            std::vector<Row> rows;
                            rows.push_back({{"serverID", engine->server_id()},
                                            {"type", "standard"},
                                            {"mandatory", "-"},
                                            {"alive", "1"},
                                            {"journalcopy", durable.Token()},
                                            {"applied", durable.Token()},
                                            {"lagBytes", "0"},
                                            {"lastSeenSecondsAgo", "0"},
                                            {"release", release.Token()}});
                            for (const auto& d2 : hub->Downstream())
                              rows.push_back(DownstreamRow(d2, durable, release));
                            auto stalled = hub->StalledBy();
                            for (const auto& id : stalled) {
                              LogWarning() << "servers -J: replication stalled: mandatory standby '"
                                           << id << "' is not alive";
                            }
                            reply(Response::Rows(std::move(rows)));
                          }});

  d->Register("pull", {AccessLevel::kRead, false, true,
                       [engine, hub](const RequestContext&, const auto& args, Reply reply) {
                         if (args.empty() || args[0] != "-lj")
                           return reply(Error(Status::InvalidArgument("usage: pull -lj")));
                         Position durable = engine->durable();
                         reply(Response::Rows({{{"serverID", engine->server_id()},
                                                {"role", "standard"},
                                                {"connected", "1"},
                                                {"replicaJournal", std::to_string(durable.journal)},
                                                {"replicaSequence", std::to_string(durable.offset)},
                                                {"masterJournal", std::to_string(durable.journal)},
                                                {"masterSequence", std::to_string(durable.offset)},
                                                {"journalcopy", durable.Token()},
                                                {"applied", durable.Token()},
                                                {"release", hub->release().Token()},
                                                {"bytesBehind", "0"},
                                                {"secondsSinceData", "0"},
                                                {"lastError", ""}}}));
                       }});
}

}  // namespace tandem
