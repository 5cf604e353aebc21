// A jail's TLS certificates. Self-signed ones (make_certificate): vsftpd's, pinned for the
// jail's life, and the web site's until another is installed: ECDSA P-256, SHA-256, valid
// 10 years, for DOMAIN, www.DOMAIN, the aliases and the jail's IPv4. The probes trust exactly
// the installed certificate, so verification needs no CA; the fingerprint is shown to the
// operator so customers can check what their clients present. A customer's own certificate
// is checked by check_site_certificate before it is installed.
#pragma once

#include <ctime>
#include <string>
#include <vector>

#include "util/result.h"

namespace jailctl {

struct Certificate {
    std::string cert_pem;            // "-----BEGIN CERTIFICATE-----"
    std::string key_pem;             // unencrypted PKCS#8 "-----BEGIN PRIVATE KEY-----"
    std::string sha256_fingerprint;  // "AB:CD:..." of the DER, as `openssl x509 -fingerprint -sha256`
};

inline constexpr int kCertificateValidityDays = 3650;

// A new key pair and certificate: subject and issuer CN=domain, SAN DNS:domain,
// DNS:www.domain, DNS:<each alias>, IP:ip, random 127-bit serial, X.509 v3 with CA:FALSE
// and serverAuth.
Result<Certificate> make_certificate(const std::string& domain, const std::string& ip,
                                     const std::vector<std::string>& aliases = {});

// The SHA-256 fingerprint of the first certificate in `cert_pem`.
Result<std::string> certificate_fingerprint(const std::string& cert_pem);

// What a certificate (the first of a PEM chain) says about itself.
struct CertificateFacts {
    std::string fingerprint;           // as certificate_fingerprint
    std::string not_before, not_after;  // RFC 3339 UTC
    std::time_t not_after_time = 0;
    std::string subject, issuer;       // one-line RFC 2253 form
    bool self_signed = false;          // issuer == subject and signed by its own key
    std::vector<std::string> dns_names;  // the SAN's DNS names
};
Result<CertificateFacts> certificate_facts(const std::string& cert_pem);

// A certificate a customer brings (--tls-cert, --tls-key), checked before anything is
// installed: `cert_pem` is PEM certificates, the server's first then its chain, nothing
// else; `key_pem` one unencrypted PEM private key that matches the first certificate; the
// certificate is valid at `now` and covers every name in `names` (wildcards as TLS clients
// match them, RFC 6125). Errors are BadInput naming the field "tls-cert" or "tls-key".
// Returns the leaf's facts.
Result<CertificateFacts> check_site_certificate(const std::string& cert_pem, const std::string& key_pem,
                                                const std::vector<std::string>& names, std::time_t now);

}  // namespace jailctl
