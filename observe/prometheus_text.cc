#include "observe/prometheus_text.h"

#include <cmath>
#include <cstdio>

namespace tandem {
namespace {

void AppendEscaped(std::string_view value, bool in_help, std::string* out) {
  for (char c : value) {
    if (c == '\\') {
      *out += "\\\\";
    } else if (c == '\n') {
      *out += "\\n";
    } else if (c == '"' && !in_help) {
      *out += "\\\"";
    } else {
      *out += c;
    }
  }
}

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[40];
  if (v == std::floor(v) && std::fabs(v) < 9.007199254740992e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.9g", v);
  }
  return buf;
}

}  // namespace

void PrometheusText::Family(std::string_view name, std::string_view type, std::string_view help) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  AppendEscaped(help, true, &out_);
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
}

void PrometheusText::Line(std::string_view name, std::string_view suffix, const Labels& labels,
                          std::string_view extra_label, std::string_view extra_value,
                          double value) {
  out_ += name;
  out_ += suffix;
  if (!labels.empty() || !extra_label.empty()) {
    out_ += '{';
    bool first = true;
    auto label = [&](std::string_view k, std::string_view v) {
      if (!first) out_ += ',';
      first = false;
      out_ += k;
      out_ += "=\"";
      AppendEscaped(v, false, &out_);
      out_ += '"';
    };
    for (const auto& [k, v] : labels) label(k, v);
    if (!extra_label.empty()) label(extra_label, extra_value);
    out_ += '}';
  }
  out_ += ' ';
  out_ += FormatValue(value);
  out_ += '\n';
}

void PrometheusText::Sample(std::string_view name, const Labels& labels, double value) {
  Line(name, "", labels, "", "", value);
}

void PrometheusText::HistogramFamily(std::string_view name, std::string_view help,
                                     const Labels& labels, const tandem::Histogram::Snapshot& s) {
  Family(name, "histogram", help);
  for (size_t i = 0; i < s.buckets; ++i) {
    Line(name, "_bucket", labels, "le", FormatValue(s.bounds[i]),
         static_cast<double>(s.cumulative[i]));
  }
  Line(name, "_bucket", labels, "le", "+Inf", static_cast<double>(s.count));
  Line(name, "_sum", labels, "", "", s.sum);
  Line(name, "_count", labels, "", "", static_cast<double>(s.count));
}

}  // namespace tandem
