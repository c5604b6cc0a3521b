#include "journal/archive_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>

namespace tandem {
namespace {

constexpr size_t kSample = 64 * 1024;
constexpr size_t kReadChunk = 1 << 20;

bool IsDigest(const std::string& md5) {
  return md5.size() == 32 && md5.find_first_not_of("0123456789abcdef") == std::string::npos;
}

}  // namespace

std::string ArchiveStore::PathFor(const std::string& md5) const {
  return dir_ + "/" + md5.substr(0, 2) + "/" + md5;
}

std::string ArchiveStore::PathForName(const std::string& name) const {
  return dir_ + "/" + name.substr(0, 2) + "/" + name;
}

Result<std::string> ArchiveStore::StoredName(const std::string& md5) const {
  if (!IsDigest(md5)) return Status::InvalidArgument("bad digest '" + md5 + "'");
  if (PathExists(PathFor(md5))) return md5;
  if (PathExists(PathFor(md5) + ".gz")) return md5 + ".gz";
  return Status::NotFound("no archive file for " + md5);
}

void ArchiveStore::Remove(const std::string& md5) const {
  (void)RemoveFile(PathFor(md5));
  (void)RemoveFile(PathFor(md5) + ".gz");
}

Result<std::string> ArchiveStore::NewTempPath() const {
  static std::atomic<uint64_t> counter{0};
  TANDEM_RETURN_IF_ERROR(CreateDirs(dir_ + "/tmp"));
  return dir_ + "/tmp/" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
}

Status ArchiveStore::Install(const std::string& tmp, const std::string& name) const {
  std::string path = PathForName(name);
  TANDEM_RETURN_IF_ERROR(CreateDirs(DirName(path)));
  return RenameDurably(tmp, path);
}

void ArchiveStore::RemoveTempFiles() const { (void)RemoveTree(dir_ + "/tmp"); }

Result<ArchiveEntry> ArchiveStore::Put(std::string_view content) {
  TANDEM_ASSIGN_OR_RETURN(auto writer, ArchiveWriter::Create(this));
  for (size_t at = 0; at < content.size(); at += kReadChunk) {
    TANDEM_RETURN_IF_ERROR(writer->Append(content.substr(at, kReadChunk)));
  }
  return writer->Commit();
}

Status ArchiveStore::Read(const ArchiveEntry& entry, const ByteSink& sink) const {
  TANDEM_ASSIGN_OR_RETURN(std::string name, StoredName(entry.md5));
  TANDEM_ASSIGN_OR_RETURN(File f, File::Open(PathForName(name), O_RDONLY));
  ContentDecoder decoder(entry, name.ends_with(".gz"));
  Status st = ReadChunks(f, 0, kReadChunk,
                         [&](std::string_view stored) { return decoder.Write(stored, sink); });
  if (st.ok()) st = decoder.Finish();
  return st.ok() ? st : st.Annotate("archive file " + name);
}

Result<std::string> ArchiveStore::Get(const ArchiveEntry& entry) const {
  std::string content;
  TANDEM_RETURN_IF_ERROR(Read(entry, [&](std::string_view data) {
    content.append(data);
    return Status::Ok();
  }));
  return content;
}

Status ArchiveStore::Verify(const ArchiveEntry& entry) const {
  return Read(entry, [](std::string_view) { return Status::Ok(); });
}

ContentDecoder::ContentDecoder(ArchiveEntry expected, bool compressed)
    : expected_(std::move(expected)) {
  if (compressed) gz_ = std::make_unique<GzipInflater>();
}

Status ContentDecoder::Write(std::string_view stored, const ByteSink& content) {
  auto take = [&](std::string_view data) {
    size_ += data.size();
    if (size_ > expected_.size) {
      return Status::Corruption("longer than the " + std::to_string(expected_.size) +
                                " bytes recorded");
    }
    md5_.Update(data);
    return content ? content(data) : Status::Ok();
  };
  return gz_ ? gz_->Write(stored, take) : take(stored);
}

Status ContentDecoder::Finish() {
  if (gz_ && !gz_->ended()) return Status::Corruption("compressed stream is truncated");
  std::string md5 = md5_.HexDigest();
  if (size_ != expected_.size || md5 != expected_.md5) {
    return Status::Corruption("has size " + std::to_string(size_) + " and MD5 " + md5 + ", not " +
                              std::to_string(expected_.size) + " and " + expected_.md5);
  }
  return Status::Ok();
}

Result<std::unique_ptr<ArchiveWriter>> ArchiveWriter::Create(const ArchiveStore* store) {
  TANDEM_ASSIGN_OR_RETURN(std::string tmp, store->NewTempPath());
  TANDEM_ASSIGN_OR_RETURN(File f, File::Open(tmp, O_WRONLY | O_CREAT | O_TRUNC));
  return std::unique_ptr<ArchiveWriter>(new ArchiveWriter(store, std::move(tmp), std::move(f)));
}

ArchiveWriter::ArchiveWriter(const ArchiveStore* store, std::string tmp, File file)
    : store_(store), tmp_(std::move(tmp)), file_(std::move(file)) {}

ArchiveWriter::~ArchiveWriter() {
  if (!committed_) (void)RemoveFile(tmp_);
}

Status ArchiveWriter::WriteStored(std::string_view bytes) {
  TANDEM_RETURN_IF_ERROR(file_.PWriteAll(bytes, written_));
  written_ += bytes.size();
  return Status::Ok();
}

Status ArchiveWriter::Decide() {
  decided_ = true;
  size_t trial = 0;
  GzipDeflater probe(Z_BEST_SPEED);  // a cheap estimate is enough to decide
  auto count = [&](std::string_view out) {
    trial += out.size();
    return Status::Ok();
  };
  TANDEM_RETURN_IF_ERROR(probe.Write(sample_, count));
  TANDEM_RETURN_IF_ERROR(probe.Finish(count));
  if (trial * 10 < sample_.size() * 9) gz_ = std::make_unique<GzipDeflater>();
  std::string sample = std::move(sample_);
  sample_.clear();
  return gz_ ? gz_->Write(sample, [this](std::string_view out) { return WriteStored(out); })
             : WriteStored(sample);
}

Status ArchiveWriter::Append(std::string_view content) {
  md5_.Update(content);
  size_ += content.size();
  if (!decided_) {
    size_t take = std::min(content.size(), kSample - sample_.size());
    sample_.append(content.substr(0, take));
    content.remove_prefix(take);
    if (sample_.size() < kSample) return Status::Ok();
    TANDEM_RETURN_IF_ERROR(Decide());
  }
  if (content.empty()) return Status::Ok();
  return gz_ ? gz_->Write(content, [this](std::string_view out) { return WriteStored(out); })
             : WriteStored(content);
}

Result<ArchiveEntry> ArchiveWriter::Commit() {
  if (!decided_) TANDEM_RETURN_IF_ERROR(Decide());
  if (gz_)
    TANDEM_RETURN_IF_ERROR(gz_->Finish([this](std::string_view out) { return WriteStored(out); }));
  TANDEM_RETURN_IF_ERROR(file_.Sync());
  TANDEM_RETURN_IF_ERROR(file_.Close());
  ArchiveEntry entry{md5_.HexDigest(), size_};
  if (store_->Verify(entry).ok()) {  // already stored, and intact
    (void)RemoveFile(tmp_);
    committed_ = true;
    return entry;
  }
  store_->Remove(entry.md5);  // a damaged copy, perhaps under the other name
  TANDEM_RETURN_IF_ERROR(store_->Install(tmp_, gz_ ? entry.md5 + ".gz" : entry.md5));
  committed_ = true;
  return entry;
}

}  // namespace tandem
