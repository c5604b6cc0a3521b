#include "journal/md5.h"

#include <openssl/evp.h>

#include "journal/coding.h"

namespace tandem {

Md5::Md5() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_, EVP_md5(), nullptr); }

Md5::~Md5() { EVP_MD_CTX_free(ctx_); }

void Md5::Update(std::string_view data) { EVP_DigestUpdate(ctx_, data.data(), data.size()); }

std::string Md5::HexDigest() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_, md, &len);
  return HexEncode(md, len);
}

std::string Md5::Of(std::string_view data) {
  Md5 md5;
  md5.Update(data);
  return md5.HexDigest();
}

}  // namespace tandem
