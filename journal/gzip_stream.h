// Streaming gzip in both directions. Output goes to a sink as it is
// produced, so memory stays bounded whatever the size of the data.
#pragma once

#include <zlib.h>

#include <string>
#include <string_view>

#include "journal/file.h"

namespace tandem {

class GzipDeflater {
 public:
  explicit GzipDeflater(int level = Z_DEFAULT_COMPRESSION);
  ~GzipDeflater();
  GzipDeflater(const GzipDeflater&) = delete;
  GzipDeflater& operator=(const GzipDeflater&) = delete;

  Status Write(std::string_view in, const ByteSink& out) { return Run(in, Z_NO_FLUSH, out); }
  // Ends the stream (gzip trailer); nothing may be written after.
  Status Finish(const ByteSink& out) { return Run({}, Z_FINISH, out); }

 private:
  Status Run(std::string_view in, int flush, const ByteSink& out);
  z_stream zs_{};
  bool ok_ = false;
  std::string buf_;
};

class GzipInflater {
 public:
  GzipInflater();
  ~GzipInflater();
  GzipInflater(const GzipInflater&) = delete;
  GzipInflater& operator=(const GzipInflater&) = delete;

  // Corruption when the bytes are not gzip, or continue past its end.
  Status Write(std::string_view in, const ByteSink& out);
  // Whether the whole stream, trailer included, has been seen.
  bool ended() const { return ended_; }

 private:
  z_stream zs_{};
  bool ok_ = false;
  bool ended_ = false;
  std::string buf_;
};

}  // namespace tandem
