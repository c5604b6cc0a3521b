// Watching a cluster from outside: /metrics in the Prometheus text format
// (checked by promtool, and scraped by a real Prometheus server whose query
// API then answers the standby's lag), /healthz and /readyz, and
// `tandem ping`, as the master and a hung master's standby see them.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <tuple>

#include "tests/integration/cluster.h"

namespace tandem::testing {
namespace {

constexpr const char* kPromtool = "/usr/bin/promtool";
constexpr const char* kPrometheus = "/usr/bin/prometheus";

class MonitoringTest : public ClusterTest {
 protected:
  // Serves /metrics on a port of its own from its next start.
  static void WithMetrics(const std::string& root) {
    ASSERT_EQ(RunTandemd({"-r", root, "-cset", "metrics.address=127.0.0.1:0"}).exit_code, 0);
  }
  std::unique_ptr<TandemdProcess> StartMasterWithMetrics() {
    master_root_ = dir_.Sub("master");
    EXPECT_EQ(RunTandemd({"-r", master_root_, "--id", "master1"}).exit_code, 0);
    WithMetrics(master_root_);
    return TandemdProcess::Start(master_root_);
  }
  std::unique_ptr<TandemdProcess> StartDownstreamWithMetrics(const std::string& id,
                                                             const TandemdProcess& master) {
    std::string root = dir_.Sub(id);
    EXPECT_EQ(RunTandemd({"-r", root, "--id", id}).exit_code, 0);
    EXPECT_EQ(RunTandemd({"-r", root, "-cset", "target=" + master.address()}).exit_code, 0);
    WithMetrics(root);
    return TandemdProcess::Start(root, "127.0.0.1:0");
  }
  static std::string Metrics(const TandemdProcess& p) {
    HttpResult r = HttpGet(p.metrics_address(), "/metrics");
    EXPECT_EQ(r.status, 200);
    return r.body;
  }
  // A master, mandatory standby sb1 and replica r1, each with metrics.
  void StartThree() {
    auto master = StartMasterWithMetrics();
    ASSERT_TRUE(master);
    AddSpec(*master, "sb1", "standby", true);
    AddSpec(*master, "r1", "replica", false);
    auto standby = StartDownstreamWithMetrics("sb1", *master);
    auto replica = StartDownstreamWithMetrics("r1", *master);
    ASSERT_TRUE(standby && replica);
    three_ = {std::move(master), std::move(standby), std::move(replica)};
  }
  std::tuple<std::unique_ptr<TandemdProcess>, std::unique_ptr<TandemdProcess>,
             std::unique_ptr<TandemdProcess>>
      three_;

