// A blocking client connection: send a Request, wait for its Response.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "journal/address.h"
#include "journal/status.h"
#include "transport/message.h"

namespace tandem {

struct ClientOptions {
  // For ssl: addresses, the file of pinned fingerprints (see transport/tls.h).
  std::string trust_file;
  // Accept and record a server fingerprint not seen before (`tandem trust -y`).
  bool trust_new = false;
  // Accept a fingerprint not seen before without recording it: for a probe
  // that sends nothing secret (`hello`), so that no stranger's key is pinned.
  bool accept_unknown = false;
  // A peer that has not accepted the connection (and the TLS handshake) by
  // then is unreachable: dead, or behind a black hole.
  std::chrono::milliseconds connect_timeout{5000};
  // Every send and read afterwards, unless given its own (0: no limit).
  std::chrono::milliseconds io_timeout{0};
  // The local IP address to connect from (a server's net.source); empty:
  // the kernel chooses.
  std::string source;
};

class Client {
 public:
  static Result<std::unique_ptr<Client>> Connect(const Address& address,
                                                 const ClientOptions& options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Sends one request and waits for its response. A transport failure comes
  // back as a Status; a command failure as Response::status.
  Result<Response> Call(const Request& request);
  // The same, but a peer that has not answered within `timeout` (hung,
  // stopped, partitioned) fails the call and the connection is shut down.
  Result<Response> Call(const Request& request, std::chrono::milliseconds timeout);
  // For streams that take over the connection after a request. A read that
  // gets nothing within its timeout fails with Code::kTimeout, and the
  // connection is of no further use.
  Status SendFrame(MessageType type, std::string_view body);
  Result<std::pair<MessageType, std::string>> ReadFrame();
  Result<std::pair<MessageType, std::string>> ReadFrame(std::chrono::milliseconds timeout);
  void SetIoTimeout(std::chrono::milliseconds timeout);
  // Bytes that can be read without blocking (0 for TLS, which buffers).
  size_t Available();
  // Unblocks a ReadFrame in another thread by closing the socket.
  void Shutdown();

  // Sends bytes as they are (tests of the server's handling of bad input).
  Status SendRaw(std::string_view bytes);
  // True once the server has closed the connection.
  bool PeerClosed();

  const std::string& server_fingerprint() const { return fingerprint_; }

 private:
  struct Impl;
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::string fingerprint_;
};

}  // namespace tandem
