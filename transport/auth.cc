#include "transport/auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <charconv>
#include <vector>

#include "journal/coding.h"
#include "journal/file.h"

namespace tandem {
namespace {

constexpr int kIterations = 100000;
constexpr std::string_view kSecretKey = "ticket.key";

Result<std::string> RandomHex(size_t bytes) {
  std::vector<unsigned char> buf(bytes);
  if (RAND_bytes(buf.data(), static_cast<int>(bytes)) != 1) {
    return Status::IOError("OpenSSL RAND_bytes failed");
  }
  return HexEncode(buf.data(), bytes);
}

std::string Pbkdf2(std::string_view password, std::string_view salt, int iterations) {
  unsigned char out[32];
  PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                    reinterpret_cast<const unsigned char*>(salt.data()),
                    static_cast<int>(salt.size()), iterations, EVP_sha256(), sizeof out, out);
  return HexEncode(out, sizeof out);
}

std::string Mac(std::string_view secret, std::string_view message) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), out, &len);
  return HexEncode(out, len);
}

bool ConstantTimeEqual(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

struct UserRecord {
  AccessLevel level;
  int iterations;
  std::string salt;
  std::string hash;
};

std::optional<UserRecord> LoadUser(const Tables& tables, std::string_view name) {
  auto value = tables.Get(kUserTable, name);
  if (!value) return std::nullopt;
  // LEVEL:ITERATIONS:SALT:HASH
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t i = 0; i <= value->size(); ++i) {
    if (i == value->size() || (*value)[i] == ':') {
      parts.push_back(value->substr(start, i - start));
      start = i + 1;
    }
  }
  if (parts.size() != 4) return std::nullopt;
  auto level = ParseAccessLevel(parts[0]);
  int iterations = 0;
  std::from_chars(parts[1].data(), parts[1].data() + parts[1].size(), iterations);
  if (!level || iterations <= 0) return std::nullopt;
  return UserRecord{*level, iterations, parts[2], parts[3]};
}

Status UnknownOrWrong() {
  // One message for both, so a caller cannot probe which users exist.
  return Status::Unauthenticated("login failed: unknown user or wrong password");
}

}  // namespace

std::string_view AccessLevelName(AccessLevel level) {
  switch (level) {
    case AccessLevel::kNone:
      return "none";
    case AccessLevel::kRead:
      return "read";
    case AccessLevel::kWrite:
      return "write";
    case AccessLevel::kService:
      return "service";
    case AccessLevel::kSuper:
      return "super";
  }
  return "none";
}

std::optional<AccessLevel> ParseAccessLevel(std::string_view name) {
  for (AccessLevel l :
       {AccessLevel::kRead, AccessLevel::kWrite, AccessLevel::kService, AccessLevel::kSuper}) {
    if (AccessLevelName(l) == name) return l;
  }
  return std::nullopt;
}

bool LevelAllows(AccessLevel have, AccessLevel need) {
  if (have == AccessLevel::kSuper) return true;
  if (need == AccessLevel::kService) return have == AccessLevel::kService;
  if (have == AccessLevel::kService) return need == AccessLevel::kRead;
  if (need == AccessLevel::kSuper) return false;
  return static_cast<int>(have) >= static_cast<int>(need);
}

Result<Transaction> MakeUserTransaction(const Tables& tables, std::string_view name,
                                        AccessLevel level, std::string_view password) {
  bool control =
      std::any_of(name.begin(), name.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; });
  if (name.empty() || name.size() > 256 || control ||
      name.find_first_of(": ") != std::string_view::npos) {
    return Status::InvalidArgument(
        "bad user name: 1 to 256 characters, no spaces, ':' or control characters");
  }
  if (password.empty()) return Status::InvalidArgument("empty password");
  TANDEM_ASSIGN_OR_RETURN(std::string salt, RandomHex(16));
  std::string value = std::string(AccessLevelName(level)) + ":" + std::to_string(kIterations) +
                      ":" + salt + ":" + Pbkdf2(password, salt, kIterations);
  Transaction txn;
  if (!tables.Get(kAuthTable, kSecretKey)) {
    TANDEM_ASSIGN_OR_RETURN(std::string secret, RandomHex(32));
    txn.ops.push_back(Op::Put(std::string(kAuthTable), std::string(kSecretKey), secret));
  }
  txn.ops.push_back(Op::Put(std::string(kUserTable), std::string(name), value));
  return txn;
}