  static bool Has(const std::string& text, const std::string& line) {
    return text.find(line) != std::string::npos;
  }
};

TEST_F(MonitoringTest, MetricsOfEveryRoleAreValidPrometheusText) {
  ASSERT_NO_FATAL_FAILURE(StartThree());
  // Not a structured binding: clang 14 cannot capture one in a lambda.
  auto& master = std::get<0>(three_);
  auto& standby = std::get<1>(three_);
  auto& replica = std::get<2>(three_);
  ASSERT_FALSE(master->metrics_address().empty());
  Put(*master, 0, 50);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*standby, *master) && CaughtUp(*replica, *master); }));

  ASSERT_TRUE(WaitFor([&] {
    return Has(Metrics(*master),
               "tandem_downstream_alive{server_id=\"sb1\",type=\"standby\","
               "mandatory=\"1\"} 1");
  }));
  std::string m = Metrics(*master);
  EXPECT_TRUE(Has(m, "tandem_info{server_id=\"master1\",role=\"master\",version=\"")) << m;
  EXPECT_TRUE(Has(m, "tandem_ready 1")) << m;
  // The master hears of what the replica applied with its next acknowledgement.
  EXPECT_TRUE(WaitFor([&] {
    return Has(Metrics(*master),
               "tandem_downstream_lag_bytes{server_id=\"r1\",stage=\"applied\"} 0");
  }));
  EXPECT_TRUE(Has(m, "# TYPE tandem_journal_fsync_seconds histogram")) << m;
  EXPECT_TRUE(Has(m, "tandem_auth_failures_total 0")) << m;
  EXPECT_TRUE(Has(m, "tandem_commit_seconds_count 50")) << m;  // the 50 puts above
  EXPECT_TRUE(Has(m, "tandem_failover_runs_total{kind=\"planned\",outcome=\"completed\"} 0")) << m;
  EXPECT_TRUE(Has(m, "tandem_connections{state=\"all\"} ")) << m;
  EXPECT_TRUE(Has(m, "tandem_journal_append_seconds_bucket{le=\"+Inf\"} ")) << m;
  EXPECT_TRUE(Has(Metrics(*standby), "tandem_info{server_id=\"sb1\",role=\"standby\""));
  EXPECT_TRUE(
      WaitFor([&] { return Has(Metrics(*standby), "tandem_lag_bytes{stage=\"applied\"} 0"); }));
  EXPECT_TRUE(Has(Metrics(*replica),
                  "tandem_upstream_connected{upstream=\"" + master->address() + "\"} 1"));

  // servers -J --json: one key set for the master's row and every other.
  auto servers = nlohmann::json::parse(
      RunTandem({"-p", master->address(), "--json", "servers", "-J"}).out, nullptr, false);
  ASSERT_EQ(servers.size(), 3u) << servers.dump();
  for (const auto& row : servers) {
    std::vector<std::string> keys, first;
    for (auto it = row.begin(); it != row.end(); ++it) keys.push_back(it.key());
    for (auto it = servers[0].begin(); it != servers[0].end(); ++it) first.push_back(it.key());
    EXPECT_EQ(keys, first) << row.dump();
    EXPECT_TRUE(row["lagBytes"].is_number()) << row.dump();
  }

  if (!std::filesystem::exists(kPromtool)) GTEST_SKIP() << "no promtool (Debian: prometheus)";
  for (const TandemdProcess* p : {master.get(), standby.get(), replica.get()}) {
    auto check = testing::Run(kPromtool, {"check", "metrics"}, {Metrics(*p), {}, {}});
    EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
    EXPECT_EQ(check.out + check.err, "") << "promtool lint findings";
  }
}

TEST_F(MonitoringTest, ReadyzAndPingFollowTheRoleAndTheLinkToTheMaster) {
  auto master = StartMasterWithMetrics();
  ASSERT_TRUE(master);
  AddSpec(*master, "sb1", "standby", true);
  auto standby = StartDownstreamWithMetrics("sb1", *master);
  ASSERT_TRUE(standby);
  Configure(*master, "rpl.timeout.ms=300");
  Put(*master, 0, 5);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*standby, *master); }));

  EXPECT_EQ(HttpGet(master->metrics_address(), "/healthz").status, 200);
  EXPECT_EQ(HttpGet(master->metrics_address(), "/readyz").status, 200);
  ASSERT_TRUE(
      WaitFor([&] { return HttpGet(standby->metrics_address(), "/readyz").status == 200; }));
  auto ping = RunTandem({"-p", standby->address(), "ping"});
  EXPECT_EQ(ping.exit_code, 0) << ping.out << ping.err;
  EXPECT_NE(ping.out.find("ready (standby)"), std::string::npos) << ping.out;

  master->Stop();  // hung: the standby's link is open but silent
  ASSERT_TRUE(
      WaitFor([&] { return HttpGet(standby->metrics_address(), "/readyz").status == 503; }));
  EXPECT_NE(HttpGet(standby->metrics_address(), "/readyz").body.find("not connected to its master"),
            std::string::npos);
  EXPECT_EQ(HttpGet(standby->metrics_address(), "/healthz").status, 200);  // it still serves
  ping = RunTandem({"-p", standby->address(), "ping"});
  EXPECT_EQ(ping.exit_code, 1) << ping.out << ping.err;
  EXPECT_NE(ping.out.find("not connected to its master"), std::string::npos) << ping.out;
  ping = RunTandem({"-p", master->address(), "ping"});
  EXPECT_EQ(ping.exit_code, 2) << ping.out << ping.err;  // accepted by the kernel, never answered
  ping = RunTandem({"-p", master->address() + "," + standby->address(), "--json", "ping"});
  EXPECT_EQ(ping.exit_code, 2);
  EXPECT_NE(ping.out.find("\"answered\":false"), std::string::npos) << ping.out;

  master->Continue();
  ASSERT_TRUE(
      WaitFor([&] { return HttpGet(standby->metrics_address(), "/readyz").status == 200; }));
  EXPECT_EQ(RunTandem({"-p", master->address(), "ping"}).exit_code, 0);
}

