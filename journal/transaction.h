// A transaction: an ordered list of put/delete operations on named tables,
// committed as one journal record.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "journal/status.h"

namespace tandem {

struct Op {
  enum class Kind : uint8_t { kPut = 1, kDelete = 2 };
  Kind kind = Kind::kPut;
  std::string table;
  std::string key;
  std::string value;  // empty for deletes

  static Op Put(std::string table, std::string key, std::string value) {
    return {Kind::kPut, std::move(table), std::move(key), std::move(value)};
  }
  static Op Delete(std::string table, std::string key) {
    return {Kind::kDelete, std::move(table), std::move(key), {}};
  }
  bool operator==(const Op&) const = default;
};

struct Transaction {
  std::vector<Op> ops;
  bool operator==(const Transaction&) const = default;
};

std::string EncodeTransaction(const Transaction& txn);
Result<Transaction> DecodeTransaction(std::string_view payload);

}  // namespace tandem
