#include "journal/checkpoint.h"

#include <fcntl.h>
#include <unistd.h>
#define XXH_STATIC_LINKING_ONLY  // XXH3_state_t on the stack
#include <xxhash.h>

#include "journal/coding.h"
#include "journal/file.h"
#include "journal/gzip_stream.h"
#include "journal/md5.h"

namespace tandem {
namespace {

constexpr std::string_view kHeaderMagic = "TNDC";
constexpr std::string_view kTrailerMagic = "TNDE";
constexpr uint8_t kCheckpointVersion = 1;
constexpr size_t kFlushAt = 1 << 20;

// Streams serialized bytes through deflate (gzip framing) into a file,
// hashing them on the way in for the trailer.
class GzipFileWriter {
 public:
  explicit GzipFileWriter(File* file) : file_(file), deflater_(Z_BEST_SPEED) {
    XXH3_64bits_reset(&hash_);
  }

  // Everything appended goes into the hash and, eventually, the file.
  std::string* Buffer() { return &pending_; }
  Status Flush(bool finish) {
    XXH3_64bits_update(&hash_, pending_.data() + hashed_, pending_.size() - hashed_);
    hashed_ = 0;
    auto write = [this](std::string_view out) {
      TANDEM_RETURN_IF_ERROR(file_->PWriteAll(out, written_));
      written_ += out.size();
      return Status::Ok();
    };
    TANDEM_RETURN_IF_ERROR(deflater_.Write(pending_, write));
    if (finish) TANDEM_RETURN_IF_ERROR(deflater_.Finish(write));
    pending_.clear();
    return Status::Ok();
  }
  Status MaybeFlush() { return pending_.size() >= kFlushAt ? Flush(false) : Status::Ok(); }
  // Hash of every byte appended so far.
  uint64_t Hash() {
    XXH3_64bits_update(&hash_, pending_.data() + hashed_, pending_.size() - hashed_);
    hashed_ = pending_.size();
    return XXH3_64bits_digest(&hash_);
  }

