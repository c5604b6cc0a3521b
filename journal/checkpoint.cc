#include "journal/checkpoint.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>
#define XXH_STATIC_LINKING_ONLY  // XXH3_state_t on the stack
#include <xxhash.h>
#include <zlib.h>

#include <memory>

#include "journal/coding.h"
#include "journal/file.h"

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
  explicit GzipFileWriter(File* file) : file_(file) {
    XXH3_64bits_reset(&hash_);
    ok_ = deflateInit2(&zs_, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK;
  }
  ~GzipFileWriter() {
    if (ok_) deflateEnd(&zs_);
  }
  GzipFileWriter(const GzipFileWriter&) = delete;
  GzipFileWriter& operator=(const GzipFileWriter&) = delete;

  // Everything appended goes into the hash and, eventually, the file.
  std::string* Buffer() { return &pending_; }
  Status Flush(bool finish) {
    if (!ok_) return Status::IOError("deflateInit2 failed");
    XXH3_64bits_update(&hash_, pending_.data() + hashed_, pending_.size() - hashed_);
    hashed_ = 0;
    zs_.next_in = reinterpret_cast<Bytef*>(pending_.data());
    zs_.avail_in = static_cast<uInt>(pending_.size());
    int rc;
    do {
      zs_.next_out = reinterpret_cast<Bytef*>(out_.data());
      zs_.avail_out = static_cast<uInt>(out_.size());
      rc = deflate(&zs_, finish ? Z_FINISH : Z_NO_FLUSH);
      if (rc == Z_STREAM_ERROR) return Status::IOError("deflate failed");
      size_t n = out_.size() - zs_.avail_out;
      TANDEM_RETURN_IF_ERROR(file_->PWriteAll(std::string_view(out_.data(), n), written_));
      written_ += n;
    } while (zs_.avail_out == 0 || (finish && rc != Z_STREAM_END));
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
  uint64_t written() const { return written_; }

 private:
  File* file_;  // borrowed; must outlive the writer
  z_stream zs_{};
  bool ok_ = false;
  XXH3_state_t hash_;
  size_t hashed_ = 0;  // prefix of pending_ already in hash_
  std::string pending_;
  std::string out_ = std::string(256 << 10, '\0');
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
    ::unlink(tmp.c_str());
    return st.Annotate("writing checkpoint " + path);
  }
  TANDEM_ASSIGN_OR_RETURN(std::string md5, Md5OfFile(path));
  TANDEM_RETURN_IF_ERROR(WriteFileDurably(path + ".md5", md5 + "  " + BaseName(path) + "\n"));
  TANDEM_ASSIGN_OR_RETURN(File f, File::Open(path, O_RDONLY));
  return f.Size();
}

Result<std::string> Gunzip(std::string_view gz, size_t max_output) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) return Status::IOError("inflateInit2 failed");
  std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&zs, inflateEnd);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  zs.avail_in = static_cast<uInt>(gz.size());
  std::string out;
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    size_t old = out.size();
    if (old >= max_output) return Status::Corruption("decompressed size over the limit");
    out.resize(std::min(max_output, std::max<size_t>(old * 2, 1 << 16)));
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + old);
    zs.avail_out = static_cast<uInt>(out.size() - old);
    rc = inflate(&zs, Z_NO_FLUSH);
    out.resize(out.size() - zs.avail_out);
    if (rc == Z_STREAM_END) break;
    if (rc != Z_OK) {
      return Status::Corruption(std::string("gzip stream damaged: ") +
                                (zs.msg != nullptr ? zs.msg : "inflate error"));
    }
    if (zs.avail_in == 0 && zs.avail_out != 0) {
      return Status::Corruption("gzip stream truncated");
    }
  }
  if (zs.avail_in != 0) return Status::Corruption("trailing bytes after gzip stream");
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
    for (uint64_t r = 0; r < rows; ++r) {
      std::string_view key, value;
      if (!d.GetLengthPrefixed(&key) || !d.GetLengthPrefixed(&value)) {
        return bad("truncated row in table " + std::string(name));
      }
      out.tables.Apply(Op::Put(std::string(name), std::string(key), std::string(value)));
    }
    if (!d.GetFixed64(&checksum)) return bad("truncated table checksum");
    const Table* t = out.tables.Find(name);
    if (t == nullptr || t->rows.size() != rows || t->checksum != checksum) {
      return bad("table " + std::string(name) + " fails its checksum");
    }
  }
  if (!d.empty()) return bad("bytes after the last table");
  return out;
}

Result<std::string> Md5OfFile(const std::string& path) {
  TANDEM_ASSIGN_OR_RETURN(File f, File::Open(path, O_RDONLY));
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_md5(), nullptr) != 1) {
    return Status::IOError("MD5 unavailable in OpenSSL");
  }
  std::string buf(1 << 20, '\0');
  uint64_t off = 0;
  for (;;) {
    TANDEM_ASSIGN_OR_RETURN(size_t n, f.PRead(buf.data(), buf.size(), off));
    if (n == 0) break;
    EVP_DigestUpdate(ctx.get(), buf.data(), n);
    off += n;
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), md, &len);
  return HexEncode(md, len);
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
