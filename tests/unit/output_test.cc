// What monitoring and scripts parse: `tandem --json` values typed by field
// (and docs/json.md saying so), JSON errors and progress lines, the
// Prometheus text format, and the histograms behind it.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "journal/metrics.h"
#include "observe/prometheus_text.h"
#include "tools/json_output.h"
#include "tools/progress.h"

namespace tandem {
namespace {

using nlohmann::json;

TEST(JsonOutputTest, FieldsAreTypedByName) {
  json row = JsonObject({{"serverID", "sb1"},
                         {"epoch", "3"},
                         {"connected", "0"},
                         {"alive", "1"},
                         {"mandatory", "nomandatory"},
                         {"lastSeenSecondsAgo", "-1"},
                         {"masterJournal", "-1"},
                         {"flushLagP50us", "-"},
                         {"key", "123"},
                         {"lagBytes", "4096"}});
  EXPECT_EQ(row["serverID"], "sb1");
  EXPECT_EQ(row["epoch"], 3);
  EXPECT_EQ(row["connected"], false);
  EXPECT_EQ(row["alive"], true);
  EXPECT_EQ(row["mandatory"], false);
  EXPECT_TRUE(row["lastSeenSecondsAgo"].is_null());
  EXPECT_TRUE(row["masterJournal"].is_null());
  EXPECT_TRUE(row["flushLagP50us"].is_null());
  EXPECT_EQ(row["key"], "123");  // a key is text, whatever it looks like
  EXPECT_EQ(row["lagBytes"], 4096);
  EXPECT_EQ(JsonValue("mandatory", "mandatory"), true);
  // A value that is not its type is shown as sent, never dropped or guessed.
  EXPECT_EQ(JsonValue("lagBytes", "journals:2"), "journals:2");
  EXPECT_EQ(JsonValue("epoch", "99999999999999999999999"), "99999999999999999999999");
}

TEST(JsonOutputTest, ErrorsAndProgressAreOneObjectPerLine) {
  json e = json::parse(FormatJsonError(Status::Unconfirmed("not confirmed")));
  EXPECT_EQ(e["error"]["code"], "unconfirmed");
  EXPECT_EQ(e["error"]["message"], "not confirmed");
  std::istringstream lines(
      FormatJsonProgress({{{"step", "stopping the master"}}, {{"info", "x"}}}));
  std::string line;
  std::vector<json> objects;
  while (std::getline(lines, line)) objects.push_back(json::parse(line));
  ASSERT_EQ(objects.size(), 2u);
  EXPECT_EQ(objects[0], json({{"kind", "step"}, {"message", "stopping the master"}}));
  EXPECT_EQ(objects[1]["kind"], "info");
}

TEST(JsonOutputTest, DocsJsonListsEveryTypedField) {
  std::ifstream in(TANDEM_JSON_DOC);
  std::stringstream doc;
  doc << in.rdbuf();
  for (const JsonField& f : JsonFields()) {
    std::string type = f.type == JsonType::kInteger ? "integer" : "boolean";
    EXPECT_NE(doc.str().find("| `" + std::string(f.name) + "` | " + type + " |"), std::string::npos)
        << f.name << " is not in docs/json.md as " << type;
  }
  for (size_t i = 1; i < JsonFields().size(); ++i) {
    EXPECT_LT(JsonFields()[i - 1].name, JsonFields()[i].name) << "the table must stay sorted";
  }
}

TEST(ProgressTest, ATerminalSeesDoneTotalRateAndTimeLeftAndEveryoneASummary) {
  std::ostringstream tty, log;
  Progress on_tty("restore", 10'000'000, &tty, true);
  Progress in_log("restore", 10'000'000, &log, false);
  for (uint64_t done : {2'500'000u, 5'000'000u}) {
    on_tty.Update(done);
    in_log.Update(done);
  }
  EXPECT_NE(tty.str().find("\rrestore: 2.5 / 10.0 MB  "), std::string::npos) << tty.str();
  EXPECT_NE(tty.str().find(" s left"), std::string::npos) << tty.str();
  EXPECT_EQ(log.str(), "") << "no progress lines where nobody watches them redrawn";
  in_log.Update(10'000'000);
  in_log.Finish();
  EXPECT_TRUE(std::regex_match(log.str(),
                               std::regex("restore: 10\\.0 MB in [0-9.]+ s \\([0-9.]+ MB/s\\)\n")))
      << log.str();
}

TEST(PrometheusTextTest, LabelValuesAreEscapedAndHistogramsAreCumulative) {
  PrometheusText out;
  out.Family("tandem_x", "gauge", "A help text\nwith a line break.");
  out.Sample("tandem_x", {{"id", "a\"b\\c\nd"}}, 1.5);
  Histogram h(kBatchBounds);
  for (double v : {1.0, 1.0, 3.0, 5000.0}) h.Observe(v);
  out.HistogramFamily("tandem_batch", "Batch sizes.", {}, h.Read());
  const std::string& t = out.text();
  EXPECT_NE(t.find("# HELP tandem_x A help text\\nwith a line break.\n"), std::string::npos) << t;
  EXPECT_NE(t.find("tandem_x{id=\"a\\\"b\\\\c\\nd\"} 1.5\n"), std::string::npos) << t;
  EXPECT_NE(t.find("tandem_batch_bucket{le=\"1\"} 2\n"), std::string::npos) << t;
  EXPECT_NE(t.find("tandem_batch_bucket{le=\"2\"} 2\n"), std::string::npos) << t;
  EXPECT_NE(t.find("tandem_batch_bucket{le=\"4\"} 3\n"), std::string::npos) << t;
  EXPECT_NE(t.find("tandem_batch_bucket{le=\"4096\"} 3\n"), std::string::npos) << t;
  EXPECT_NE(t.find("tandem_batch_bucket{le=\"+Inf\"} 4\n"), std::string::npos) << t;
  EXPECT_NE(t.find("tandem_batch_sum 5005\n"), std::string::npos) << t;
  EXPECT_NE(t.find("tandem_batch_count 4\n"), std::string::npos) << t;
}

}  // namespace
}  // namespace tandem
