#include "observe/server_view.h"

#include <algorithm>
#include <chrono>

#include "failover/failover_stats.h"
#include "journal/settings.h"
#include "observe/prometheus_text.h"
#include "replica/failover_history.h"
#include "replica/status_rows.h"
#include "transport/dispatcher.h"

namespace tandem {
namespace {

using Labels = PrometheusText::Labels;

void Positions(PrometheusText* out, const std::vector<std::pair<std::string, Position>>& kinds) {
  out->Family("tandem_position_journal", "gauge",
              "The journal number of a position: durable, release, journalcopied, applied, "
              "upstream_durable.");
  for (const auto& [kind, pos] : kinds)
    out->Sample("tandem_position_journal", {{"kind", kind}}, pos.journal);
  out->Family("tandem_position_offset", "gauge", "The byte offset of a position in its journal.");
  for (const auto& [kind, pos] : kinds) {
    out->Sample("tandem_position_offset", {{"kind", kind}}, static_cast<double>(pos.offset));
  }
}

// What every role reports: identity, readiness, epoch, failovers.
void Common(PrometheusText* out, const Tables& tables, const std::string& id,
            const Readiness& ready, Epoch epoch) {
  out->Family("tandem_info", "gauge", "This server: its ServerID, role and version.");
  out->Sample("tandem_info", {{"server_id", id}, {"role", ready.role}, {"version", TANDEM_VERSION}},
              1);
  out->Family("tandem_ready", "gauge", "1 when the server is ready for its role (/readyz).");
  out->Sample("tandem_ready", {}, ready.ready ? 1 : 0);
  out->Family("tandem_epoch", "gauge", "The epoch this server holds: one per failover.");
  out->Sample("tandem_epoch", {}, epoch.value);
  double planned = 0, unplanned = 0;
  for (const auto& [key, value] : tables.Scan(kFailoverTable, "epoch.", 100000)) {
    auto e = ParseFailoverHistory(Epoch{}, value);
    if (e.ok()) (e->planned ? planned : unplanned) += 1;
  }
  out->Family("tandem_failovers_total", "counter",
              "Failovers in the replicated history, by kind (the old master took part or not).");
  out->Sample("tandem_failovers_total", {{"kind", "planned"}}, planned);
  out->Sample("tandem_failovers_total", {{"kind", "unplanned"}}, unplanned);
  // What this process itself ran, as the standby that failed over.
  FailoverStats& stats = ProcessFailoverStats();
  out->Family("tandem_failover_runs_total", "counter",
              "Failovers this process ran as the standby, by kind and outcome (completed, "
              "rolled_back, unfinished: to be finished at the next start).");
  for (int planned_run : {1, 0}) {
    const char* outcomes[] = {"completed", "rolled_back", "unfinished"};
    for (int o = 0; o < 3; ++o) {
      out->Sample("tandem_failover_runs_total",
                  {{"kind", planned_run ? "planned" : "unplanned"}, {"outcome", outcomes[o]}},
                  static_cast<double>(stats.runs[planned_run][o].value()));
    }
  }
  out->HistogramFamily("tandem_failover_seconds",
                       "Completed failovers this process ran: from the command to promoted.", {},
                       stats.seconds.Read());
}

}  // namespace

ServerView ServerView::OfMaster(const Engine* engine, const ReplicationHub* hub) {
  ServerView v;
  v.engine_ = engine;
  v.hub_ = hub;
  return v;
}

ServerView ServerView::OfDownstream(const DownstreamNode* node) {
  ServerView v;
  v.node_ = node;
  return v;
}

Readiness ServerView::Ready() const { return node_ ? DownstreamReady() : MasterReady(); }

Readiness ServerView::MasterReady() const {
  if (Status st = hub_->Serving(); !st.ok()) return {false, "fenced", st.message()};
  if (Status st = engine_->AcceptingCommits(); !st.ok()) {
    return {false, "master", "commits are refused: " + st.message()};
  }
  if (SettingValue(engine_->tables(), engine_->server_id(), "commit.wait") == "mandatory") {
    auto stalled = hub_->StalledBy();
    if (!stalled.empty()) {
      std::string who;
      for (const auto& id : stalled) who += (who.empty() ? "'" : ", '") + id + "'";
      return {false, "master",
              "commit.wait=mandatory and mandatory standby " + who +
                  " is not connected: commits are not acknowledged"};
    }
  }
  return {true, "master", ""};
}

Readiness ServerView::DownstreamReady() const {
  CopierStatus up = node_->upstream_status();
  Readiness r{false, up.role.empty() ? "downstream" : up.role, ""};
  const Tables& tables = node_->tables();
  int64_t timeout_ms = SettingNumber(tables, node_->server_id(), "rpl.timeout.ms");
  int64_t silent_ms = up.last_heard_ms > 0 ? NowMillis() - up.last_heard_ms : -1;
  if (up.failed || up.local_error) {
    r.reason = "journalcopy stopped here: " + up.last_error;
  } else if (!up.connected || silent_ms < 0 || silent_ms > timeout_ms) {
    r.reason = "not connected to its master" +
               (silent_ms < 0 ? std::string(" (never heard from since start)")
                              : " (last heard " + std::to_string(silent_ms) + " ms ago)") +
               (up.last_error.empty() ? "" : ": " + up.last_error);
  } else {
    auto bound =
        static_cast<uint64_t>(SettingNumber(tables, node_->server_id(), "ready.lag.bytes"));
    Position applied = node_->applied();
    auto lag = BytesBetween(up.upstream_durable, applied, NoJournalSizes());
    if (bound > 0 && !lag) {
      // In an older journal than the master's: not measurable here, and so
      // not known to be within the bound.
      r.reason = std::to_string(JournalsBetween(up.upstream_durable, applied)) +
                 " journal(s) behind its master (ready.lag.bytes=" + std::to_string(bound) + ")";
    } else if (bound > 0 && *lag > bound) {
      r.reason = std::to_string(*lag) +
                 " bytes behind its master (ready.lag.bytes=" + std::to_string(bound) + ")";
    } else {
      r.ready = true;
    }
  }
  return r;
}

std::string ServerView::Metrics() const {
  PrometheusText out;
  if (node_) {
    DownstreamMetrics(&out);
  } else {
    MasterMetrics(&out);
  }
  if (server_) {
    Server::Counts c = server_->counts();
    out.Family("tandem_connections", "gauge",
               "Client and replication connections open (state=all), and of them not logged in.");
    out.Sample("tandem_connections", {{"state", "all"}}, c.sessions);
    out.Sample("tandem_connections", {{"state", "not_logged_in"}}, c.not_logged_in);
    out.Family("tandem_connections_refused_total", "counter",
               "Connections closed at once because server.maxconnections were open.");
    out.Sample("tandem_connections_refused_total", {}, static_cast<double>(c.refused));
  }
  if (dispatcher_) {
    out.Family("tandem_auth_failures_total", "counter",
               "Failed logins and refused tickets since start.");
    out.Sample("tandem_auth_failures_total", {}, static_cast<double>(dispatcher_->auth_failures()));
  }
  return out.text();
}

void ServerView::MasterMetrics(PrometheusText* out) const {
  Position durable = engine_->durable();
  Position release = hub_->release();
  Common(out, engine_->tables(), engine_->server_id(), MasterReady(), engine_->epoch());
  Positions(out, {{"durable", durable}, {"release", release}});
  auto size_of = RotatedJournalSizes(engine_->layout());

  auto downstream = hub_->Downstream();
  out->Family("tandem_downstream_alive", "gauge",
              "1 while the downstream server's journal stream is connected and heard from.");
  for (const auto& d : downstream) {
    out->Sample("tandem_downstream_alive",
                {{"server_id", d.id},
                 {"type", std::string(ServerTypeName(d.type))},
                 {"mandatory", d.mandatory ? "1" : "0"}},
                d.connected ? 1 : 0);
  }
  out->Family("tandem_downstream_lag_bytes", "gauge",
              "Bytes of the master's durable journal the downstream server has not yet flushed "
              "(stage=journalcopy) or applied (stage=applied); absent while not measurable "
              "(never heard from since start, or more than 1000 journals behind).");
  for (const auto& d : downstream) {
    if (auto b = BytesBetween(durable, d.flushed, size_of)) {
      out->Sample("tandem_downstream_lag_bytes", {{"server_id", d.id}, {"stage", "journalcopy"}},
                  static_cast<double>(*b));
    }
    if (auto b = BytesBetween(durable, d.applied, size_of)) {
      out->Sample("tandem_downstream_lag_bytes", {{"server_id", d.id}, {"stage", "applied"}},
                  static_cast<double>(*b));
    }
  }
  out->Family("tandem_downstream_lag_journals", "gauge",
              "Journals between the master's durable position and what the downstream applied.");
  for (const auto& d : downstream) {
    double journals = durable.journal > d.applied.journal ? durable.journal - d.applied.journal : 0;
    out->Sample("tandem_downstream_lag_journals", {{"server_id", d.id}}, journals);
  }
  out->Family("tandem_downstream_lag_seconds", "gauge",
              "Recent time from durable on the master to flushed or applied downstream: the 50th "
              "and 99th percentiles of the last samples.");
  for (const auto& d : downstream) {
    // No samples (never acknowledged since start): no series, not a 0.
    for (auto [q, p] : {std::pair{"50", 0.5}, std::pair{"99", 0.99}}) {
      for (auto [stage, samples] :
           {std::pair{"journalcopy", &d.lag.flushed_us}, std::pair{"applied", &d.lag.applied_us}}) {
        if (auto us = LagPercentileUs(*samples, p)) {
          out->Sample("tandem_downstream_lag_seconds",
                      {{"server_id", d.id}, {"stage", stage}, {"percentile", q}}, *us / 1e6);
        }
      }
    }
  }
  out->Family("tandem_downstream_last_seen_seconds", "gauge",
              "Seconds since the downstream server last acknowledged (-1: never, since start).");
  for (const auto& d : downstream) {
    out->Sample("tandem_downstream_last_seen_seconds", {{"server_id", d.id}},
                d.last_seen > 0 ? static_cast<double>(NowSeconds() - d.last_seen) : -1);
  }
  out->Family("tandem_downstream_pull_u_backlog_files", "gauge",
              "Archive files the downstream server still has to fetch (pull -u), as it reported.");
  for (const auto& d : downstream) {
    out->Sample("tandem_downstream_pull_u_backlog_files", {{"server_id", d.id}},
                static_cast<double>(d.backlog_files));
  }

  auto stall = hub_->ReleaseStall();
  out->Family("tandem_commits_waiting", "gauge",
              "Commits durable here that wait for the mandatory standbys (commit.wait=mandatory).");
  out->Sample("tandem_commits_waiting", {}, static_cast<double>(stall.waiting));
  out->Family("tandem_release_stall_seconds", "gauge",
              "Seconds the release position has not moved while commits wait for it.");
  out->Sample("tandem_release_stall_seconds", {}, stall.seconds);

  const WriterMetrics& w = engine_->writer_metrics();
  out->Family("tandem_journal_records_total", "counter",
              "Records made durable in the journal (commits, rotations, markers).");
  out->Sample("tandem_journal_records_total", {}, static_cast<double>(w.records.value()));
  out->HistogramFamily("tandem_commit_seconds",
                       "Client commits (put, del, txn) from request to acknowledgement, the "
                       "commit.wait=mandatory wait included.",
                       {}, engine_->commit_seconds().Read());
  out->HistogramFamily("tandem_journal_append_seconds",
                       "Time from a record's append to its durability on this master.", {},
                       w.append_seconds.Read());
  out->HistogramFamily("tandem_journal_fsync_seconds", "Time of one fdatasync of the journal.", {},
                       w.fsync_seconds.Read());
  out->HistogramFamily("tandem_journal_batch_records", "Records per group commit.", {},
                       w.batch_records.Read());
}

void ServerView::DownstreamMetrics(PrometheusText* out) const {
  CopierStatus up = node_->upstream_status();
  Readiness ready = DownstreamReady();
  Position applied = node_->applied();
  Common(out, node_->tables(), node_->server_id(), ready, node_->highest_epoch());
  Positions(out, {{"upstream_durable", up.upstream_durable},
                  {"release", up.release},
                  {"journalcopied", up.flushed},
                  {"applied", applied}});
  out->Family("tandem_upstream_connected", "gauge",
              "1 while the journal stream from the master is connected.");
  out->Sample("tandem_upstream_connected", {{"upstream", up.upstream}}, up.connected ? 1 : 0);
  out->Family("tandem_upstream_last_heard_seconds", "gauge",
              "Seconds since the last frame from the master (-1: never, since start).");
  out->Sample(
      "tandem_upstream_last_heard_seconds", {},
      up.last_heard_ms > 0 ? static_cast<double>(NowMillis() - up.last_heard_ms) / 1000 : -1);
  // Bytes only within the master's journal: a downstream server cannot
  // measure the master's journals it has not copied; journals say the rest.
  out->Family("tandem_lag_bytes", "gauge",
              "Bytes of the master's durable journal not yet flushed (stage=journalcopy) or "
              "applied (stage=applied) here; absent while in an older journal than the master's.");
  if (auto b = BytesBetween(up.upstream_durable, up.flushed, NoJournalSizes())) {
    out->Sample("tandem_lag_bytes", {{"stage", "journalcopy"}}, static_cast<double>(*b));
  }
  if (auto b = BytesBetween(up.upstream_durable, applied, NoJournalSizes())) {
    out->Sample("tandem_lag_bytes", {{"stage", "applied"}}, static_cast<double>(*b));
  }
  out->Family("tandem_lag_journals", "gauge",
              "Journals between the master's durable position and what is applied here.");
  out->Sample("tandem_lag_journals", {}, JournalsBetween(up.upstream_durable, applied));
  out->Family("tandem_pull_u_backlog_files", "gauge", "Archive files still to fetch (pull -u).");
  out->Sample("tandem_pull_u_backlog_files", {}, static_cast<double>(node_->archive_backlog()));
  out->Family("tandem_journalcopy_bytes_total", "counter",
              "Journal bytes received and written by journalcopy.");
  out->Sample("tandem_journalcopy_bytes_total", {},
              static_cast<double>(node_->journalcopy_bytes()));
  out->HistogramFamily("tandem_journalcopy_fsync_seconds",
                       "Time of one fdatasync of the journal copy.", {},
                       node_->journalcopy_fsync());
}

}  // namespace tandem
