// What a jail's services are built from: the customer's domain and IPv4, the FTP
// account and the jail's TLS certificate. Values arrive already validated (the
// jail layer's Domain and Ipv4 types); renderers only ever write them verbatim.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace jailctl {

// FTPS is required by default; Optional lets legacy clients log in in clear text.
enum class FtpTls { Required, Optional };

// What the site runs: static files only (the default), or PHP through php-fpm (services/php.h).
enum class Profile { Static, Php };

// The host's PHP, which every jail sees through the shared read-only /usr (find_php()).
struct PhpRuntime {
    std::string fpm;                      // e.g. "/usr/sbin/php-fpm8.2"; empty: no PHP on this host
    std::string extension_dir;            // e.g. "/usr/lib/php/20220829"
    std::vector<std::string> extensions;  // shared extensions present there, in load order
};

struct JailSpec {
    std::string domain;             // ASCII (punycode) form, e.g. "shop.example.com"
    std::string ip;                 // canonical dotted quad
    std::string ftp_user;           // the jail's only FTP account
    std::string ftp_password_hash;  // from hash_password(): "$y$..."
    FtpTls ftp_tls = FtpTls::Required;
    std::string cert_pem, key_pem;  // FTPS: from make_certificate(), pinned for the jail's life
    Profile profile = Profile::Static;
    PhpRuntime php;                    // profile php only
    unsigned php_max_children = 1;     // php_max_children(): within the jail's memory and pids
    // The web site (services/nginx.h): its extra names and HTTPS.
    std::vector<std::string> aliases;         // canonical, beyond host_names(domain); sorted
    bool https_only = false;                  // HTTP answers 301 to HTTPS (except ACME's challenge)
    std::string site_cert_pem, site_key_pem;  // what nginx serves on 443 (cli/web_ops.h)
    uint64_t log_cap_bytes = 1u << 20;  // log_cap_for(): each customer log's rotation size
};

// Ids as seen INSIDE the jail (the tree writer shifts them into the jail's host range).
inline constexpr uid_t kRootUid = 0;
inline constexpr uid_t kDaemonUid = 1;
inline constexpr uid_t kWwwDataUid = 33;   // nginx workers
inline constexpr gid_t kShadowGid = 42;    // group of /etc/shadow and /etc/gshadow
inline constexpr uid_t kFtpUid = 2000;     // the FTP account; its group has the same id
inline constexpr uid_t kNobodyUid = 65534;  // vsftpd's nopriv_user; group nogroup 65534

// vsftpd's passive data ports: 100 ports, so up to 100 simultaneous data transfers per jail.
// Every jail has its own IPv4, so all jails use the same range; a firewall in front of the
// jails must let 21/tcp and 40000-40099/tcp through to each jail address.
inline constexpr uint16_t kPassivePortMin = 40000;
inline constexpr uint16_t kPassivePortMax = 40099;

}  // namespace jailctl
