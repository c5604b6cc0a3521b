#include "transport/submit_command.h"

#include <cstdlib>
#include <deque>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include "journal/archive_store.h"
#include "journal/fault_point.h"
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

uint64_t Number(const Tables& tables, std::string_view table, const std::string& key) {
  return std::stoull(tables.Get(table, key).value_or("0"));
}

Response CommitRevision(Depot* depot, const std::string& path, const ArchiveEntry& entry) {
  std::promise<Status> durable;
  std::future<Status> done = durable.get_future();
  std::optional<Status> answer;
  uint64_t rev, change;
  {
    std::lock_guard lock(depot->mu);
    const Tables& tables = depot->engine->tables();
    uint64_t& last_rev = depot->last_rev[path];
    rev = std::max(last_rev, Number(tables, kHeadTable, path)) + 1;
    change = std::max(depot->last_change, Number(tables, kCounterTable, "change")) + 1;
    std::string value = entry.md5 + " " + std::to_string(entry.size) + " " +
                        std::to_string(NowSeconds()) + " " + std::to_string(change);
    // Queued under the lock, so the journal holds the numbers in order.
    depot->engine->CommitAsync(
        {{Op::Put(std::string(kRevTable), RevisionKey(path, rev), value),
          Op::Put(std::string(kHeadTable), path, std::to_string(rev)),
          Op::Put(std::string(kCounterTable), "change", std::to_string(change))}},
        [&durable](const Status& st, Position) { durable.set_value(st); });
    // A refusal (a paused master) answers at once: the numbers stay free.
    if (done.wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
      answer = done.get();
    }
    if (!answer || answer->ok()) {
      last_rev = rev;
      depot->last_change = change;
    }
    if (depot->last_rev.size() > 4096) {  // forget paths whose revision is durable
      std::erase_if(depot->last_rev,
                    [&](const auto& p) { return p.second <= Number(tables, kHeadTable, p.first); });
    }
  }
  if (!answer) answer = done.get();
  if (!answer->ok()) return Response::Error(*answer);
  return Response::Rows({{{"change", std::to_string(change)},
                          {"depotFile", path},
                          {"rev", std::to_string(rev)},
                          {"digest", entry.md5},
                          {"fileSize", std::to_string(entry.size)}}});
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
      if (written_ == size_) return End(Commit());
      if (Status st = writer_->Append(chunk); !st.ok()) {
        return End(Response::Error(st.Annotate("archive write")));
      }
      written_ += chunk.size();
      sink_->SendFrame(MessageType::kResponse,
                       EncodeResponse(Response::Rows({{{"received", std::to_string(written_)}}})));
    }
    End(Response::Error(failure_));
  }

  Response Commit() {
    auto entry = writer_->Commit();
    if (!entry.ok()) return Response::Error(entry.status().Annotate("archive write"));
    TANDEM_FAULT_POINT("submit.after-archive");  // content durable, no revision yet
    return CommitRevision(depot_, path_, *entry);
  }

  void End(Response answer) {
    {
      std::lock_guard lock(mu_);
      ended_ = true;
      chunks_.clear();
    }
    writer_.reset();
    sink_->SendFrame(MessageType::kResponse, EncodeResponse(answer));
  }

  Depot* depot_;
  const std::string path_;
  const uint64_t size_;
  std::unique_ptr<ArchiveWriter> writer_;  // used by Drain only
  uint64_t written_ = 0;                   // used by Drain only
  std::shared_ptr<FrameSink> sink_;

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
  auto depot = std::make_shared<Depot>(engine, d);
  d->Register(
      "submit",
      {AccessLevel::kWrite, true, true,
       [depot](const RequestContext&, const auto& args, Reply reply) {
         uint64_t size = 0;
         if (args.size() != 2 || args[1].empty() ||
             args[1].find_first_not_of("0123456789") != std::string::npos ||
             (size = std::strtoull(args[1].c_str(), nullptr, 10)) > (uint64_t{1} << 50)) {
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
