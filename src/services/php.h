// The php profile: php-fpm from the host's /usr (which every jail sees read-only), one pool
// per jail inside the jail, spawning workers on demand so an idle site costs no worker.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "services/jail_spec.h"
#include "util/result.h"

namespace jailctl {

// "static" | "php" -> Profile; anything else: BadInput naming the field "profile".
Result<Profile> parse_profile(std::string_view name);
std::string_view profile_name(Profile profile);
// A registry record's profile ("php" or anything else: static, as older records are).
inline Profile stored_profile(std::string_view stored) { return stored == "php" ? Profile::Php : Profile::Static; }

// The newest php-fpm in <usr>/sbin (php-fpmX.Y) and the shared extensions of the newest
// extension directory <usr>/lib/php/<api>/ but readline and ffi (no use in a pool): mysqlnd and
// pdo first (others depend on them), then by name. fpm empty: PHP is not installed.
PhpRuntime find_php(const std::string& usr = "/usr");
// The Debian package to install when find_php() finds none (for "host not ready" messages).
inline constexpr std::string_view kPhpPackage = "php8.2-fpm";

// The php profile needs php-fpm on the host: HostNotReady (exit 4) naming the package otherwise.
Result<void> require_php(const PhpRuntime& php);

// How many PHP workers a jail may run at once: one per 32 MiB of its memory limit above
// 48 MiB (nginx, vsftpd and the php-fpm master), one per two pids above 32, from 1 to 32.
unsigned php_max_children(uint64_t memory_bytes, uint32_t pids);

// Fills the spec's profile fields from a registry record's profile and limits.
void apply_profile(JailSpec& spec, Profile profile, uint64_t memory_bytes, uint32_t pids,
                   const PhpRuntime& php = find_php());

// Paths inside the jail.
inline constexpr std::string_view kPhpFpmConf = "/etc/jailctl/php-fpm.conf";
inline constexpr std::string_view kPhpIni = "/etc/jailctl/php.ini";
inline constexpr std::string_view kPhpFpmSocket = "/run/php-fpm.sock";  // held by jailctl-init; nginx's
inline constexpr std::string_view kPhpPoolListen = "/run/php-fpm-pool.sock";  // the pool's name for it

// /etc/jailctl/php-fpm.conf: the master (root inside the jail, foreground, its log in the
// customer's logs/) and one pool "site" running as the FTP user, pm = ondemand.
std::string render_php_fpm_conf(const JailSpec& spec);
// /etc/jailctl/php.ini: the extensions found, sessions and uploads under /var/lib/php.
std::string render_php_ini(const JailSpec& spec);
// How long php-fpm runs without a worker (its workers leave 10 s after their last request)
// before jailctl-init stops it; the next request starts it again (docs/DECISIONS.md).
inline constexpr int kPhpIdleStopSeconds = 60;
// The line of /etc/jailctl/services that runs php-fpm ("" for the static profile): socket-activated.
std::string php_service_line(const JailSpec& spec);
// nginx's `location` sending *.php to the pool ("" for the static profile), and the
// fastcgi_params file it includes.
std::string render_php_location(const JailSpec& spec);
std::string render_fastcgi_params();

}  // namespace jailctl
