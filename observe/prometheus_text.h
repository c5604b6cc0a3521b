// The Prometheus text exposition format (version 0.0.4): families with
// HELP and TYPE lines, samples with escaped label values, histograms as
// cumulative _bucket, _sum and _count series.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "journal/metrics.h"

namespace tandem {

class PrometheusText {
 public:
  using Labels = std::vector<std::pair<std::string_view, std::string>>;

  // Opens a family: every sample of `name` follows until the next family.
  void Family(std::string_view name, std::string_view type, std::string_view help);
  void Sample(std::string_view name, const Labels& labels, double value);
  // A whole histogram family of one series.
  void HistogramFamily(std::string_view name, std::string_view help, const Labels& labels,
                       const tandem::Histogram::Snapshot& snapshot);

  const std::string& text() const { return out_; }
  static constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

 private:
  void Line(std::string_view name, std::string_view suffix, const Labels& labels,
            std::string_view extra_label, std::string_view extra_value, double value);
  std::string out_;
};

}  // namespace tandem
