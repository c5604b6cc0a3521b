// TLS material: a self-signed key and certificate generated into ROOT/ssl on
// a server's first start, and SHA-256 fingerprints that clients pin (like
// `p4 trust`).
#pragma once

#include <string>

#include "journal/status.h"

using X509 = struct x509_st;

namespace tandem {

struct TlsFiles {
  std::string key_path;
  std::string cert_path;
};

// Returns the paths, generating an EC P-256 key and a 10-year self-signed
// certificate if they do not exist yet.
Result<TlsFiles> EnsureServerCertificate(const std::string& ssl_dir);

// "AB:CD:..." SHA-256 over the DER encoding.
Result<std::string> Fingerprint(X509* cert);
Result<std::string> FingerprintOfPemFile(const std::string& cert_path);

// The client's trust store: lines of "ADDRESS FINGERPRINT".
Result<std::string> LookupTrust(const std::string& trust_file, const std::string& address);
Status AddTrust(const std::string& trust_file, const std::string& address,
                const std::string& fingerprint);

}  // namespace tandem
