// The journal stream between an upstream server and a downstream one.
//
// JournalData (upstream -> downstream), body:
//   u32 journal, u64 offset          where `bytes` start in that journal
//   u32 durable_journal, u64 durable_offset   the upstream's durable position
//   u32 release_journal, u64 release_offset   the upstream's release position
//   u32 epoch
//   bytes (the rest): journal bytes, unchanged
// An empty JournalData is a heartbeat carrying fresh positions.
//
// JournalAck (downstream -> upstream), body:
//   u32 journal, u64 offset   flushed: journalcopied and synced (durable there)
//   u32 journal, u64 offset   applied (pull -L) position
//   u32 frames                how many JournalData frames this acknowledges
//   u64 files, u64 bytes      its pull -u backlog (archive content still to fetch)
//   u32 journal, u64 offset   written: journalcopied, perhaps not yet synced
// flushed <= written <= what was sent, and applied <= written.
#pragma once

#include <string>
#include <string_view>

#include "journal/position.h"
#include "journal/status.h"

namespace tandem {

struct JournalData {
  Position at;
  Position durable;
  Position release;
  Epoch epoch;
  std::string_view bytes;  // points into the frame it was decoded from
};

inline constexpr size_t kJournalDataHeaderSize = 40;

struct JournalAck {
  Position flushed;  // durable on the downstream server: only this may gate release
  Position applied;
  uint32_t frames = 1;
  uint64_t backlog_files = 0;
  uint64_t backlog_bytes = 0;
  Position written;
};

// The frame body header; the journal bytes follow it unchanged.
std::string EncodeJournalDataHeader(const JournalData& d);
std::string EncodeJournalData(const JournalData& d);
Result<JournalData> DecodeJournalData(std::string_view body);
std::string EncodeJournalAck(const JournalAck& a);
Result<JournalAck> DecodeJournalAck(std::string_view body);

}  // namespace tandem
