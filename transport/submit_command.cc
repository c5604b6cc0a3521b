#include "transport/submit_command.h"

#include <atomic>
#include <cstdlib>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include "journal/archive_store.h"
#include "journal/fault_point.h"
#include "journal/numbers.h"
#include "transport/archive_commands.h"
#include "transport/content_protocol.h"

namespace tandem {
namespace {

struct Depot {
  Depot(Engine* e, const Dispatcher* d)
      : engine(e), archive(e->layout().root() + "/archive"), dispatcher(d) {}
  Engine* engine;
  ArchiveStore archive;
  const Dispatcher* dispatcher;

  // Revision and change numbers. The tables change only once a commit is
  // durable, so numbers handed to commits still in the writer's queue are
  // remembered here; that lets concurrent submits share one fsync.
  std::mutex mu;
  uint64_t last_change = 0;
  std::map<std::string, uint64_t, std::less<>> last_rev;  // depot path -> highest handed out
};

// A counter kept in a table; a row that does not parse stops submits rather
// than reusing numbers.
Result<uint64_t> Number(const Tables& tables, std::string_view table, const std::string& key) {
  auto text = tables.Get(table, key);
  if (!text) return uint64_t{0};
  if (auto v = ParseDecimal<uint64_t>(*text)) return *v;
  return Status::Corruption("table '" + std::string(table) + "' row '" + key +
                            "' is not a number: '" + text->substr(0, 32) + "'");
}

// Numbers are handed out, and the commit queued, under the lock, so the
// journal holds them in order; the answer comes from the commit's callback
// (durable, then released under commit.wait=mandatory), holding no thread
// while it waits.
void CommitRevision(Depot* depot, const std::string& path, const ArchiveEntry& entry,
                    std::function<void(Response)> done) {
  std::lock_guard lock(depot->mu);
  const Tables& tables = depot->engine->tables();
  auto head = Number(tables, kHeadTable, path);
  auto counter = Number(tables, kCounterTable, "change");
  if (!head.ok()) return done(Response::Error(head.status()));
  if (!counter.ok()) return done(Response::Error(counter.status()));
  uint64_t& last_rev = depot->last_rev[path];
  uint64_t rev = std::max(last_rev, *head) + 1;
  uint64_t change = std::max(depot->last_change, *counter) + 1;
  std::string value = entry.md5 + " " + std::to_string(entry.size) + " " +
                      std::to_string(NowSeconds()) + " " + std::to_string(change);
  Row answer = {{"change", std::to_string(change)},
                {"depotFile", path},
                {"rev", std::to_string(rev)},
                {"digest", entry.md5},
                {"fileSize", std::to_string(entry.size)}};
  // A refusal (a paused master) answers before CommitAsync returns: the
  // numbers stay free for the next submit. The callback may also run much
  // later, on the writer thread, so what it shares lives on the heap.
  struct Answer {
    std::atomic<bool> queueing{true};
    std::atomic<bool> refused_at_once{false};
  };
  auto state = std::make_shared<Answer>();
  depot->engine->CommitAsync(
      {{Op::Put(std::string(kRevTable), RevisionKey(path, rev), value),
        Op::Put(std::string(kHeadTable), path, std::to_string(rev)),
        Op::Put(std::string(kCounterTable), "change", std::to_string(change))}},
      [done = std::move(done), answer = std::move(answer), state](const Status& st, Position) {
        if (!st.ok() && state->queueing.load()) state->refused_at_once = true;
        done(st.ok() ? Response::Rows({answer}) : Response::Error(st));
      });
  state->queueing = false;
  if (!state->refused_at_once.load()) {
    last_rev = rev;
    depot->last_change = change;
  }
  if (depot->last_rev.size() > 4096) {  // forget paths whose revision is durable
    std::erase_if(depot->last_rev, [&](const auto& p) {
      auto durable = Number(tables, kHeadTable, p.first);
      return durable.ok() && p.second <= *durable;
    });
  }
}

// One upload. Frames arrive on the connection's strand; the disk work runs
// on the blocking executor, one chunk after another.
class Upload : public Stream, public std::enable_shared_from_this<Upload> {
 public:
  Upload(Depot* depot, std::string path, uint64_t size, std::unique_ptr<ArchiveWriter> writer)
      : depot_(depot), path_(std::move(path)), size_(size), writer_(std::move(writer)) {}

  void Start(std::shared_ptr<FrameSink> sink) override {
    sink_ = std::move(sink);
    if (size_ == 0) Schedule();
  }

