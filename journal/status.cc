#include "journal/status.h"

#include <cerrno>
#include <cstring>

namespace tandem {

std::string_view CodeName(Code code) {
  switch (code) {
    case Code::kOk:
      return "ok";
    case Code::kNotFound:
      return "not-found";
    case Code::kCorruption:
      return "corruption";
    case Code::kInvalidArgument:
      return "invalid-argument";
    case Code::kIOError:
      return "io-error";
    case Code::kNoSpace:
      return "no-space";
    case Code::kPermissionDenied:
      return "permission-denied";
    case Code::kUnauthenticated:
      return "unauthenticated";
    case Code::kUnavailable:
      return "unavailable";
    case Code::kFailedPrecondition:
      return "failed-precondition";
    case Code::kAlreadyExists:
      return "already-exists";
    case Code::kTimeout:
      return "timeout";
    case Code::kFenced:
      return "fenced";
    case Code::kDiverged:
      return "diverged";
    case Code::kNeedsReseed:
      return "needs-reseed";
    case Code::kInternal:
      return "internal";
    case Code::kUnconfirmed:
      return "unconfirmed";
  }
  return "unknown";
}

Status Status::FromErrno(int err, std::string_view what) {
  std::string msg = std::string(what) + ": " + std::strerror(err);
  if (err == ENOSPC || err == EFBIG || err == EDQUOT) return NoSpace(std::move(msg));
  if (err == ENOENT) return NotFound(std::move(msg));
  if (err == EEXIST) return AlreadyExists(std::move(msg));
  return IOError(std::move(msg));
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  return message_;
}

Status Status::Annotate(std::string_view context) const {
  if (ok()) return *this;
  return Status(code_, std::string(context) + ": " + message_);
}

}  // namespace tandem
