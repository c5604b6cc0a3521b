#include "journal/transaction.h"

#include "journal/coding.h"

namespace tandem {

std::string EncodeTransaction(const Transaction& txn) {
  std::string out;
  PutFixed32(&out, static_cast<uint32_t>(txn.ops.size()));
  for (const Op& op : txn.ops) {
    out.push_back(static_cast<char>(op.kind));
    PutLengthPrefixed(&out, op.table);
    PutLengthPrefixed(&out, op.key);
    if (op.kind == Op::Kind::kPut) PutLengthPrefixed(&out, op.value);
  }
  return out;
}

Result<Transaction> DecodeTransaction(std::string_view payload) {
  Decoder d(payload);
  uint32_t count;
  if (!d.GetFixed32(&count)) return Status::Corruption("transaction payload: missing op count");
  // Each op takes at least 3 bytes, so a count beyond that is a lie; refuse it
  // before reserving memory for it.
  if (count > payload.size() / 3)
    return Status::Corruption("transaction payload: op count too large");
  Transaction txn;
  txn.ops.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    std::string_view kind_byte, table, key, value;
    if (!d.GetBytes(1, &kind_byte)) return Status::Corruption("transaction payload: truncated op");
    auto kind = static_cast<Op::Kind>(kind_byte[0]);
    if (kind != Op::Kind::kPut && kind != Op::Kind::kDelete) {
      return Status::Corruption("transaction payload: unknown op kind " +
                                std::to_string(static_cast<int>(kind_byte[0])));
    }
    if (!d.GetLengthPrefixed(&table) || !d.GetLengthPrefixed(&key) ||
        (kind == Op::Kind::kPut && !d.GetLengthPrefixed(&value))) {
      return Status::Corruption("transaction payload: truncated op " + std::to_string(i));
    }
    txn.ops.push_back(Op{kind, std::string(table), std::string(key), std::string(value)});
  }
  if (!d.empty()) return Status::Corruption("transaction payload: trailing bytes");
  return txn;
}

}  // namespace tandem
