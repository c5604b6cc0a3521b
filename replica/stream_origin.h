// Where a journal stream comes from: the master's own journals (through its
// ReplicationHub) or, when cascading, a standby's or replica's journals.rep.
#pragma once

#include <memory>
#include <string>

#include "journal/position.h"
#include "journal/table_set.h"
#include "replica/stream_messages.h"

namespace tandem {

// Something an origin wakes when its positions move.
class StreamListener {
 public:
  virtual ~StreamListener() = default;
  virtual void OnPositions() = 0;
  // Ends the stream with `reason` (the origin will not serve it any more).
  virtual void Close(const std::string& reason) = 0;
};

class StreamOrigin {
 public:
  virtual ~StreamOrigin() = default;
  // Bytes up to here exist and may go to a standby's journalcopy.
  virtual Position durable() const = 0;
  // A replica gets bytes only up to here; every downstream applies only up to here.
  virtual Position release() const = 0;
  virtual Epoch epoch() const = 0;
  // A master's epoch is its own; a cascading server's is only the last it
  // heard from its upstream.
  virtual bool is_master() const { return false; }
  // This server's own ServerID: it never streams to itself.
  virtual const std::string& server_id() const = 0;
  // The replicated tables (server specs are checked against them).
  virtual const Tables& tables() const = 0;
  // The file that holds journal n, or NotFound when it is not retained.
  virtual Result<std::string> JournalPath(uint32_t n) const = 0;
  virtual void Attach(const std::string& id, std::shared_ptr<StreamListener> listener) = 0;
  virtual void Detach(const std::string& id, const StreamListener* listener) = 0;
  virtual void OnAck(const std::string& id, const JournalAck& ack) = 0;
  // Ok while this origin may serve journal streams; why not otherwise (a
  // fenced master, Code::kFenced).
  virtual Status Serving() const { return Status::Ok(); }
  // Downstream server `id` listens at `address`, and its spec names no
  // Address: a master records it, so that it can later ask that server
  // whether it has become a newer master (failover/newer_master_probe.h).
  virtual void LearnAddress(const std::string& id, const std::string& address) {
    (void)id;
    (void)address;
  }
};

}  // namespace tandem
