// Users, access levels, password hashes and tickets.
//
// Users live in the replicated `user` table (key = name, value =
// "LEVEL:ITERATIONS:SALT_HEX:HASH_HEX", PBKDF2-HMAC-SHA256), so every server in
// a cluster knows the same users. A ticket is "USER:EXPIRY:MAC_HEX", where MAC
// is HMAC-SHA256 under a secret in the replicated `auth` table over user,
// expiry and the user's salt: any server of the cluster can check it without
// shared session state, and changing a password invalidates old tickets.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "journal/engine.h"
#include "journal/status.h"

namespace tandem {

inline constexpr std::string_view kUserTable = "user";
inline constexpr std::string_view kAuthTable = "auth";
inline constexpr std::string_view kCfgTicketTimeout = "ticket.timeout";  // seconds

enum class AccessLevel { kNone = 0, kRead, kWrite, kService, kSuper };

std::string_view AccessLevelName(AccessLevel level);
std::optional<AccessLevel> ParseAccessLevel(std::string_view name);
// Whether a user at `have` may run a command that needs `need`. Service users
// may read and run service commands; super may do everything.
bool LevelAllows(AccessLevel have, AccessLevel need);

struct Identity {
  std::string user;
  AccessLevel level = AccessLevel::kNone;
};

// The transaction that creates or replaces a user (and, for the first user,
// the ticket secret). `tables` is consulted for the existing secret.
Result<Transaction> MakeUserTransaction(const Tables& tables, std::string_view name,
                                        AccessLevel level, std::string_view password);

bool HasUsers(const Tables& tables);

// ROOT/secured: once a root has had users, or replicates from a secured
// master, it stays secured. No loopback client ever gets super access
// without a ticket because its tables happen to be empty (a reseed, a seed
// still under way). Removing the file by hand is the only way back.
Status MarkSecured(const RootLayout& layout);
bool IsMarkedSecured(const RootLayout& layout);
// Slows password guessing: from the 5th failed login for a key (the login
// handler uses user@address) on, the next attempt waits 1 s, doubling with
// each failure up to 60 s; a good password clears it. Refusals are answers,
// not sleeps, so no thread waits. Kept per server process for at most 10000
// keys.
class LoginThrottle {
 public:
  using Clock = std::chrono::steady_clock;
  // Ok, or why `user` must wait (Unavailable, saying how long).
  Status Check(std::string_view user, Clock::time_point now);
  void Failed(std::string_view user, Clock::time_point now);
  void Succeeded(std::string_view user);

 private:
  struct Entry {
    int failures = 0;
    Clock::time_point until;
  };
  static constexpr size_t kMaxEntries = 10000;
  std::mutex mu_;
  std::map<std::string, Entry, std::less<>> entries_;
};

// Checks a password; returns the user's identity.
Result<Identity> CheckPassword(const Tables& tables, std::string_view user,
                               std::string_view password);
Result<std::string> IssueTicket(const Tables& tables, std::string_view user, int64_t now,
                                int64_t lifetime_seconds);
Result<Identity> CheckTicket(const Tables& tables, std::string_view user, std::string_view ticket,
                             int64_t now);

}  // namespace tandem
