// Incremental MD5, the digest Helix records for file content and that
// checkpoints carry beside them. Not for security: for matching bytes.
#pragma once

#include <memory>
#include <string>
#include <string_view>

struct evp_md_ctx_st;

namespace tandem {

class Md5 {
 public:
  Md5();
  ~Md5();
  Md5(const Md5&) = delete;
  Md5& operator=(const Md5&) = delete;

  void Update(std::string_view data);
  // Lower-case hex of everything updated so far; ends the digest.
  std::string HexDigest();

  static std::string Of(std::string_view data);

 private:
  evp_md_ctx_st* ctx_;
};

}  // namespace tandem