TEST_F(MonitoringTest, AMasterWhoseMandatoryStandbyIsGoneIsNotReady) {
  auto master = StartMasterWithMetrics();
  ASSERT_TRUE(master);
  AddSpec(*master, "sb1", "standby", true);
  Configure(*master, "commit.wait=mandatory");
  HttpResult r = HttpGet(master->metrics_address(), "/readyz");
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find("'sb1' is not connected"), std::string::npos) << r.body;
  auto standby = StartDownstreamWithMetrics("sb1", *master);
  ASSERT_TRUE(standby);
  ASSERT_TRUE(WaitFor([&] { return HttpGet(master->metrics_address(), "/readyz").status == 200; }));
}

TEST_F(MonitoringTest, TheNewMasterCountsTheFailoverItRanAndServesItsMetricsOnTheSameAddress) {
  auto master = StartMasterWithMetrics();
  ASSERT_TRUE(master);
  AddSpec(*master, "sb1", "standby", true);
  std::string root = dir_.Sub("sb1");
  ASSERT_EQ(RunTandemd({"-r", root, "--id", "sb1"}).exit_code, 0);
  ASSERT_EQ(RunTandemd({"-r", root, "-cset", "target=" + master->address()}).exit_code, 0);
  // A fixed port: a promoted standby serves again, on the address it had.
  const std::string at = "127.0.0.1:" + std::to_string(UnusedPort());
  ASSERT_EQ(RunTandemd({"-r", root, "-cset", "metrics.address=" + at}).exit_code, 0);
  auto standby = TandemdProcess::Start(root, "127.0.0.1:0");
  ASSERT_TRUE(standby);
  Put(*master, 0, 10);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(*standby, *master); }));
  ASSERT_EQ(Failover(*standby, {"-y"}).exit_code, 0);
  ASSERT_TRUE(WaitFor([&] { return IsMaster(*standby); }));
  ASSERT_TRUE(WaitFor([&] {
    std::string m = HttpGet(at, "/metrics").body;
    return Has(m, "tandem_failover_runs_total{kind=\"planned\",outcome=\"completed\"} 1") &&
           Has(m, "tandem_failovers_total{kind=\"planned\"} 1") &&
           Has(m, "tandem_failover_seconds_count 1") && Has(m, "role=\"master\"");
  })) << HttpGet(at, "/metrics").body;
  EXPECT_EQ(HttpGet(master->metrics_address(), "/readyz").status, 503);  // fenced
}

TEST_F(MonitoringTest, FailedLoginsAndRefusedTicketsAreCounted) {
  master_root_ = dir_.Sub("master");
  ASSERT_EQ(RunTandemd({"-r", master_root_, "--id", "master1"}).exit_code, 0);
  AddUser(master_root_, "admin", "super", "pw");
  WithMetrics(master_root_);
  auto master = TandemdProcess::Start(master_root_);
  ASSERT_TRUE(master);
  SpawnOptions wrong;
  wrong.env = {{"TANDEM_TICKETS", dir_.Sub("tickets")}, {"TANDEM_PASSWORD", "not-the-password"}};
  EXPECT_NE(RunTandem({"-p", master->address(), "-u", "admin", "login"}, wrong).exit_code, 0);
  EXPECT_NE(RunTandem({"-p", master->address(), "-u", "admin", "info"}, wrong).exit_code, 0);
  EXPECT_TRUE(Has(Metrics(*master), "tandem_auth_failures_total 2")) << Metrics(*master);
}

