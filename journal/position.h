// Positions and epochs are distinct types so that a byte offset can never be
// passed where an epoch or a journal number is expected.
#pragma once

#include <compare>
#include <cstdint>
#include <string>

namespace tandem {

// (journal number, sequence): sequence is the byte offset inside journal N.
// A transaction's position is the offset just past its record, so "the
// durable position is P" means every byte before P is on disk.
struct Position {
  uint32_t journal = 0;
  uint64_t offset = 0;

  auto operator<=>(const Position&) const = default;
  // "Journal N, Sequence S", as Helix prints it.
  std::string ToString() const;
  // "N/S", the compact token used in state files and logs.
  std::string Token() const;
  static bool ParseToken(const std::string& token, Position* out);
};

// Grows by one at each failover. Stored in every record header.
struct Epoch {
  uint32_t value = 1;
  auto operator<=>(const Epoch&) const = default;
};

}  // namespace tandem
