// Micro-benchmarks of the journal engine. Figures and the machine's limits
// measured the same day are in bench/RESULTS.md.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>
#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>

#include "journal/checkpoint.h"
#include "journal/engine.h"
#include "journal/file.h"
#include "journal/record.h"
#include "journal/transaction.h"

namespace tandem {
namespace {

std::string ScratchDir(const char* name) {
  std::string dir = "/tmp/tandem-bench-" + std::string(name) + "-" + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  return dir;
}

Transaction HundredByteTxn(uint64_t i) {
  // ~100 bytes of payload: table, 16-byte key, 70-byte value.
  return {{Op::Put("bench", "key-" + std::to_string(1000000000000 + i), std::string(70, 'v'))}};
}

void BM_RecordEncode(benchmark::State& state) {
  std::string payload(static_cast<size_t>(state.range(0)), 'p');
  std::string out;
  for (auto _ : state) {
    out.clear();
    EncodeRecord(RecordType::kTransaction, 0, Epoch{1}, 42, payload, &out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_RecordEncode)->Arg(100)->Arg(4096);

void BM_RecordDecode(benchmark::State& state) {
  std::string buf;
  EncodeRecord(RecordType::kTransaction, 0, Epoch{1}, 42,
               std::string(static_cast<size_t>(state.range(0)), 'p'), &buf);
  Record rec;
  for (auto _ : state) {
    benchmark::DoNotOptimize(ParseRecord(buf, &rec).size);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_RecordDecode)->Arg(100)->Arg(4096);

void BM_Xxh3(benchmark::State& state) {
  std::string data(static_cast<size_t>(state.range(0)), 'x');
  for (auto _ : state) benchmark::DoNotOptimize(XXH3_64bits(data.data(), data.size()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Xxh3)->Arg(128)->Arg(1 << 20);

// The engine shared by the threads of one JournalAppend run.
std::mutex g_mu;
std::unique_ptr<Engine> g_engine;
std::string g_dir;

// Commits from state.threads() committers at once: the group-commit path.
void BM_JournalAppend(benchmark::State& state) {
  bool fsync = state.range(0) != 0;
  if (state.thread_index() == 0) {
    g_dir = ScratchDir("append");
    g_engine = std::move(Engine::Open({g_dir, fsync})).value();
  }
  // Google Benchmark synchronizes threads after setup by thread 0.
  uint64_t i = static_cast<uint64_t>(state.thread_index()) << 40;
  for (auto _ : state) {
    auto pos = g_engine->Commit(HundredByteTxn(i++));
    if (!pos.ok()) state.SkipWithError(pos.status().ToString().c_str());
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    state.counters["journal_MB"] = static_cast<double>(g_engine->durable().offset) / (1 << 20);
  }
}
BENCHMARK(BM_JournalAppend)
    ->Arg(0)
    ->Arg(1)
    ->ThreadRange(1, 64)
    ->UseRealTime()
    ->Teardown([](const benchmark::State&) {
      g_engine.reset();
      std::filesystem::remove_all(g_dir);
    });

// One thread keeps state.range(1) commits in flight through CommitAsync, as
// tandemd does for its connections: the engine's own capacity, without a
// thread wake-up per commit.
void BM_JournalAppendAsync(benchmark::State& state) {
  bool fsync = state.range(0) != 0;
  const int window = static_cast<int>(state.range(1));
  std::string dir = ScratchDir("async");
  auto engine = std::move(Engine::Open({dir, fsync})).value();
  std::mutex mu;
  std::condition_variable cv;
  int inflight = 0;
  std::atomic<uint64_t> failures{0};
  uint64_t i = 0;
  auto done = [&](const Status& st, Position) {
    if (!st.ok()) ++failures;
    std::lock_guard lock(mu);
    if (--inflight == window - 1 || inflight == 0) cv.notify_one();
  };
  for (auto _ : state) {
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return inflight < window; });
      ++inflight;
    }
    engine->CommitAsync(HundredByteTxn(i++), done);
  }
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return inflight == 0; });
  if (failures > 0) state.SkipWithError("commit failed");
  state.SetItemsProcessed(state.iterations());
  state.counters["journal_MB_per_s"] = benchmark::Counter(
      static_cast<double>(engine->durable().offset) / (1 << 20), benchmark::Counter::kIsRate);
  lock.unlock();
  engine.reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_JournalAppendAsync)->Args({0, 64})->Args({1, 64})->Args({1, 1024})->UseRealTime();

// fdatasync cost after a small write: growing file vs preallocated space.
void BM_Fdatasync(benchmark::State& state) {
  bool prealloc = state.range(0) != 0;
  std::string dir = ScratchDir("sync");
  std::filesystem::create_directories(dir);
  auto f = std::move(File::Open(dir + "/f", O_RDWR | O_CREAT)).value();
  if (prealloc) (void)f.Allocate(0, 512ull << 20);
  std::string block(200, 'x');
  uint64_t off = 0;
  for (auto _ : state) {
    (void)f.PWriteAll(block, off);
    (void)f.DataSync();
    off += block.size();
  }
  state.SetLabel(prealloc ? "preallocated" : "appending");
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_Fdatasync)->Arg(0)->Arg(1)->UseRealTime();

TableSet ManyRows(int rows) {
  TableSet t;
  for (int i = 0; i < rows; ++i) t.Apply(HundredByteTxn(static_cast<uint64_t>(i)));
  return t;
}

// The writer thread's apply of one put to a table of range(0) rows, the row
// already there (tandem-bench put's steady state): the lookup, the two row
// hashes of the checksum, the value's assignment.
void BM_ApplyUpdate(benchmark::State& state) {
  auto rows = static_cast<uint64_t>(state.range(0));
  TableSet tables;
  for (uint64_t i = 0; i < rows; ++i) tables.Apply(Op::Put("bench", "k" + std::to_string(i), "v"));
  std::string value(100, 'v');
  uint64_t n = 0;
  for (auto _ : state) {
    tables.Apply(Op::Put("bench", "k" + std::to_string((n++ * 7919) % rows), value));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_ApplyUpdate)->Arg(1000)->Arg(100000)->Arg(1000000);

void BM_CheckpointWrite(benchmark::State& state) {
  TableSet tables = ManyRows(static_cast<int>(state.range(0)));
  std::string dir = ScratchDir("ckpw");
  std::filesystem::create_directories(dir);
  uint64_t raw = 0;
  for (const auto& [name, t] : tables.tables()) {
    for (const auto& [k, v] : t.rows) raw += k.size() + v.size();
  }
  for (auto _ : state) {
    auto size = WriteCheckpoint(dir + "/ckp.1.gz", {1, Epoch{1}, 1}, tables);
    if (!size.ok()) state.SkipWithError(size.status().ToString().c_str());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * raw));
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_CheckpointWrite)->Arg(200000)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_CheckpointRestore(benchmark::State& state) {
  TableSet tables = ManyRows(static_cast<int>(state.range(0)));
  std::string dir = ScratchDir("ckpr");
  std::filesystem::create_directories(dir);
  (void)WriteCheckpoint(dir + "/ckp.1.gz", {1, Epoch{1}, 1}, tables);
  uint64_t raw = 0;
  for (const auto& [name, t] : tables.tables()) {
    for (const auto& [k, v] : t.rows) raw += k.size() + v.size();
  }
  for (auto _ : state) {
    auto loaded = ReadCheckpoint(dir + "/ckp.1.gz");
    if (!loaded.ok()) state.SkipWithError(loaded.status().ToString().c_str());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * raw));
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_CheckpointRestore)->Arg(200000)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace tandem

BENCHMARK_MAIN();
