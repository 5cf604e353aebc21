// Certificates from an ACME CA (RFC 8555, Let's Encrypt's protocol) through uacme, a
// maintained client (Debian package): jailctl decides what to issue and when, uacme speaks
// the protocol (account, order, badNonce retries, polling, finalisation). The HTTP-01 token
// is written by jailctl itself, called back by uacme as its hook, into a root-owned
// directory of the jail (kAcmeChallengeDir) that nginx serves on port 80 and the customer's
// FTP account cannot reach.
#pragma once

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "services/certificate.h"
#include "util/result.h"

namespace jailctl {

// host.conf's ACME keys (acme_directory, acme_email, acme_ca_bundle). ACME is off when no
// directory is named.
struct AcmeSettings {
    std::string directory;  // the CA's directory URL, https://
    std::string email;      // the account's contact, optional
    std::string ca_bundle;  // PEM file trusted besides the system's CAs (a private CA, Pebble)
    bool enabled() const { return !directory.empty(); }
};
// A clear BadInput naming the host.conf key when a value is unusable (an http:// directory,
// an address without '@', a bundle that is not a readable PEM file).
Result<void> check_acme_settings(const AcmeSettings& settings);

// Where the challenge tokens live inside the jail, and the URL path nginx serves them at.
inline constexpr std::string_view kAcmeChallengeDir = "var/lib/acme-challenge";
inline constexpr std::string_view kAcmeChallengeUrl = "/.well-known/acme-challenge/";
// The internal verb of the trampoline (host/acme_challenge.h).
inline constexpr std::string_view kAcmeExecVerb = "__acme-exec";

// One issuance: the names (the first is the certificate's subject) of the jail whose tree is
// mounted at `rootfs` (ids shifted by `id_base`).
struct AcmeOrder {
    std::string state_dir;    // <root>/acme, 0700: account key, keys and certificates by name
    std::string jailctl_exe;  // this program: the mount namespace trampoline and uacme's hook
    std::string rootfs;
    uint32_t id_base = 0;
    std::vector<std::string> names;
};
struct IssuedCertificate {
    std::string cert_pem;  // the leaf then its chain
    std::string key_pem;
};
// Registers the account when this state has none (or the CA forgot it), then orders, proves
// and fetches a certificate for every name. Fails with uacme's last line (the CA down, a
// challenge that failed and why).
Result<IssuedCertificate> acme_issue(const AcmeSettings& settings, const AcmeOrder& order);

// renew's default threshold: a certificate expiring within this many days is renewed (what
// Let's Encrypt's clients do with 90-day certificates).
inline constexpr int kRenewBeforeDays = 30;
// Why the site certificate `facts` is due for an ACME certificate, or nullopt when it is not:
// still self-signed (ACME failed or was off at create), expiring within `days` days of `now`,
// or missing one of `names` (an alias added since). A customer's own certificate is never
// passed here (renew leaves it alone).
std::optional<std::string> renewal_reason(const CertificateFacts& facts, const std::vector<std::string>& names,
                                          int days, std::time_t now);

}  // namespace jailctl
