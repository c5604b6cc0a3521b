#include "failover/stop_resolution.h"

#include <thread>

#include "transport/deadline.h"
#include "transport/message.h"

namespace tandem {
namespace {

using std::chrono::milliseconds;

Result<Row> Ask(UpstreamConnection& conn, std::vector<std::string> args,
                milliseconds timeout = milliseconds(2000)) {
  TANDEM_ASSIGN_OR_RETURN(Response r,
                          conn.client->Call({conn.user, conn.ticket, std::move(args)}, timeout));
  if (!r.status.ok()) return r.status;
  return r.rows.empty() ? Row{} : r.rows[0];
}

}  // namespace

StopOutcome ResolveStop(const StopRequest& req, bool send_stop,
                        std::chrono::system_clock::time_point deadline, std::string* detail) {
  const std::string& id = req.standby_id;
  for (bool first = true; first || std::chrono::system_clock::now() < deadline; first = false) {
    auto conn = ConnectUpstream(req.master);
    if (conn.ok()) {
      auto row = Ask(*conn, {"failover-master", "status", id});
      if (row.ok()) {
        std::string_view state = FieldOf(*row, "state");
        Position at;
        Position::ParseToken(std::string(FieldOf(*row, "position")), &at);
        *detail = "the master says it is " + std::string(state) +
                  (state == "serving" ? "" : " at " + at.Token());
        if (state == "fenced") {
          return FieldOf(*row, "fencedFor") == id && at == req.point ? StopOutcome::kStopped
                                                                     : StopOutcome::kNotStopped;
        }
        if (state != "paused" || FieldOf(*row, "pausedBy") != id) return StopOutcome::kNotStopped;
        if (send_stop && at == req.point) {
          auto stopped =
              Ask(*conn, {"failover-master", "stop", id, req.point.Token(), req.standby_address});
          if (stopped.ok()) return StopOutcome::kStopped;
          if (stopped.status().code() == Code::kFailedPrecondition) {
            *detail = stopped.status().message();
            return StopOutcome::kNotStopped;
          }
        } else {
          auto resumed = Ask(*conn, {"failover-master", "resume", id});
          if (resumed.ok()) return StopOutcome::kNotStopped;
        }
      } else if (row.status().code() != Code::kUnavailable &&
                 row.status().code() != Code::kTimeout) {
        *detail = row.status().message();  // an answer, but not one we can act on
        return StopOutcome::kNotStopped;
      }
    }
    std::this_thread::sleep_for(milliseconds(200));
  }
  if (detail->empty()) *detail = "the master did not answer";
  return StopOutcome::kNoAnswer;
}

std::string ResumeMaster(UpstreamOptions master, const std::string& standby_id) {
  // One budget for connect, login and the question: a restart waits on it.
  const milliseconds budget(2000);
  Deadline deadline(budget);
  master.timeout = [budget] { return budget; };
  auto conn = ConnectUpstream(master);
  if (!conn.ok()) return "it did not answer (" + conn.status().message() + ")";
  auto resumed = Ask(*conn, {"failover-master", "resume", standby_id}, deadline.Left());
  if (!resumed.ok()) {
    Code code = resumed.status().code();
    return (code == Code::kTimeout || code == Code::kUnavailable ? "it did not answer ("
                                                                 : "it refused (") +
           resumed.status().message() + ")";
  }
  return std::string(FieldOf(*resumed, "resumed")) == "yes" ? "it takes commits again"
                                                            : "it was not paused for us";
}

}  // namespace tandem
