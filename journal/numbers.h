// Checked parsing of decimal numbers from text that may come from anyone (a
// request, a configurable, a file): the whole text must be the number — no
// sign, no space, no overflow. Never throws.
#pragma once

#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "journal/status.h"

namespace tandem {

template <typename T>
std::optional<T> ParseDecimal(std::string_view text) {
  static_assert(std::is_integral_v<T>);
  T value{};
  if (text.empty() || text.front() == '+' || (std::is_unsigned_v<T> && text.front() == '-')) {
    return std::nullopt;
  }
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// As above; the error names `what` and the text ("bad WAIT_MS 'x': ...").
template <typename T>
Result<T> ParseDecimal(std::string_view text, std::string_view what) {
  if (auto v = ParseDecimal<T>(text)) return *v;
  return Status::InvalidArgument("bad " + std::string(what) + " '" +
                                 std::string(text.substr(0, 64)) + "': expected a whole number" +
                                 (std::is_unsigned_v<T> ? " (0 or more)" : ""));
}

// A whole number in [min, max]; the error names `what` and the range
// ("-c needs a whole number in 1..100000, not 'abc'").
template <typename T>
Result<T> ParseDecimalIn(std::string_view text, std::string_view what, T min, T max) {
  auto v = ParseDecimal<T>(text);
  if (v && *v >= min && *v <= max) return *v;
  return Status::InvalidArgument(std::string(what) + " needs a whole number in " +
                                 std::to_string(min) + ".." + std::to_string(max) + ", not '" +
                                 std::string(text.substr(0, 64)) + "'");
}

}  // namespace tandem