bool HasUsers(const Tables& tables) { return tables.HasRows(kUserTable); }

Status LoginThrottle::Check(std::string_view user, Clock::time_point now) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(user);
  if (it == entries_.end() || now >= it->second.until) return Status::Ok();
  auto wait = std::chrono::duration_cast<std::chrono::seconds>(it->second.until - now).count() + 1;
  return Status::Unavailable("too many failed logins for this user; try again in " +
                             std::to_string(wait) + " s");
}

void LoginThrottle::Failed(std::string_view user, Clock::time_point now) {
  std::lock_guard lock(mu_);
  if (entries_.size() >= kMaxEntries && entries_.find(user) == entries_.end()) {
    std::erase_if(entries_, [&](const auto& e) { return e.second.until <= now; });
    if (entries_.size() >= kMaxEntries) {
      // The back-off that ends soonest goes: a guesser who floods the table
      // with new names to clear its own long back-off clears only theirs.
      entries_.erase(std::min_element(
          entries_.begin(), entries_.end(),
          [](const auto& a, const auto& b) { return a.second.until < b.second.until; }));
    }
  }
  Entry& e = entries_[std::string(user)];
  ++e.failures;
  if (e.failures >= 5) {
    int doublings = std::min(e.failures - 5, 6);
    e.until = now + std::min(std::chrono::seconds(1 << doublings), std::chrono::seconds(60));
  }
}

void LoginThrottle::Succeeded(std::string_view user) {
  std::lock_guard lock(mu_);
  if (auto it = entries_.find(user); it != entries_.end()) entries_.erase(it);
}

Status MarkSecured(const RootLayout& layout) {
  if (IsMarkedSecured(layout)) return Status::Ok();
  return WriteFileDurably(layout.secured_marker(),
                          "users exist or existed here: every command but login needs a ticket\n");
}

bool IsMarkedSecured(const RootLayout& layout) { return PathExists(layout.secured_marker()); }

Result<Identity> CheckPassword(const Tables& tables, std::string_view user,
                               std::string_view password) {
  auto rec = LoadUser(tables, user);
  if (!rec) {
    // The same work as for a real user, so that timing does not tell
    // which names exist.
    (void)Pbkdf2(password, "not-a-user-salt", kIterations);
    return UnknownOrWrong();
  }
  if (!ConstantTimeEqual(Pbkdf2(password, rec->salt, rec->iterations), rec->hash)) {
    return UnknownOrWrong();
  }
  return Identity{std::string(user), rec->level};
}

Result<std::string> IssueTicket(const Tables& tables, std::string_view user, int64_t now,
                                int64_t lifetime_seconds) {
  auto rec = LoadUser(tables, user);
  auto secret = tables.Get(kAuthTable, kSecretKey);
  if (!rec || !secret) return UnknownOrWrong();
  std::string expiry = std::to_string(now + lifetime_seconds);
  std::string body = std::string(user) + ":" + expiry;
  return body + ":" + Mac(*secret, body + ":" + rec->salt);
}

Result<Identity> CheckTicket(const Tables& tables, std::string_view user, std::string_view ticket,
                             int64_t now) {
  if (ticket.empty()) {
    return Status::Unauthenticated("login required: run 'tandem -u USER login' first");
  }
  auto rec = LoadUser(tables, user);
  auto secret = tables.Get(kAuthTable, kSecretKey);
  auto last = ticket.rfind(':');
  auto first = ticket.find(':');
  if (!rec || !secret || last == std::string_view::npos || first == last ||
      ticket.substr(0, first) != user) {
    return Status::Unauthenticated("invalid ticket for user '" + std::string(user) +
                                   "'; log in again");
  }
  std::string_view body = ticket.substr(0, last);
  if (!ConstantTimeEqual(Mac(*secret, std::string(body) + ":" + rec->salt),
                         ticket.substr(last + 1))) {
    return Status::Unauthenticated("invalid ticket for user '" + std::string(user) +
                                   "'; log in again");
  }
  int64_t expiry = 0;
  std::string_view exp_text = ticket.substr(first + 1, last - first - 1);
  std::from_chars(exp_text.data(), exp_text.data() + exp_text.size(), expiry);
  if (expiry <= now) {
    return Status::Unauthenticated("ticket for user '" + std::string(user) +
                                   "' has expired; log in again");
  }
  return Identity{std::string(user), rec->level};
}

}  // namespace tandem
