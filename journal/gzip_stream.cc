#include "journal/gzip_stream.h"

namespace tandem {
namespace {

constexpr size_t kOutChunk = 256 << 10;

Bytef* In(std::string_view in) { return reinterpret_cast<Bytef*>(const_cast<char*>(in.data())); }

}  // namespace

GzipDeflater::GzipDeflater(int level) : buf_(kOutChunk, '\0') {
  ok_ = deflateInit2(&zs_, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK;
}

GzipDeflater::~GzipDeflater() {
  if (ok_) deflateEnd(&zs_);
}

Status GzipDeflater::Run(std::string_view in, int flush, const ByteSink& out) {
  if (!ok_) return Status::IOError("deflateInit2 failed");
  zs_.next_in = In(in);
  zs_.avail_in = static_cast<uInt>(in.size());
  int rc;
  do {
    zs_.next_out = reinterpret_cast<Bytef*>(buf_.data());
    zs_.avail_out = static_cast<uInt>(buf_.size());
    rc = deflate(&zs_, flush);
    if (rc == Z_STREAM_ERROR) return Status::IOError("deflate failed");
    size_t n = buf_.size() - zs_.avail_out;
    if (n > 0) TANDEM_RETURN_IF_ERROR(out(std::string_view(buf_.data(), n)));
  } while (zs_.avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
  return Status::Ok();
}

GzipInflater::GzipInflater() : buf_(kOutChunk, '\0') { ok_ = inflateInit2(&zs_, 15 + 16) == Z_OK; }

GzipInflater::~GzipInflater() {
  if (ok_) inflateEnd(&zs_);
}

Status GzipInflater::Write(std::string_view in, const ByteSink& out) {
  if (!ok_) return Status::IOError("inflateInit2 failed");
  if (ended_ && !in.empty()) return Status::Corruption("trailing bytes after gzip stream");
  zs_.next_in = In(in);
  zs_.avail_in = static_cast<uInt>(in.size());
  if (in.empty()) return Status::Ok();
  do {  // a full output buffer may leave more to come even once input is used up
    zs_.next_out = reinterpret_cast<Bytef*>(buf_.data());
    zs_.avail_out = static_cast<uInt>(buf_.size());
    int rc = inflate(&zs_, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
      return Status::Corruption(std::string("gzip stream damaged: ") +
                                (zs_.msg != nullptr ? zs_.msg : "inflate error"));
    }
    ended_ = rc == Z_STREAM_END;
    size_t n = buf_.size() - zs_.avail_out;
    if (n > 0) TANDEM_RETURN_IF_ERROR(out(std::string_view(buf_.data(), n)));
  } while (!ended_ && (zs_.avail_in > 0 || zs_.avail_out == 0));
  if (zs_.avail_in > 0) return Status::Corruption("trailing bytes after gzip stream");
  return Status::Ok();
}

}  // namespace tandem
