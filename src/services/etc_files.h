// The jail's /etc: accounts, name service, and jailctl-init's service list.
#pragma once

#include <string>

#include "services/jail_spec.h"

namespace jailctl {

// Accounts: root, daemon, www-data, the FTP user (kFtpUid, home /srv/site, shell
// nologin), nobody/nogroup, and the shadow group.
std::string render_passwd(const JailSpec& spec);
std::string render_group(const JailSpec& spec);
// /etc/shadow: the FTP user's yescrypt hash; system accounts are locked ('!' for root,
// '*' for the others). No password ageing fields, so pam_unix never asks for a change.
// Also used alone by `jailctl passwd`.
std::string render_shadow(const JailSpec& spec);
std::string render_gshadow(const JailSpec& spec);

// The jail's host name as the kernel sees it: the domain cut to 63 characters.
std::string jail_host_name(const std::string& domain);
std::string render_hostname(const JailSpec& spec);
std::string render_hosts(const JailSpec& spec);
std::string render_resolv_conf();
std::string render_nsswitch_conf();
std::string render_shells();

// /etc/jailctl/services for jailctl-init: nginx (stops gracefully on QUIT) and vsftpd (TERM).
std::string render_services_list(const JailSpec& spec);

// The customer's logs, in srv/site/logs (the FTP chroot's logs/): nginx's access and error
// logs, and php-fpm's for the php profile.
inline constexpr const char* kLogDir = "/srv/site/logs";
// Each log is rotated past this size and keeps one old copy: 1/128 of the disk, from 256 KiB to
// 16 MiB, so all of them together take at most ~5 % of the disk (3 logs x 2 copies).
uint64_t log_cap_for(uint64_t disk_bytes);
// /etc/jailctl/logs for jailctl-init (src/init/log_cap.h): the logs it caps, and the services
// it asks to reopen them (USR1).
std::string render_log_list(const JailSpec& spec);

// srv/site/www/index.html: a placeholder page naming the domain (HTML-escaped).
std::string render_index_html(const std::string& domain);

}  // namespace jailctl
