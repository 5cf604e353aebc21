#include "services/jail_tree.h"

#include "services/acme.h"
#include "services/php.h"

namespace jailctl {
namespace {

constexpr gid_t kRootGid = 0;

void add_skeleton_dirs(JailTree& t) {
    auto root_dir = [&t](const char* path, mode_t mode) { t.dirs.push_back({path, mode, kRootUid, kRootGid}); };
    root_dir("usr", 0755);  // mount point of the shared read-only base
    root_dir("proc", 0755);
    root_dir("sys", 0755);
    root_dir("dev", 0755);
    root_dir("etc", 0755);
    root_dir("etc/pam.d", 0755);
    root_dir("etc/nginx", 0755);
    root_dir("etc/ssl", 0755);
    root_dir("etc/ssl/jailctl", 0755);
    root_dir("etc/jailctl", 0755);
    root_dir("root", 0700);
    root_dir("tmp", 01777);
    root_dir("run", 0755);
    root_dir("run/vsftpd", 0755);
    root_dir("run/vsftpd/empty", 0555);  // vsftpd's secure_chroot_dir: empty, not writable
    root_dir("var", 0755);
    root_dir("var/tmp", 01777);
    root_dir("var/log", 0755);
    root_dir("var/log/nginx", 0755);  // opened by nginx's master, which runs as root
    root_dir("var/lib", 0755);
    root_dir("var/lib/nginx", 0755);
    // ACME HTTP-01 tokens (services/acme.h): written by jailctl, served by nginx, out of FTP's reach.
    t.dirs.push_back({std::string(kAcmeChallengeDir), 0755, kRootUid, kRootGid});
    // nginx's temp paths: written by its workers (www-data). nginx would create them itself
    // on start, but only if it can; owning them in advance keeps the start side-effect free.
    for (const char* sub : {"body", "proxy", "fastcgi", "uwsgi", "scgi"})
        t.dirs.push_back({std::string("var/lib/nginx/") + sub, 0700, kWwwDataUid, kWwwDataUid});
    // The FTP chroot must not be writable by the user (vsftpd refuses it); the user writes www/.
    root_dir("srv", 0755);
    root_dir("srv/site", 0755);
    t.dirs.push_back({"srv/site/www", 0755, kFtpUid, kFtpUid});
    // The customer's logs (nginx, php-fpm), readable over FTPS in logs/ but theirs neither to
    // change nor to delete: the services' masters (root) write them; jailctl-init caps them.
    root_dir("srv/site/logs", 0755);
    // PHP's sessions and uploads in progress, the FTP user's (its pool's user) and nobody
    // else's. Made for every profile, so that `set --profile php` needs no new directory.
    root_dir("var/lib/php", 0755);
    t.dirs.push_back({"var/lib/php/sessions", 0700, kFtpUid, kFtpUid});
    t.dirs.push_back({"var/lib/php/tmp", 0700, kFtpUid, kFtpUid});
}

void add_etc_files(JailTree& t, const JailSpec& s) {
    auto root_file = [&t](const char* path, std::string content, mode_t mode = 0644) {
        t.files.push_back({path, std::move(content), mode, kRootUid, kRootGid});
    };
    root_file("init", "", 0755);  // mount point of jailctl-init, which LXC runs as PID 1
    root_file("etc/passwd", render_passwd(s));
    root_file("etc/group", render_group(s));
    t.files.push_back({"etc/shadow", render_shadow(s), 0640, kRootUid, kShadowGid});
    t.files.push_back({"etc/gshadow", render_gshadow(s), 0640, kRootUid, kShadowGid});
    root_file("etc/hostname", render_hostname(s));
    root_file("etc/hosts", render_hosts(s));
    root_file("etc/resolv.conf", render_resolv_conf());
    root_file("etc/nsswitch.conf", render_nsswitch_conf());
    root_file("etc/shells", render_shells());
    root_file("etc/jailctl/services", render_services_list(s));
    root_file("etc/jailctl/logs", render_log_list(s));
    // Made in advance so that they are readable (0644) whoever creates them: php-fpm would make
    // its log 0600, which the customer could not read. jailctl-init keeps owner and mode on rotation.
    for (const char* log : {"srv/site/logs/access.log", "srv/site/logs/error.log", "srv/site/logs/php-fpm.log"})
        root_file(log, "");
}

void add_service_files(JailTree& t, const JailSpec& s) {
    auto root_file = [&t](const char* path, std::string content, mode_t mode = 0644) {
        t.files.push_back({path, std::move(content), mode, kRootUid, kRootGid});
    };
    root_file("etc/nginx/nginx.conf", render_nginx_conf(s));
    root_file("etc/nginx/mime.types", render_mime_types());
    root_file("etc/vsftpd.conf", render_vsftpd_conf(s));
    root_file("etc/pam.d/vsftpd", render_pam_vsftpd());
    root_file("etc/ssl/jailctl/site.crt", s.site_cert_pem);
    root_file("etc/ssl/jailctl/site.key", s.site_key_pem, 0600);
    root_file("etc/ssl/jailctl/ftp.crt", s.cert_pem);
    root_file("etc/ssl/jailctl/ftp.key", s.key_pem, 0600);
    root_file("etc/ssl/jailctl/openssl.cnf",
              "# Read by vsftpd only (etc/jailctl/services): FTPS at TLS 1.2.\n"
              "openssl_conf = jailctl_conf\n[jailctl_conf]\nssl_conf = jailctl_ssl\n"
              "[jailctl_ssl]\nsystem_default = jailctl_tls\n[jailctl_tls]\nMinProtocol = TLSv1.2\n"
              "MaxProtocol = TLSv1.2\n");
    if (s.profile == Profile::Php) {
        root_file("etc/nginx/fastcgi_params", render_fastcgi_params());
        root_file("etc/jailctl/php-fpm.conf", render_php_fpm_conf(s));
        root_file("etc/jailctl/php.ini", render_php_ini(s));
    }
    t.files.push_back({"srv/site/www/index.html", render_index_html(s.domain), 0644, kFtpUid, kFtpUid});
}

}  // namespace

JailTree build_jail_tree(const JailSpec& spec) {
    JailTree t;
    add_skeleton_dirs(t);
    add_etc_files(t, spec);
    add_service_files(t, spec);
    t.links = {
        {"bin", "usr/bin"},
        {"sbin", "usr/sbin"},
        {"lib", "usr/lib"},
        {"lib64", "usr/lib64"},
        {"var/run", "/run"},
    };
    return t;
}

}  // namespace jailctl
