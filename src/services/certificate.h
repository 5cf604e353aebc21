// The per-jail TLS certificate vsftpd presents: self-signed, ECDSA P-256, SHA-256,
// valid 10 years, for DOMAIN, www.DOMAIN and the jail's IPv4. The probe trusts exactly
// this certificate, so verification needs no CA; the fingerprint is shown to the operator
// so customers can check what their FTP client presents.
#pragma once

#include <string>

#include "util/result.h"

namespace jailctl {

struct Certificate {
    std::string cert_pem;            // "-----BEGIN CERTIFICATE-----"
    std::string key_pem;             // unencrypted PKCS#8 "-----BEGIN PRIVATE KEY-----"
    std::string sha256_fingerprint;  // "AB:CD:..." of the DER, as `openssl x509 -fingerprint -sha256`
};

inline constexpr int kCertificateValidityDays = 3650;

// A new key pair and certificate: subject and issuer CN=domain, SAN DNS:domain,
// DNS:www.domain, IP:ip, random 127-bit serial, X.509 v3 with CA:FALSE and serverAuth.
Result<Certificate> make_certificate(const std::string& domain, const std::string& ip);

// The SHA-256 fingerprint of the first certificate in `cert_pem`.
Result<std::string> certificate_fingerprint(const std::string& cert_pem);

}  // namespace jailctl
