#include "tools/machine_limits.h"

#include <fcntl.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <chrono>
#include <thread>

#include "journal/file.h"

namespace tandem {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

Result<double> SyncRate(const std::string& path, bool preallocate, double seconds) {
  ::unlink(path.c_str());
  TANDEM_ASSIGN_OR_RETURN(File f, File::Open(path, O_RDWR | O_CREAT | O_TRUNC));
  if (preallocate) TANDEM_RETURN_IF_ERROR(f.Allocate(0, 256ull << 20));
  std::string block(4096, 'x');
  uint64_t n = 0;
  auto start = Clock::now();
  while (Since(start) < seconds) {
    TANDEM_RETURN_IF_ERROR(f.PWriteAll(block, n * block.size()));
    TANDEM_RETURN_IF_ERROR(f.DataSync());
    ++n;
  }
  double rate = static_cast<double>(n) / Since(start);
  ::unlink(path.c_str());
  return rate;
}

}  // namespace

Result<DiskLimits> MeasureDisk(const std::string& dir, double seconds) {
  DiskLimits out;
  std::string path = dir + "/.tandem-limits.tmp";
  TANDEM_ASSIGN_OR_RETURN(out.fdatasync_per_sec_preallocated, SyncRate(path, true, seconds));
  TANDEM_ASSIGN_OR_RETURN(out.fdatasync_per_sec_appending, SyncRate(path, false, seconds));

  // Sequential bandwidth exactly as `dd bs=1M count=1024 conv=fdatasync` measures it.
  TANDEM_ASSIGN_OR_RETURN(File f, File::Open(path, O_RDWR | O_CREAT | O_TRUNC));
  std::string chunk(1 << 20, 'y');
  constexpr uint64_t kTotal = 1ull << 30;
  auto start = Clock::now();
  for (uint64_t written = 0; written < kTotal; written += chunk.size()) {
    TANDEM_RETURN_IF_ERROR(f.PWriteAll(chunk, written));
  }
  TANDEM_RETURN_IF_ERROR(f.DataSync());
  out.seq_write_mb_per_sec = static_cast<double>(kTotal) / (1 << 20) / Since(start);
  ::unlink(path.c_str());
  return out;
}

Result<double> MeasureLoopbackMBps(uint64_t bytes) {
  asio::io_context io;
  boost::system::error_code ec;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  tcp::socket server(io), client(io);
  std::thread accept([&] { acceptor.accept(server, ec); });
  client.connect(acceptor.local_endpoint(), ec);
  accept.join();
  if (ec) return Status::Unavailable("loopback probe: " + ec.message());
  std::string chunk(1 << 20, 'z');
  auto start = Clock::now();
  std::thread sender([&] {
    boost::system::error_code wec;
    for (uint64_t sent = 0; sent < bytes && !wec; sent += chunk.size()) {
      asio::write(client, asio::buffer(chunk), wec);
    }
  });
  std::string sink(1 << 20, '\0');
  uint64_t got = 0;
  while (got < bytes) {
    size_t n = server.read_some(asio::buffer(sink), ec);
    if (ec) break;
    got += n;
  }
  sender.join();
  return static_cast<double>(got) / (1 << 20) / Since(start);
}

}  // namespace tandem
