// Everything that goes INTO a jail's filesystem, as data: the host's tree writer
// (host/jail_fs.h) materialises it into the mounted image, shifting ids into the
// jail's host id range. Paths are relative to the jail root; ids are the jail's own.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "services/etc_files.h"
#include "services/jail_spec.h"
#include "services/nginx.h"
#include "services/vsftpd.h"

namespace jailctl {

struct JailDir {
    std::string path;
    mode_t mode;
    uid_t uid;
    gid_t gid;
};
struct JailFile {
    std::string path;
    std::string content;
    mode_t mode;
    uid_t uid;
    gid_t gid;
};
struct JailLink {
    std::string path;
    std::string target;
};
struct JailTree {
    std::vector<JailDir> dirs;  // parents before children
    std::vector<JailFile> files;
    std::vector<JailLink> links;
};

// The whole tree of a new jail:
//   merged-usr links bin sbin lib lib64 -> usr/...; mount points usr/ init proc/ sys/ dev/;
//   etc/ (accounts, PAM, nginx, vsftpd, certificate, service list); srv/site (root, 0755:
//   the FTP chroot) with www/ (the FTP user's document root and index.html);
//   var/log, var/lib/nginx/*, run/vsftpd/empty, tmp, var/tmp, root.
// srv/site/logs (root's: the customer's logs, readable over FTPS) with empty access.log,
// error.log and php-fpm.log; var/lib/php/{sessions,tmp} (the FTP user's, 0700).
// Runtime files the services create themselves: /run/nginx.pid, /run/php-fpm.{pid,sock},
// /var/log/vsftpd.log, /var/log/xferlog.
JailTree build_jail_tree(const JailSpec& spec);

}  // namespace jailctl