 private:
  File* file_;  // borrowed; must outlive the writer
  GzipDeflater deflater_;
  XXH3_state_t hash_;
  size_t hashed_ = 0;  // prefix of pending_ already in hash_
  std::string pending_;
  uint64_t written_ = 0;
};

Status WriteCheckpointBody(File* f, const CheckpointMeta& meta, const TableSet& tables) {
  GzipFileWriter gz(f);
  std::string* b = gz.Buffer();
  b->append(kHeaderMagic);
  b->push_back(static_cast<char>(kCheckpointVersion));
  PutFixed32(b, meta.journal);
  PutFixed32(b, meta.epoch.value);
  PutFixed64(b, meta.next_txn_id);
  auto sums = tables.Checksums();
  PutFixed32(b, static_cast<uint32_t>(sums.size()));
  for (const TableChecksum& sum : sums) {
    const Table* t = tables.Find(sum.table);
    PutLengthPrefixed(b, sum.table);
    PutFixed64(b, t->rows.size());
    for (const auto& [key, value] : t->rows) {
      PutLengthPrefixed(b, key);
      PutLengthPrefixed(b, value);
      TANDEM_RETURN_IF_ERROR(gz.MaybeFlush());
    }
    PutFixed64(b, t->checksum);
  }
  uint64_t hash = gz.Hash();
  b->append(kTrailerMagic);
  PutFixed64(b, hash);
  TANDEM_RETURN_IF_ERROR(gz.Flush(/*finish=*/true));
  return f->Sync();
}

}  // namespace

Result<uint64_t> WriteCheckpoint(const std::string& path, const CheckpointMeta& meta,
                                 const TableSet& tables) {
  std::string tmp = path + ".tmp";
  Status st;
  {
    TANDEM_ASSIGN_OR_RETURN(File f, File::Open(tmp, O_WRONLY | O_CREAT | O_TRUNC));
    st = WriteCheckpointBody(&f, meta, tables);
  }
  if (st.ok()) st = RenameDurably(tmp, path);
  if (!st.ok()) {
    (void)RemoveFile(tmp);
    return st.Annotate("writing checkpoint " + path);
  }
  TANDEM_ASSIGN_OR_RETURN(std::string md5, Md5OfFile(path));
  TANDEM_RETURN_IF_ERROR(WriteFileDurably(path + ".md5", md5 + "  " + BaseName(path) + "\n"));
  TANDEM_ASSIGN_OR_RETURN(File f, File::Open(path, O_RDONLY));
  return f.Size();
}

Result<std::string> Gunzip(std::string_view gz, size_t max_output) {
  GzipInflater inflater;
  std::string out;
  TANDEM_RETURN_IF_ERROR(inflater.Write(gz, [&](std::string_view data) {
    if (out.size() + data.size() > max_output) {
      return Status::Corruption("decompressed size over the limit");
    }
    out.append(data);
    return Status::Ok();
  }));
  if (!inflater.ended()) return Status::Corruption("gzip stream truncated");
  return out;
}

Result<LoadedCheckpoint> ParseCheckpoint(std::string_view data) {
  auto bad = [](const std::string& what) { return Status::Corruption("checkpoint: " + what); };
  if (data.size() < 12) return bad("too short");
  std::string_view body = data.substr(0, data.size() - 12);
  std::string_view trailer = data.substr(data.size() - 12);
  if (trailer.substr(0, 4) != kTrailerMagic) return bad("missing trailer (truncated?)");
  if (XXH3_64bits(body.data(), body.size()) != DecodeFixed64(trailer.data() + 4)) {
    return bad("content hash mismatch");
  }
  Decoder d(body);
  std::string_view magic, version;
  LoadedCheckpoint out;
  uint32_t table_count;
  if (!d.GetBytes(4, &magic) || magic != kHeaderMagic) return bad("bad magic");
  if (!d.GetBytes(1, &version) || static_cast<uint8_t>(version[0]) != kCheckpointVersion) {
    return bad("unsupported version");
  }
  if (!d.GetFixed32(&out.meta.journal) || !d.GetFixed32(&out.meta.epoch.value) ||
      !d.GetFixed64(&out.meta.next_txn_id) || !d.GetFixed32(&table_count)) {
    return bad("truncated header");
  }
  for (uint32_t i = 0; i < table_count; ++i) {
    std::string_view name;
    uint64_t rows, checksum;
    if (!d.GetLengthPrefixed(&name) || !d.GetFixed64(&rows)) return bad("truncated table header");
    if (rows > d.remaining() / 2) return bad("row count larger than the data");
    if (out.tables.Find(name) != nullptr) return bad("table listed twice: " + std::string(name));
    // Rows come in key order: each goes in at the end of the tree. The index
    // is built once they are all in, here: built by the first write instead,
    // it held that write (the writer, after a start-up) ~150 ms at 1M rows.
    Table table;
    for (uint64_t r = 0; r < rows; ++r) {
      std::string_view key, value;
      if (!d.GetLengthPrefixed(&key) || !d.GetLengthPrefixed(&value)) {
        return bad("truncated row in table " + std::string(name));
      }
      table.rows.emplace_hint(table.rows.end(), key, value);
    }
    if (!d.GetFixed64(&checksum)) return bad("truncated table checksum");
    table.checksum = table.index.Build(table.rows);
    // A key twice is one row fewer: the count catches it.
    if (rows == 0 || table.rows.size() != rows || table.checksum != checksum) {
      return bad("table " + std::string(name) + " fails its checksum");
    }
    out.tables.AddTable(std::string(name), std::move(table));
  }
  if (!d.empty()) return bad("bytes after the last table");
  return out;
}

Result<std::string> Md5OfFile(const std::string& path) {
  TANDEM_ASSIGN_OR_RETURN(File f, File::Open(path, O_RDONLY));
  Md5 md5;
  TANDEM_RETURN_IF_ERROR(ReadChunks(f, 0, 1 << 20, [&](std::string_view data) {
    md5.Update(data);
    return Status::Ok();
  }));
  return md5.HexDigest();
}

Status VerifyDigestFile(const std::string& path) {
  auto recorded = ReadFileToString(path + ".md5");
  if (!recorded.ok()) return recorded.status().Annotate("checkpoint digest missing");
  std::string want = recorded->substr(0, recorded->find_first_of(" \n"));
  TANDEM_ASSIGN_OR_RETURN(std::string have, Md5OfFile(path));
  if (want != have) {
    return Status::Corruption(path + ": MD5 " + have + " does not match " + path + ".md5 (" + want +
                              "); the checkpoint is truncated or altered");
  }
  return Status::Ok();
}

Result<LoadedCheckpoint> ReadCheckpointOf(const RootLayout& layout, uint32_t n) {
  std::string path = layout.checkpoint(n);
  TANDEM_ASSIGN_OR_RETURN(LoadedCheckpoint loaded, ReadCheckpoint(path));
  if (loaded.meta.journal != n) {
    return Status::Corruption(path + ": holds the state at journal " +
                              std::to_string(loaded.meta.journal) + ", not " + std::to_string(n));
  }
  return loaded;
}

Result<LoadedCheckpoint> ReadCheckpoint(const std::string& path) {
  TANDEM_RETURN_IF_ERROR(VerifyDigestFile(path));
  TANDEM_ASSIGN_OR_RETURN(std::string gz, ReadFileToString(path));
  auto raw = Gunzip(gz, size_t{1} << 40);
  if (!raw.ok()) return raw.status().Annotate(path);
  auto parsed = ParseCheckpoint(*raw);
  if (!parsed.ok()) return parsed.status().Annotate(path);
  return parsed;
}

}  // namespace tandem
