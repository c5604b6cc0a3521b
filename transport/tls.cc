#include "transport/tls.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <fstream>
#include <memory>
#include <sstream>

#include "journal/file.h"
#include "journal/log.h"

namespace tandem {
namespace {

template <typename T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;

std::string BioString(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(n));
}

Status Generate(const TlsFiles& files) {
  PkeyPtr key(EVP_EC_gen("P-256"));
  X509Ptr cert(X509_new());
  if (!key || !cert) return Status::IOError("OpenSSL could not generate a key");
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), static_cast<long>(time(nullptr)));
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 10L * 365 * 24 * 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("tandemd"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) {
    return Status::IOError("OpenSSL could not sign the certificate");
  }
  BioPtr key_bio(BIO_new(BIO_s_mem())), cert_bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  PEM_write_bio_X509(cert_bio.get(), cert.get());
  TANDEM_RETURN_IF_ERROR(WriteFileDurably(files.key_path, BioString(key_bio.get())));
  ::chmod(files.key_path.c_str(), 0600);
  return WriteFileDurably(files.cert_path, BioString(cert_bio.get()));
}

}  // namespace

Result<TlsFiles> EnsureServerCertificate(const std::string& ssl_dir) {
  TlsFiles files{ssl_dir + "/privatekey.pem", ssl_dir + "/certificate.pem"};
  if (PathExists(files.key_path) && PathExists(files.cert_path)) return files;
  TANDEM_RETURN_IF_ERROR(CreateDirs(ssl_dir));
  ::chmod(ssl_dir.c_str(), 0700);
  TANDEM_RETURN_IF_ERROR(Generate(files));
  LogInfo() << "generated a self-signed TLS key and certificate in " << ssl_dir;
  return files;
}

Result<std::string> Fingerprint(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (cert == nullptr || X509_digest(cert, EVP_sha256(), md, &len) != 1) {
    return Status::IOError("cannot compute certificate fingerprint");
  }
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    if (i > 0) out.push_back(':');
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 15]);
  }
  return out;
}

Result<std::string> FingerprintOfPemFile(const std::string& cert_path) {
  TANDEM_ASSIGN_OR_RETURN(std::string pem, ReadFileToString(cert_path));
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return Status::Corruption(cert_path + ": not a PEM certificate");
  return Fingerprint(cert.get());
}

Result<std::string> LookupTrust(const std::string& trust_file, const std::string& address) {
  std::ifstream in(trust_file);
  std::string addr, fp;
  while (in >> addr >> fp) {
    if (addr == address) return fp;
  }
  return Status::NotFound("no trusted fingerprint for " + address);
}

Status AddTrust(const std::string& trust_file, const std::string& address,
                const std::string& fingerprint) {
  std::ifstream in(trust_file);
  std::ostringstream kept;
  std::string addr, fp;
  while (in >> addr >> fp) {
    if (addr != address) kept << addr << " " << fp << "\n";
  }
  kept << address << " " << fingerprint << "\n";
  return WriteFileDurably(trust_file, kept.str());
}

}  // namespace tandem
