#include "cli/web_ops.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include <algorithm>
#include <chrono>
#include <memory>
#include <thread>

#include "cli/status_format.h"
#include "host/jail_fs.h"
#include "host/lxc.h"
#include "host/mount.h"
#include "host/procs.h"
#include "services/certificate.h"
#include "services/nginx.h"
#include "services/php.h"
#include "util/fd.h"
#include "util/text.h"

namespace jailctl {
namespace {

constexpr const char* kNginxConf = "etc/nginx/nginx.conf";
// kSiteCertPath / kSiteKeyPath relative to the jail root.
const std::string kSiteCert = std::string(kSiteCertPath.substr(1));
const std::string kSiteKey = std::string(kSiteKeyPath.substr(1));
constexpr std::size_t kMaxPemBytes = 256 * 1024;

// What web_update_steps' undos need: the files as they were, whether mount was ours.
struct WebUndo {
    std::optional<std::string> conf, cert, key;  // nullopt: the file did not exist
};

std::optional<std::string> read_if_present(int root, const std::string& rel) {
    auto text = read_jail_file(root, rel, kMaxPemBytes);
    if (!text) return std::nullopt;
    return *text;
}

// Writes `content` (or removes the file for nullopt), root-owned.
Result<void> put_file(int root, const std::string& rel, const std::optional<std::string>& content, mode_t mode,
                      uint32_t id_base) {
    if (!content) return remove_jail_file(root, rel);
    return write_jail_file(root, rel, *content, mode, kRootUid, 0, id_base);
}

// The last line nginx wrote to its error log: why a reload was refused.
std::string last_error_line(const Paths& paths, const std::string& domain) {
    auto root = open_jail_root(paths.rootfs(domain));
    if (!root) return {};
    auto log = read_jail_file(root->get(), "var/log/nginx/error.log", 16 << 20);
    if (!log) return {};
    std::string text = *log;
    while (!text.empty() && text.back() == '\n') text.pop_back();
    auto nl = text.rfind('\n');
    return nl == std::string::npos ? text : text.substr(nl + 1);
}

Result<std::string> read_operator_file(const std::string& path, const std::string& field) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) return fail_input(field, "cannot read " + quote_input(path) + ": " + std::strerror(errno));
    Fd owner(fd);
    struct stat st{};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return fail_input(field, quote_input(path) + " is not a regular file");
    if (st.st_size > static_cast<off_t>(kMaxPemBytes))
        return fail_input(field, quote_input(path) + " is larger than 256 KiB: not a certificate or key");
    std::string text(static_cast<std::size_t>(st.st_size), '\0');
    std::size_t got = 0;
    while (got < text.size()) {
        ssize_t n = ::read(fd, text.data() + got, text.size() - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail_input(field, "cannot read " + quote_input(path) + ": " + std::strerror(errno));
        if (n == 0) break;
        got += static_cast<std::size_t>(n);
    }
    text.resize(got);
    if (text.empty()) return fail_input(field, quote_input(path) + " is empty");
    return text;
}

}  // namespace

Result<SiteTls> check_custom_tls(SiteTls tls, const std::vector<std::string>& names) {
    auto facts = check_site_certificate(tls.cert_pem, tls.key_pem, names, ::time(nullptr));
    if (!facts) return std::unexpected(facts.error());
    return tls;
}

Result<std::optional<SiteTls>> read_custom_tls(const std::string& cert_file, const std::string& key_file,
                                               const std::vector<std::string>& names) {
    if (cert_file.empty() && key_file.empty()) return std::nullopt;
    if (key_file.empty()) return fail_input("tls-key", "missing: --tls-cert needs the certificate's key (--tls-key)");
    if (cert_file.empty()) return fail_input("tls-cert", "missing: --tls-key needs its certificate (--tls-cert)");
    auto cert = read_operator_file(cert_file, "tls-cert");
    if (!cert) return std::unexpected(cert.error());
    auto key = read_operator_file(key_file, "tls-key");
    if (!key) return std::unexpected(key.error());
    auto checked = check_custom_tls({std::move(*cert), std::move(*key)}, names);
    if (!checked) return std::unexpected(checked.error());
    return std::optional<SiteTls>(std::move(*checked));
}

JailSpec web_spec(const JailRecord& rec) {
    JailSpec spec;
    spec.domain = rec.domain;
    spec.ip = rec.ip;
    spec.ftp_user = rec.ftp_user;
    spec.aliases = rec.aliases;
    spec.https_only = rec.https_only;
    spec.profile = stored_profile(rec.profile);  // nginx runs *.php only for the php profile
    return spec;
}

Result<SiteTls> self_signed_site_tls(const JailRecord& rec) {
    auto cert = make_certificate(rec.domain, rec.ip, rec.aliases);
    if (!cert) return std::unexpected(cert.error());
    return SiteTls{cert->cert_pem, cert->key_pem};
}

Result<std::string> read_site_certificate(const Paths& paths, const std::string& domain) {
    auto root = open_jail_root(paths.rootfs(domain));
    if (!root) return std::unexpected(root.error());
    return read_jail_file(root->get(), kSiteCert, kMaxPemBytes);
}

