#include "replica/stream_command.h"

#include "journal/address.h"
#include "journal/log.h"
#include "journal/numbers.h"
#include "replica/journal_streamer.h"

namespace tandem {

void RegisterJournalStreamCommand(StreamOrigin* origin, Dispatcher* d) {
  d->Register(
      "journal-stream",
      {AccessLevel::kService, false, true,
       [origin](const RequestContext& ctx, const auto& args, Reply reply) {
         StreamRequest r{
             .id = args.empty() ? "" : args[0], .user = ctx.identity.user, .secured = ctx.secured};
         bool ok = (args.size() == 3 || args.size() == 5 || args.size() == 6) &&
                   Position::ParseToken(args[1], &r.start);
         if (ok && args.size() >= 5) {
           auto epoch = ParseDecimal<uint32_t>(args[3]);
           ok = epoch && Position::ParseToken(args[4], &r.applied);
           r.epoch = Epoch{epoch.value_or(0)};
         }
         std::string address;
         if (ok && args.size() == 6) {
           auto parsed = Address::Parse(args[5]);
           ok = parsed.ok() && args[5].size() <= 256;
           if (ok) address = parsed->ToString();  // canonical: no stray bytes
         }
         if (!ok) {
           return reply(Response::Error(Status::InvalidArgument(
               "usage: journal-stream SERVERID N/S TAILHASH [EPOCH APPLIED [ADDRESS]]")));
         }
         r.tail = args[2];
         Row advice;
         auto spec = CheckStreamRequest(*origin, r, &advice);
         if (!spec.ok()) {
           LogWarning() << "refused journal stream to '" << r.id << "' (" << ctx.peer
                        << "): " << spec.status().message();
           Response refused = Response::Error(spec.status());
           if (!advice.empty()) refused.rows.push_back(std::move(advice));
           return reply(std::move(refused));
         }
         if (!address.empty() && spec->address.empty()) origin->LearnAddress(spec->id, address);
         Response resp = Response::Rows({{{"type", std::string(ServerTypeName(spec->type))},
                                          {"mandatory", spec->mandatory ? "1" : "0"},
                                          {"epoch", std::to_string(origin->epoch().value)}}});
         resp.stream = std::make_shared<JournalStreamer>(
             origin, spec->id, spec->type == ServerType::kReplica, r.start);
         reply(std::move(resp));
       }});
}

}  // namespace tandem