  Status OnFrame(MessageType type, std::string_view body) override {
    if (type != MessageType::kContent) {
      return Status::Corruption("frame type " + std::to_string(static_cast<int>(type)) +
                                " during an upload");
    }
    std::lock_guard lock(mu_);
    if (ended_) return Status::Ok();  // the answer is on its way to the client
    if (chunks_.size() >= kUploadWindow) {
      return Status::Corruption("upload sent more than " + std::to_string(kUploadWindow) +
                                " chunks ahead of the acknowledgements");
    }
    if (body.size() > kContentChunk) {
      return Status::Corruption("upload chunk of " + std::to_string(body.size()) +
                                " bytes; the most is " + std::to_string(kContentChunk));
    }
    if (received_ + body.size() > size_) {
      failure_ = Status::InvalidArgument("upload is longer than the " + std::to_string(size_) +
                                         " bytes it declared");
    } else {
      received_ += body.size();
      chunks_.emplace_back(body);
    }
    if (!draining_) ScheduleLocked();
    return Status::Ok();
  }

  void OnClose() override {
    std::lock_guard lock(mu_);
    closed_ = true;
    chunks_.clear();
  }

 private:
  void Schedule() {
    std::lock_guard lock(mu_);
    ScheduleLocked();
  }
  void ScheduleLocked() {
    draining_ = true;
    depot_->dispatcher->RunBlocking([self = shared_from_this()] { self->Drain(); });
  }

  void Drain() {
    for (;;) {
      std::string chunk;
      {
        std::lock_guard lock(mu_);
        if (closed_) {  // abandoned: the writer's temp file goes with it
          writer_.reset();
          return;
        }
        if (!failure_.ok()) break;
        if (chunks_.empty() && written_ < size_) {
          draining_ = false;
          return;
        }
        if (!chunks_.empty()) {
          chunk = std::move(chunks_.front());
          chunks_.pop_front();
        }
      }
      if (written_ == size_) return Commit();
      if (Status st = writer_->Append(chunk); !st.ok()) {
        return End(Response::Error(st.Annotate("archive write")));
      }
      written_ += chunk.size();
      if (auto sink = sink_.lock()) {
        sink->SendFrame(MessageType::kResponse,
                        EncodeResponse(Response::Rows({{{"received", std::to_string(written_)}}})));
      }
    }
    End(Response::Error(failure_));
  }

  void Commit() {
    auto entry = writer_->Commit();
    if (!entry.ok()) return End(Response::Error(entry.status().Annotate("archive write")));
    TANDEM_FAULT_POINT("submit.after-archive");  // content durable, no revision yet
    CommitRevision(depot_, path_, *entry,
                   [self = shared_from_this()](Response answer) { self->End(std::move(answer)); });
  }

  // Runs on the pool, or on the writer thread once the revision is durable.
  void End(Response answer) {
    {
      std::lock_guard lock(mu_);
      ended_ = true;
      chunks_.clear();
      writer_.reset();
    }
    if (auto sink = sink_.lock()) sink->SendFrame(MessageType::kResponse, EncodeResponse(answer));
  }

  Depot* depot_;
  const std::string path_;
  const uint64_t size_;
  std::unique_ptr<ArchiveWriter> writer_;  // used by Drain; reset by End under mu_
  uint64_t written_ = 0;                   // used by Drain only
  std::weak_ptr<FrameSink> sink_;          // the session owns us

  std::mutex mu_;
  std::deque<std::string> chunks_;
  uint64_t received_ = 0;
  Status failure_;
  bool draining_ = false;
  bool ended_ = false;
  bool closed_ = false;
};

}  // namespace

void RegisterSubmitCommand(Engine* engine, Dispatcher* d) {
  for (std::string_view table : {kRevTable, kHeadTable, kCounterTable}) {
    d->ReserveTable(std::string(table), "submit");
  }
  auto depot = std::make_shared<Depot>(engine, d);
  d->Register(
      "submit",
      {AccessLevel::kWrite, true, true,
       [depot](const RequestContext&, const auto& args, Reply reply) {
         auto size_or = args.size() == 2 ? ParseDecimal<uint64_t>(args[1]) : std::nullopt;
         uint64_t size = size_or.value_or(0);
         if (!size_or || size > (uint64_t{1} << 50)) {
           return reply(Response::Error(Status::InvalidArgument("usage: submit DEPOTPATH SIZE")));
         }
         if (Status st = ValidateDepotPath(args[0]); !st.ok()) return reply(Response::Error(st));
         auto writer = ArchiveWriter::Create(&depot->archive);
         if (!writer.ok()) return reply(Response::Error(writer.status().Annotate("archive write")));
         Response open = Response::Rows({{{"upload", "1"}}});
         open.stream =
             std::make_shared<Upload>(depot.get(), args[0], size, std::move(writer).value());
         reply(std::move(open));
       }});
}

}  // namespace tandem