nlohmann::json web_json(const Paths& paths, const JailRecord& rec) {
    nlohmann::json web = {{"aliases", rec.aliases}, {"https_only", rec.https_only}, {"tls", rec.tls},
                          {"certificate", nullptr}};
    auto mounted = find_mount(paths.rootfs(rec.domain));
    if (!mounted || !*mounted) return web;
    auto pem = read_site_certificate(paths, rec.domain);
    if (!pem) return web;
    if (auto facts = certificate_facts(*pem))
        web["certificate"] = {{"fingerprint", facts->fingerprint},
                              {"not_after", facts->not_after},
                              {"self_signed", facts->self_signed},
                              {"names", facts->dns_names}};
    return web;
}

void report_web(const Paths& paths, const JailRecord& rec, nlohmann::json& fields, std::vector<std::string>& text) {
    nlohmann::json web = web_json(paths, rec);
    for (auto& line : web_text(web)) text.push_back(std::move(line));
    fields["web"] = std::move(web);
}

Result<void> reload_nginx(const Paths& paths, const std::string& domain) {
    pid_t init = lxc_init_pid(paths.lxcpath, domain);
    if (init <= 0) return {};  // not running: the next start reads the files
    auto masters = child_processes(init, "nginx");
    if (masters.empty()) return {};  // restarting under jailctl-init's backoff: it starts with the new files
    const pid_t master = masters.front();
    const auto before = child_processes(master);
    if (::kill(master, SIGHUP) != 0) return fail_errno("reload nginx of " + domain + ": SIGHUP to pid " + std::to_string(master), errno);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    bool new_worker = false;
    for (;;) {
        auto now = child_processes(master);
        new_worker = new_worker || std::ranges::any_of(now, [&](pid_t p) { return std::ranges::find(before, p) == before.end(); });
        // The master starts the new workers, then tells the old ones to finish: until an old one
        // has closed its listening sockets (its title says "shutting down") it still accepts
        // connections with the previous configuration and certificate.
        if (new_worker && std::ranges::all_of(before, [&](pid_t p) {
                return std::ranges::find(now, p) == now.end() || process_title(p).find("shutting down") != std::string::npos;
            }))
            return {};
        if (new_worker && std::chrono::steady_clock::now() > deadline) return {};  // old workers busy: they finish later
        if (std::chrono::steady_clock::now() > deadline) {
            std::string why = last_error_line(paths, domain);
            return fail("reload nginx of " + domain + ": no new worker within 5 s, it still serves the previous "
                        "configuration" + (why.empty() ? "" : "; its error log says: " + why));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

std::vector<Step> web_update_steps(JailSteps& jail_ref, std::optional<SiteTls> tls) {
    JailSteps jail = jail_ref;  // two references: the steps outlive this call, not the task
    const Paths& paths = jail.paths();
    const std::string domain = jail.domain();
    auto undo = std::make_shared<WebUndo>();
    std::vector<Step> steps;
    auto mounted = find_mount(paths.rootfs(domain));
    const bool mount_here = !(mounted && *mounted);
    if (mount_here) steps.push_back(jail_ref.mount_disk());  // jail_ref: its steps keep `this`

    auto with_root = [paths, domain](auto&& body) -> Result<void> {
        auto root = open_jail_root(paths.rootfs(domain));
        if (!root) return std::unexpected(root.error());
        return body(root->get());
    };
    steps.push_back(
        {"site-tls",
         [jail, tls, undo, with_root]() -> Result<void> {
             return with_root([&](int root) -> Result<void> {
                 undo->cert = read_if_present(root, kSiteCert);
                 undo->key = read_if_present(root, kSiteKey);
                 std::optional<SiteTls> install = tls;
                 if (!install && undo->cert && undo->key) return {};  // nothing to change
                 if (!install) {
                     auto made = self_signed_site_tls(jail.plan.rec);
                     if (!made) return std::unexpected(made.error());
                     install = *made;
                 }
                 const uint32_t ids = jail.plan.rec.id_base;
                 // The key first: nginx never reads a new certificate with the old key (a reload
                 // only comes after both are written, but a restart of nginx could come between).
                 if (auto r = put_file(root, kSiteKey, install->key_pem, 0600, ids); !r) return r;
                 return put_file(root, kSiteCert, install->cert_pem, 0644, ids);
             });
         },
         [jail, undo, with_root]() -> Result<void> {
             return with_root([&](int root) -> Result<void> {
                 const uint32_t ids = jail.plan.rec.id_base;
                 if (auto r = put_file(root, kSiteKey, undo->key, 0600, ids); !r) return r;
                 return put_file(root, kSiteCert, undo->cert, 0644, ids);
             });
         }});
    steps.push_back({"web-config",
                     [jail, undo, with_root]() -> Result<void> {
                         return with_root([&](int root) -> Result<void> {
                             undo->conf = read_if_present(root, kNginxConf);
                             return put_file(root, kNginxConf, render_nginx_conf(web_spec(jail.plan.rec)), 0644,
                                             jail.plan.rec.id_base);
                         });
                     },
                     [jail, undo, with_root]() -> Result<void> {
                         return with_root([&](int root) {
                             return put_file(root, kNginxConf, undo->conf, 0644, jail.plan.rec.id_base);
                         });
                     }});
    if (!mount_here && lxc_running(paths.lxcpath, domain))
        steps.push_back({"reload", [paths, domain]() { return reload_nginx(paths, domain); },
                         [paths, domain]() { return reload_nginx(paths, domain); }});
    if (mount_here) steps.push_back(jail_ref.unmount_disk());
    return steps;
}

}  // namespace jailctl
