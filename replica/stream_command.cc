#include "replica/stream_command.h"

#include "journal/log.h"
#include "replica/journal_streamer.h"

namespace tandem {

void RegisterJournalStreamCommand(StreamOrigin* origin, Dispatcher* d) {
  d->Register("journal-stream",
              {AccessLevel::kService, false, true,
               [origin](const RequestContext& ctx, const auto& args, Reply reply) {
                 Position start;
                 if (args.size() != 3 || !Position::ParseToken(args[1], &start)) {
                   return reply(Response::Error(
                       Status::InvalidArgument("usage: journal-stream SERVERID N/S TAILHASH")));
                 }
                 auto spec = CheckStreamRequest(*origin, args[0], start, args[2]);
                 if (!spec.ok()) {
                   LogWarning() << "refused journal stream to '" << args[0] << "' (" << ctx.peer
                                << "): " << spec.status().message();
                   return reply(Response::Error(spec.status()));
                 }
                 Response resp =
                     Response::Rows({{{"type", std::string(ServerTypeName(spec->type))},
                                      {"mandatory", spec->mandatory ? "1" : "0"},
                                      {"epoch", std::to_string(origin->epoch().value)}}});
                 resp.stream = std::make_shared<JournalStreamer>(
                     origin, spec->id, spec->type == ServerType::kReplica, start);
                 reply(std::move(resp));
               }});
}

}  // namespace tandem
