#include "journal/archive_store.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>
#include <zlib.h>

#include <memory>

#include "journal/checkpoint.h"
#include "journal/coding.h"
#include "journal/file.h"

namespace tandem {
namespace {

Result<std::string> Gzip(std::string_view in) {
  z_stream zs{};
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    return Status::IOError("deflateInit2 failed");
  }
  std::string out(deflateBound(&zs, static_cast<uLong>(in.size())) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&zs, Z_FINISH);
  out.resize(out.size() - zs.avail_out);
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) return Status::IOError("deflate failed");
  return out;
}

}  // namespace

std::string ArchiveStore::Md5Hex(std::string_view content) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(content.data(), content.size(), md, &len, EVP_md5(), nullptr);
  return HexEncode(md, len);
}

std::string ArchiveStore::PathFor(const std::string& md5) const {
  return dir_ + "/" + md5.substr(0, 2) + "/" + md5;
}

Result<ArchiveEntry> ArchiveStore::Put(std::string_view content) {
  ArchiveEntry entry{Md5Hex(content), content.size()};
  std::string base = PathFor(entry.md5);
  if (PathExists(base) || PathExists(base + ".gz")) {
    if (Verify(entry).ok()) return entry;  // already stored, and intact
  }
  TANDEM_RETURN_IF_ERROR(CreateDirs(DirName(base)));
  // Compress only when a sample shrinks by a tenth or more: deflating data
  // that does not compress (media, archives) costs far more than it saves.
  constexpr size_t kSample = 64 * 1024;
  std::string gz;
  bool compress = false;
  TANDEM_ASSIGN_OR_RETURN(std::string sample, Gzip(content.substr(0, kSample)));
  if (sample.size() * 10 < std::min(content.size(), kSample) * 9) {
    TANDEM_ASSIGN_OR_RETURN(gz, Gzip(content));
    compress = gz.size() < content.size();
  }
  std::string path = compress ? base + ".gz" : base;
  TANDEM_RETURN_IF_ERROR(WriteFileDurably(path, compress ? std::string_view(gz) : content));
  return entry;
}

Result<std::string> ArchiveStore::Get(const ArchiveEntry& entry) const {
  std::string base = PathFor(entry.md5);
  std::string content;
  if (auto plain = ReadFileToString(base); plain.ok()) {
    content = std::move(plain).value();
  } else if (auto gz = ReadFileToString(base + ".gz"); gz.ok()) {
    auto raw = Gunzip(*gz, entry.size + 1);
    if (!raw.ok()) return raw.status().Annotate(base + ".gz");
    content = std::move(raw).value();
  } else {
    return Status::NotFound("archive file " + base + " is missing");
  }
  if (content.size() != entry.size || Md5Hex(content) != entry.md5) {
    return Status::Corruption("archive file for " + entry.md5 + " has size " +
                              std::to_string(content.size()) + " and MD5 " + Md5Hex(content));
  }
  return content;
}

Result<std::string> ArchiveStore::StoredName(const std::string& md5) const {
  if (md5.size() != 32 || md5.find_first_not_of("0123456789abcdef") != std::string::npos) {
    return Status::InvalidArgument("bad digest '" + md5 + "'");
  }
  if (PathExists(PathFor(md5))) return md5;
  if (PathExists(PathFor(md5) + ".gz")) return md5 + ".gz";
  return Status::NotFound("no archive file for " + md5);
}

std::string ArchiveStore::PathForName(const std::string& name) const {
  return dir_ + "/" + name.substr(0, 2) + "/" + name;
}

void ArchiveStore::Remove(const std::string& md5) const {
  ::unlink(PathFor(md5).c_str());
  ::unlink((PathFor(md5) + ".gz").c_str());
}

// Streams the stored file through inflate (when compressed) and MD5, so a
// large file is verified without being held in memory.
Status ArchiveStore::Verify(const ArchiveEntry& entry) const {
  TANDEM_ASSIGN_OR_RETURN(std::string name, StoredName(entry.md5));
  bool compressed = name.size() > 32;
  TANDEM_ASSIGN_OR_RETURN(File f, File::Open(PathForName(name), O_RDONLY));
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> md5(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestInit_ex(md5.get(), EVP_md5(), nullptr);
  z_stream zs{};
  if (compressed && inflateInit2(&zs, 15 + 16) != Z_OK)
    return Status::IOError("inflateInit2 failed");
  std::unique_ptr<z_stream, int (*)(z_stream*)> guard(compressed ? &zs : nullptr, inflateEnd);
  std::string in(1 << 20, '\0'), out(1 << 20, '\0');
  uint64_t offset = 0, size = 0;
  int rc = Z_OK;
  for (;;) {
    TANDEM_ASSIGN_OR_RETURN(size_t n, f.PRead(in.data(), in.size(), offset));
    if (n == 0) break;
    offset += n;
    if (!compressed) {
      EVP_DigestUpdate(md5.get(), in.data(), n);
      size += n;
      continue;
    }
    zs.next_in = reinterpret_cast<Bytef*>(in.data());
    zs.avail_in = static_cast<uInt>(n);
    do {
      zs.next_out = reinterpret_cast<Bytef*>(out.data());
      zs.avail_out = static_cast<uInt>(out.size());
      rc = inflate(&zs, Z_NO_FLUSH);
      if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
        return Status::Corruption("archive file " + name + " does not decompress");
      }
      size_t produced = out.size() - zs.avail_out;
      EVP_DigestUpdate(md5.get(), out.data(), produced);
      size += produced;
      if (size > entry.size) return Status::Corruption("archive file " + name + " is too long");
    } while (zs.avail_out == 0 && rc != Z_STREAM_END);
  }
  if (compressed && rc != Z_STREAM_END) {
    return Status::Corruption("archive file " + name + " is truncated");
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(md5.get(), digest, &len);
  if (size != entry.size || HexEncode(digest, len) != entry.md5) {
    return Status::Corruption("archive file " + name + " has size " + std::to_string(size) +
                              " and MD5 " + HexEncode(digest, len) + ", not " + entry.md5);
  }
  return Status::Ok();
}

}  // namespace tandem
