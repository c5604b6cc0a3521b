// Clients writing distinct keys to whichever server answers as the master of
// the highest epoch, as a client that follows failovers would, and keeping
// the record the checks need: every key sent, and every key acknowledged
// with the server and epoch that acknowledged it.
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace tandem::chaos {

struct Ack {
  std::string server;  // address
  uint32_t epoch = 0;
};

class Load {
 public:
  // `addresses`: every server, as clients reach them.
  Load(std::vector<std::string> addresses, int clients);
  ~Load();
  void Stop();

  // Valid after Stop().
  const std::set<std::string>& attempted() const { return attempted_; }
  const std::map<std::string, Ack>& acked() const { return acked_; }

 private:
  void Client(int id);
  std::vector<std::string> addresses_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::set<std::string> attempted_;
  std::map<std::string, Ack> acked_;
  std::vector<std::thread> threads_;
};

}  // namespace tandem::chaos
