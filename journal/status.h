// Errors travel as values inside the engine: every fallible call returns a
// Status or a Result<T>. Exceptions never cross a module boundary.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace tandem {

enum class Code {
  kOk = 0,
  kNotFound,
  kCorruption,          // bytes on disk or on the wire fail validation
  kInvalidArgument,     // the caller asked for something malformed
  kIOError,             // the OS refused a read, write or sync
  kNoSpace,             // ENOSPC / EFBIG: retryable once space returns
  kPermissionDenied,    // authenticated, but the access level is too low
  kUnauthenticated,     // no ticket, a bad ticket, or a wrong password
  kUnavailable,         // peer unreachable, server stopping
  kFailedPrecondition,  // the system is not in a state that allows this
  kAlreadyExists,
  kTimeout,
  // Protocol outcomes between servers; callers decide on these, never on
  // message text.
  kFenced,       // this server was failed over from, or learned of a newer epoch
  kDiverged,     // the peer's journal differs from ours at the point it named
  kNeedsReseed,  // the peer must start again from a checkpoint
  kInternal,     // a bug: a handler failed in a way it did not anticipate
  // Durable on the master, but not confirmed by the mandatory standbys in
  // time: its outcome after a failover is unknown. Never an acknowledgement.
  kUnconfirmed,
};

// Stable lower-case name, used on the wire and in --json output.
std::string_view CodeName(Code code);
inline constexpr Code kLastCode = Code::kUnconfirmed;

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
  static Status Corruption(std::string m) { return {Code::kCorruption, std::move(m)}; }
  static Status InvalidArgument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
  static Status IOError(std::string m) { return {Code::kIOError, std::move(m)}; }
  static Status NoSpace(std::string m) { return {Code::kNoSpace, std::move(m)}; }
  static Status PermissionDenied(std::string m) { return {Code::kPermissionDenied, std::move(m)}; }
  static Status Unauthenticated(std::string m) { return {Code::kUnauthenticated, std::move(m)}; }
  static Status Unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
  static Status FailedPrecondition(std::string m) {
    return {Code::kFailedPrecondition, std::move(m)};
  }
  static Status AlreadyExists(std::string m) { return {Code::kAlreadyExists, std::move(m)}; }
  static Status Timeout(std::string m) { return {Code::kTimeout, std::move(m)}; }
  static Status Fenced(std::string m) { return {Code::kFenced, std::move(m)}; }
  static Status Diverged(std::string m) { return {Code::kDiverged, std::move(m)}; }
  static Status NeedsReseed(std::string m) { return {Code::kNeedsReseed, std::move(m)}; }
  static Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }
  static Status Unconfirmed(std::string m) { return {Code::kUnconfirmed, std::move(m)}; }
  // An errno from a system call on `what` (a path or an operation).
  static Status FromErrno(int err, std::string_view what);

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string ToString() const;

  // Prefixes the message with context ("opening journal.3: ...").
  Status Annotate(std::string_view context) const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}          // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}  // NOLINT: implicit by design

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }
  T&& operator*() && { return std::move(*value_); }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace tandem

#define TANDEM_CONCAT_INNER(a, b) a##b
#define TANDEM_CONCAT(a, b) TANDEM_CONCAT_INNER(a, b)

#define TANDEM_RETURN_IF_ERROR(expr) \
  do {                               \
    ::tandem::Status _st = (expr);   \
    if (!_st.ok()) return _st;       \
  } while (0)

#define TANDEM_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.status();                \
  lhs = std::move(tmp).value()

#define TANDEM_ASSIGN_OR_RETURN(lhs, expr) \
  TANDEM_ASSIGN_OR_RETURN_IMPL(TANDEM_CONCAT(_result_, __LINE__), lhs, expr)
