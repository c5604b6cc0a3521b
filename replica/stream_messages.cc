#include "replica/stream_messages.h"

#include "journal/coding.h"

namespace tandem {
namespace {

void PutPosition(std::string* out, Position p) {
  PutFixed32(out, p.journal);
  PutFixed64(out, p.offset);
}

bool GetPosition(Decoder* d, Position* p) {
  return d->GetFixed32(&p->journal) && d->GetFixed64(&p->offset);
}

}  // namespace

std::string EncodeJournalDataHeader(const JournalData& d) {
  std::string out;
  PutPosition(&out, d.at);
  PutPosition(&out, d.durable);
  PutPosition(&out, d.release);
  PutFixed32(&out, d.epoch.value);
  return out;
}

std::string EncodeJournalData(const JournalData& d) {
  std::string out = EncodeJournalDataHeader(d);
  out.append(d.bytes);
  return out;
}

Result<JournalData> DecodeJournalData(std::string_view body) {
  Decoder d(body);
  JournalData out;
  if (!GetPosition(&d, &out.at) || !GetPosition(&d, &out.durable) ||
      !GetPosition(&d, &out.release) || !d.GetFixed32(&out.epoch.value)) {
    return Status::Corruption("malformed journal data header");
  }
  d.GetBytes(d.remaining(), &out.bytes);
  return out;
}

std::string EncodeJournalAck(const JournalAck& a) {
  std::string out;
  PutPosition(&out, a.flushed);
  PutPosition(&out, a.applied);
  PutFixed32(&out, a.frames);
  PutFixed64(&out, a.backlog_files);
  PutFixed64(&out, a.backlog_bytes);
  PutPosition(&out, a.written);
  return out;
}

Result<JournalAck> DecodeJournalAck(std::string_view body) {
  Decoder d(body);
  JournalAck a;
  if (!GetPosition(&d, &a.flushed) || !GetPosition(&d, &a.applied) || !d.GetFixed32(&a.frames) ||
      !d.GetFixed64(&a.backlog_files) || !d.GetFixed64(&a.backlog_bytes) ||
      !GetPosition(&d, &a.written) || !d.empty()) {
    return Status::Corruption("malformed journal ack");
  }
  return a;
}

}  // namespace tandem