TEST_F(MonitoringTest, TheEndpointRefusesWhatIsNotAGetOfAKnownPathAndKeepsServing) {
  auto master = StartMasterWithMetrics();
  ASSERT_TRUE(master);
  const std::string at = master->metrics_address();
  EXPECT_EQ(HttpGet(at, "/nothing").status, 404);
  EXPECT_EQ(
      HttpExchange(at, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n").status,
      405);
  // Not HTTP, a header larger than allowed, a request cut short: no answer,
  // and nothing else changes.
  EXPECT_EQ(HttpExchange(at, std::string(64, '\x01') + "\r\n\r\n").status, -1);
  EXPECT_EQ(HttpExchange(at, "GET /metrics HTTP/1.1\r\nX: " + std::string(20000, 'a') + "\r\n\r\n")
                .status,
            -1);
  EXPECT_EQ(HttpExchange(at, "GET /metr").status, -1);
  EXPECT_EQ(HttpGet(at, "/metrics?x=1").status, 200);
  EXPECT_EQ(RunTandem({"-p", master->address(), "ping"}).exit_code, 0);

  // A peer that holds connections open without a whole request gets a few
  // at most, for a bounded time; then the endpoint answers again.
  std::vector<int> slow;
  for (int i = 0; i < 8; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(Address::Parse(at)->port);
    ::inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
    ASSERT_EQ(::send(fd, "GET", 3, MSG_NOSIGNAL), 3);
    slow.push_back(fd);
  }
  EXPECT_TRUE(WaitFor([&] { return HttpGet(at, "/healthz").status == 200; }));
  for (int fd : slow) ::close(fd);
}

TEST_F(MonitoringTest, APrometheusServerScrapesTheClusterAndAnswersTheStandbysLag) {
  if (!std::filesystem::exists(kPrometheus)) GTEST_SKIP() << "no prometheus (Debian: prometheus)";
  ASSERT_NO_FATAL_FAILURE(StartThree());
  // Not a structured binding: clang 14 cannot capture one in a lambda.
  auto& master = std::get<0>(three_);
  auto& standby = std::get<1>(three_);
  auto& replica = std::get<2>(three_);
  Put(*master, 0, 20);

  std::string config = dir_.Sub("prometheus.yml");
  std::ofstream(config) << "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                           "scrape_configs:\n  - job_name: tandem\n    static_configs:\n"
                           "      - targets: ['"
                        << master->metrics_address() << "', '" << standby->metrics_address()
                        << "', '" << replica->metrics_address() << "']\n";
  const std::string web = "127.0.0.1:" + std::to_string(UnusedPort());
  BackgroundProcess prometheus(
      kPrometheus,
      {"--config.file=" + config, "--storage.tsdb.path=" + dir_.Sub("tsdb"),
       "--web.listen-address=" + web},
      dir_.Sub("prometheus.log"));
  // The standby's lag as the master reports it: one series, a number.
  const std::string query =
      "/api/v1/query?query=tandem_downstream_lag_bytes%7Bserver_id%3D%22sb1%22%2C"
      "stage%3D%22applied%22%7D";
  nlohmann::json answer;
  ASSERT_TRUE(WaitFor(
      [&] {
        HttpResult r = HttpGet(web, query);
        if (r.status != 200) return false;
        answer = nlohmann::json::parse(r.body, nullptr, false);
        return answer.is_object() && answer["status"] == "success" &&
               answer["data"]["result"].size() == 1;
      },
      60000))
      << "prometheus running: " << prometheus.running();
  EXPECT_EQ(answer["data"]["result"][0]["value"][1], "0") << answer.dump();
  // Every server was scraped and is up.
  HttpResult up = HttpGet(web, "/api/v1/query?query=sum(up)");
  ASSERT_TRUE(WaitFor([&] {
    up = HttpGet(web, "/api/v1/query?query=sum(up)");
    auto j = nlohmann::json::parse(up.body, nullptr, false);
    return j.is_object() && !j["data"]["result"].empty() &&
           j["data"]["result"][0]["value"][1] == "3";
  })) << up.body;
}

}  // namespace
}  // namespace tandem::testing
