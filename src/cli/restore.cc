// jailctl restore FILE [--domain D] [--ip IP] [--size S] [--replace]
// jailctl import FILE [--domain D] [--ip IP] [--size S]
//
// Both recreate a jail from a jailctl archive (host/archive.h). Validation reads the WHOLE
// archive first (checksum, every entry's safety, the space it needs) and checks the arguments
// and conflicts: a bad archive or argument is a KO that creates nothing. Then a task like create:
// register (new id range) -> host-prepare -> disk -> mount -> extract (ids shifted, fds relative
// to the new jail root, nothing followed) -> identity -> lxc-config -> credentials -> start ->
// test -> ready, each step undone on failure.
//
// An archive FILE that is a pipe or socket (`import /dev/stdin`, a cluster move's stream) cannot
// be read twice: its manifest is validated first, its entries only in the extract step (a bad
// one fails that step and everything is undone). Not with --replace.
//
// Identity: the jail keeps the archived certificate (its key is in the archived tree) when
// domain and IP are unchanged, else gets a new one. The FTP password: the archive holds only its
// hash, so jailctl cannot know it; a restored jail gets a NEW password (printed like create's),
// except with --replace when the jail's current credentials file matches the archived hash, or
// when JAILCTL_FTP_PASSWORD in the environment does (a cluster move), so the customer's password
// keeps working. Every jailctl-rendered file (etc/..., not srv/) is
// re-rendered with the identity and the new hash; the site's content (srv/) is the archive's.
//
// --replace onto an existing jail (same id range, same IP): the new disk is built and filled
// beside the old one (disk.img.restore, mounted on rootfs.restore) while the old jail keeps
// serving; then swap: stop the old jail, disk.img -> disk.img.old, disk.img.restore -> disk.img,
// mount, start, test. A failure up to the test undoes the swap (old disk back, old jail started
// again if it was running); only after the test passed is disk.img.old removed.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>

#include "cli/acme_ops.h"
#include "cli/jail_ops.h"
#include "cli/verbs.h"
#include "cli/web_ops.h"
#include "host/archive.h"
#include "host/ext4.h"
#include "host/image.h"
#include "host/jail_fs.h"
#include "host/loop.h"
#include "host/lxc.h"
#include "host/mount.h"
#include "host/network.h"
#include "jail/byte_size.h"
#include "jail/domain.h"
#include "jail/ftp_user.h"
#include "jail/ipv4.h"
#include "services/password_hash.h"
#include "services/php.h"
#include "util/atomic_file.h"
#include "util/fd.h"
#include "util/password.h"
#include "util/progress.h"

namespace jailctl {
namespace {

namespace fs = std::filesystem;
constexpr uint64_t kMinSize = 64ull << 20;

struct RestoreArgs {
    std::string file, domain, ip, size;
    bool replace = false;
    std::string verb;  // "restore" | "import"
    AddressOptions address;
};

struct RestorePlan {
    VerifiedArchive archive;
    std::string file;
    bool keep_certificate = false;  // same domain and IP as the archive
    bool keep_password = false;     // --replace and the current password matches the archived hash
    std::optional<JailRecord> old;  // --replace: the jail being replaced
    // A pipe or socket (`import /dev/stdin`, a cluster move): read once, see open_archive_stream.
    Fd stream_fd;
    std::optional<ArchiveStream> stream;
};

// Smallest size (MiB multiple) whose usable space and inodes hold the archive's tree.
uint64_t min_size_for(const VerifiedArchive& v) {
    uint64_t size = kMinSize;
    while (usable_bytes(size) < v.needed_bytes || inode_count(size) < v.entries + 64) size += 16ull << 20;
    return size;
}

Result<void> validate(Context& ctx, const RestoreArgs& args, JailPlan& plan, RestorePlan& rp) {
    std::optional<Domain> domain;
    std::optional<Ipv4> ip;
    std::optional<ByteSize> size;
    if (!args.domain.empty()) {
        auto d = Domain::parse(args.domain);
        if (!d) return std::unexpected(d.error());
        domain = *d;
    }
    if (!args.ip.empty()) {
        auto i = Ipv4::parse(args.ip);
        if (!i) return std::unexpected(i.error());
        ip = *i;
    }
    if (!args.size.empty()) {
        auto s = ByteSize::parse_disk(args.size, "size");
        if (!s) return std::unexpected(s.error());
        if (auto m = s->at_least(kMinSize, "size"); !m) return std::unexpected(m.error());
        size = *s;
    }
    std::error_code abs_ec;
    if (args.file.empty()) return fail_input("file", "is empty");
    rp.file = fs::absolute(args.file, abs_ec).lexically_normal().string();
    if (abs_ec) return fail_input("file", "'" + args.file + "': " + abs_ec.message());
    struct stat st {};
    bool stream = ::stat(rp.file.c_str(), &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
    if (!stream && (::stat(rp.file.c_str(), &st) != 0 || !S_ISREG(st.st_mode)))
        return fail_input("file", rp.file + " is not a readable archive file, pipe or socket");
    // A stream saved to a file (`jailctl --cluster export`, `export D /dev/stdout > F`) has no
    // content digest to verify up front: it is read as the stream it was.
    if (auto m = stream ? Result<Manifest>(fail("")) : read_manifest(rp.file); m && m->streamed) stream = true;
    if (stream) {
        // Read once: the manifest now, the entries in the extract step (each checked there; a
        // bad stream is undone like any failed step).
        if (args.replace)
            return fail_input("file", rp.file + " was written as a stream (no content digest to check before the jail "
                                                "is replaced): restore it under a new domain, or use a backup");
        rp.stream_fd = Fd(::open(rp.file.c_str(), O_RDONLY | O_CLOEXEC));
        if (!rp.stream_fd.valid()) return fail_input("file", "open " + rp.file + ": " + std::strerror(errno));
        auto in = open_archive_stream(rp.stream_fd.get(), rp.file);
        if (!in) return std::unexpected(in.error());
        rp.stream.emplace(std::move(*in));
        rp.archive = VerifiedArchive{rp.stream->manifest, 0, rp.stream->manifest.entries};
    } else {
        // The whole archive, before anything else is looked at or created.
        auto verified = verify_archive(rp.file, !ctx.options.json);
        if (!verified) return std::unexpected(verified.error());
        rp.archive = *verified;
    }
    const Manifest& m = rp.archive.manifest;
    if (!domain) {
        auto d = Domain::parse(m.domain);
        if (!d) return std::unexpected(d.error());
        domain = *d;
    }
    if (!ip) {
        auto i = Ipv4::parse(m.ip);
        if (!i) return fail_input("ip", "the archive's " + m.ip + " cannot be used here: give --ip");
        ip = *i;
    }
    uint64_t needed = min_size_for(rp.archive);
    if (size && size->bytes() < needed)
        return fail_input("size", size->human() + " is too small for the archive's content (" +
                                      human_bytes(rp.archive.needed_bytes) + " in " + std::to_string(rp.archive.entries) +
                                      " entries needs at least " + human_bytes(needed) + ")");
    uint64_t bytes = size ? size->bytes() : std::max<uint64_t>(m.size_bytes, needed);

    auto uplink = check_address_on_uplink(ctx, *ip, args.address, plan);
    if (!uplink) return std::unexpected(uplink.error());
    if (::access(ctx.init_path.c_str(), X_OK) != 0)
        return fail(ErrorKind::HostNotReady, "jailctl-init not found at " + ctx.init_path + ": reinstall jailctl");
    if (m.profile == "php")
        if (auto r = require_php(find_php()); !r) return r;
    if (auto r = ctx.open(); !r) return r;
    auto by_domain = ctx.registry().find(domain->str());
    if (!by_domain) return std::unexpected(by_domain.error());
    if (*by_domain && needs_repair(ctx, **by_domain)) {  // an interrupted task first (its files are in the way)
        (void)find_jail(ctx, domain->str());
        by_domain = ctx.registry().find(domain->str());
        if (!by_domain) return std::unexpected(by_domain.error());
    }
    if (*by_domain && !args.replace)
        return fail(ErrorKind::Conflict, "domain: " + domain->str() + " is already registered" +
                                             (args.verb == "restore" ? " (restore --replace replaces it)" : ""));
    if (args.replace) {
        if (!*by_domain) return fail_input("domain", domain->str() + " is not a jail on this host: nothing to --replace");
        rp.old = **by_domain;
        if (rp.old->state != "ready")
            return fail(ErrorKind::HostNotReady, domain->str() + " is in state " + rp.old->state + ": run 'jailctl repair'");
        if (!args.ip.empty() && ip->str() != rp.old->ip)
            return fail_input("ip", "--replace keeps the jail's address " + rp.old->ip);
        ip = *Ipv4::parse_syntax(rp.old->ip);
    } else {
        if (auto r = check_new_address(ctx, *ip, uplink->name, args.address, plan); !r) return r;
    }
    if (!m.sparse) {
        auto free = free_bytes(ctx.paths.lxcpath);
        if (!free) return std::unexpected(free.error());
        if (*free < bytes)
            return fail_input("size", human_bytes(bytes) + " is more than the " + human_bytes(*free) + " free in " +
                                          ctx.paths.lxcpath);
    }

    if (rp.old) plan.rec = *rp.old;
    plan.rec.domain = domain->str();
    plan.rec.ip = ip->str();
    plan.rec.size_bytes = bytes;
    plan.rec.sparse = m.sparse;
    plan.rec.ftp_user = domain->str() == m.domain ? m.ftp_user : derive_ftp_user(*domain);
    plan.rec.ftp_tls = m.ftp_tls;
    plan.rec.profile = m.profile;
    // The archive's web site, --replace included (the jail goes back to what was archived); its
    // aliases only under its own domain (a --replace onto another jail keeps that jail's).
    const bool same_domain = domain->str() == m.domain;
    plan.rec.aliases = same_domain ? m.aliases : rp.old ? rp.old->aliases : std::vector<std::string>{};
    plan.rec.https_only = m.https_only;
    plan.rec.tls = same_domain ? m.tls : "self-signed";
    for (const auto& alias : plan.rec.aliases) {
        auto holder = ctx.registry().name_holder(alias);
        if (!holder) return std::unexpected(holder.error());
        if (*holder && **holder != plan.rec.domain)
            return fail(ErrorKind::Conflict, "alias: the archive's alias " + alias + " is already served by jail " +
                                                 **holder + " ('jailctl alias remove " + **holder + " " + alias + "' first)");
    }
    rp.keep_certificate = domain->str() == m.domain && ip->str() == m.ip && !m.certificate_pem.empty();
    std::string hash;
    if (rp.old && m.domain == rp.old->domain && m.ftp_user == rp.old->ftp_user) {
        auto creds = read_credentials(ctx.paths, rp.old->domain);
        if (creds && !m.ftp_password_hash.empty() && verify_password(creds->password, m.ftp_password_hash)) {
            plan.password = creds->password;
            hash = m.ftp_password_hash;
            rp.keep_password = true;
        }
    }
    // The customer's password itself, from whoever moves the jail (a cluster move reads it on
    // the old host): kept when it is the one the archive's hash was made from.
    if (const char* given = std::getenv("JAILCTL_FTP_PASSWORD");
        !rp.keep_password && given && *given && plan.rec.ftp_user == m.ftp_user && !m.ftp_password_hash.empty() &&
        verify_password(given, m.ftp_password_hash)) {
        plan.password = given;
        hash = m.ftp_password_hash;
        rp.keep_password = true;
    }
    if (!rp.keep_password) {
        plan.password = generate_password();
        auto h = hash_password(plan.password);
        if (!h) return std::unexpected(h.error());
        hash = *h;
    }
    plan.spec = JailSpec{plan.rec.domain, plan.rec.ip, plan.rec.ftp_user, hash,
                         m.ftp_tls == "required" ? FtpTls::Required : FtpTls::Optional, "", ""};
    apply_profile(plan.spec, stored_profile(plan.rec.profile), plan.rec.memory_bytes, plan.rec.pids);
    plan.spec.log_cap_bytes = log_cap_for(plan.rec.size_bytes);
    if (!rp.keep_certificate) {
        auto cert = make_certificate(plan.rec.domain, plan.rec.ip);
        if (!cert) return std::unexpected(cert.error());
        plan.spec.cert_pem = cert->cert_pem;
        plan.spec.key_pem = cert->key_pem;
        plan.fingerprint = cert->sha256_fingerprint;
    }
    return {};
}

// Re-renders every jailctl-managed file (not the site under srv/) for the jail's identity.
Result<void> rewrite_identity(const std::string& rootfs, JailPlan& plan, const RestorePlan& rp) {
    auto root = open_jail_root(rootfs);
    if (!root) return std::unexpected(root.error());
    if (rp.keep_certificate) {
        auto key = read_jail_file(root->get(), "etc/ssl/jailctl/ftp.key", 64 * 1024);
        if (key) {
            plan.spec.cert_pem = rp.archive.manifest.certificate_pem;
            plan.spec.key_pem = *key;
            auto fpr = certificate_fingerprint(plan.spec.cert_pem);
            if (fpr) plan.fingerprint = *fpr;
        }
        if (!key || plan.fingerprint.empty()) {  // the archived key is gone: a new certificate
            auto cert = make_certificate(plan.rec.domain, plan.rec.ip);
            if (!cert) return std::unexpected(cert.error());
            plan.spec.cert_pem = cert->cert_pem, plan.spec.key_pem = cert->key_pem;
            plan.fingerprint = cert->sha256_fingerprint;
        }
    }
    // The default index page names the domain (and `test` looks for it): a page still as create
    // wrote it for the archive's domain is rendered again for the new one; a customer's page stays,
    // and the test then takes whatever it answers (own_page).
    auto page = read_jail_file(root->get(), "srv/site/www/index.html", 64 * 1024);
    plan.own_page = page && *page == render_index_html(rp.archive.manifest.domain);
    if (plan.own_page && plan.rec.domain != rp.archive.manifest.domain)
        if (auto r = write_jail_file(root->get(), "srv/site/www/index.html", render_index_html(plan.rec.domain), 0644,
                                     kFtpUid, kFtpUid, plan.rec.id_base);
            !r)
            return r;
    // The archived site certificate stays while it still fits the jail (same domain, valid now,
    // naming every name it serves); else the site gets a new self-signed one.
    plan.spec.aliases = plan.rec.aliases;
    plan.spec.https_only = plan.rec.https_only;
    auto site_cert = read_jail_file(root->get(), "etc/ssl/jailctl/site.crt", 256 * 1024);
    auto site_key = read_jail_file(root->get(), "etc/ssl/jailctl/site.key", 256 * 1024);
    if (plan.rec.domain == rp.archive.manifest.domain && site_cert && site_key &&
        check_custom_tls({*site_cert, *site_key}, served_names(plan.spec))) {
        plan.spec.site_cert_pem = *site_cert;
        plan.spec.site_key_pem = *site_key;
    } else {
        auto site = self_signed_site_tls(plan.rec);
        if (!site) return std::unexpected(site.error());
        plan.spec.site_cert_pem = site->cert_pem;
        plan.spec.site_key_pem = site->key_pem;
        plan.rec.tls = "self-signed";
    }
    JailTree tree = build_jail_tree(plan.spec);
    for (const auto& d : tree.dirs)  // an archive of an older jailctl lacks e.g. srv/site/logs
        if (auto r = make_jail_dir(root->get(), d, plan.rec.id_base, true); !r) return r;
    for (const auto& f : tree.files) {
        if (f.path.starts_with("srv/")) continue;
        if (auto r = write_jail_file(root->get(), f.path, f.content, f.mode, f.uid, f.gid, plan.rec.id_base); !r)
            return r;
    }
    return {};
}

Result<void> remove_path(const std::string& p) {
    std::error_code ec;
    fs::remove_all(p, ec);
    if (ec) return fail("remove " + p + ": " + ec.message());
    return {};
}

Result<void> rename_path(const std::string& from, const std::string& to) {
    if (::rename(from.c_str(), to.c_str()) != 0) return fail_errno("rename " + from + " to " + to, errno);
    return {};
}

// What a restore changes in the registry record of a jail it replaces: its site's side.
Result<void> record_site(Registry& registry, const JailRecord& rec) {
    if (auto r = registry.set_profile(rec.domain, rec.profile); !r) return r;
    if (auto r = registry.set_aliases(rec.domain, rec.aliases); !r) return r;
    return registry.set_web(rec.domain, rec.https_only, rec.tls);
}

// Names of the --replace scratch files beside the jail's own (repair knows them too).
struct ReplaceFiles {
    std::string img, stage_img, old_img, stage_root, old_creds;
    ReplaceFiles(const Paths& p, const std::string& d)
        : img(p.image(d)), stage_img(img + ".restore"), old_img(img + ".old"),
          stage_root(p.jail_dir(d) + "/rootfs.restore"), old_creds(p.credentials(d) + ".old") {}
};

// The steps of --replace (see the top of the file).
std::vector<Step> replace_steps(Context& ctx, JailSteps& jail, JailPlan& plan, RestorePlan& rp, bool& was_running,
                                std::string& old_credentials) {
    const Paths& p = ctx.paths;
    std::string d = plan.rec.domain;
    const ReplaceFiles f(p, d);
    const std::string img = f.img, stage_img = f.stage_img, old_img = f.old_img, stage_root = f.stage_root,
                      old_creds = f.old_creds;
    bool progress = progress_wanted(ctx.options.json);
    std::vector<Step> steps;
    steps.push_back({"stage-disk",
                     [=, &plan]() -> Result<void> {
                         struct stat st {};
                         if (::lstat(old_img.c_str(), &st) == 0)  // the previous disk of a killed restore
                             return fail(ErrorKind::Conflict, old_img + " exists (an interrupted restore): run 'jailctl repair " + d + "'");
                         (void)remove_path(stage_img);
                         if (::mkdir(stage_root.c_str(), 0755) != 0 && errno != EEXIST)
                             return fail_errno("create " + stage_root, errno);
                         if (auto r = create_image(stage_img, plan.rec.size_bytes, plan.rec.sparse); !r) return r;
                         return format_ext4(stage_img, plan.rec.id_base, plan.rec.id_base,
                                            "jail" + std::to_string(plan.rec.id));
                     },
                     [=]() -> Result<void> {
                         if (auto r = unmount(stage_root); !r) return r;
                         (void)::rmdir(stage_root.c_str());
                         return remove_path(stage_img);
                     }});
    steps.push_back({"stage-mount", [=]() -> Result<void> {
                         auto loop = LoopDevice::attach(stage_img);
                         if (!loop) return std::unexpected(loop.error());
                         return mount_ext4(loop->path(), stage_root);
                     },
                     [=]() { return unmount(stage_root); }});
    steps.push_back({"extract", [=, &plan, &rp]() -> Result<void> {
                         auto r = extract_archive(rp.file, stage_root, plan.rec.id_base,
                                                  rp.archive.manifest.content_sha256, progress);
                         if (!r) return std::unexpected(r.error());
                         return {};
                     }});
    steps.push_back({"identity", [=, &plan, &rp]() { return rewrite_identity(stage_root, plan, rp); }});
    steps.push_back({"stage-unmount", [=]() -> Result<void> {
                         if (auto r = unmount(stage_root); !r) return r;
                         (void)::rmdir(stage_root.c_str());
                         return {};
                     }});
    // The old jail stops only now, with the new disk complete.
    auto swap_began = std::make_shared<bool>(false);
    steps.push_back({"swap",
                     [=, &ctx, &jail, &was_running, &old_credentials]() -> Result<void> {
                         *swap_began = true;
                         if (auto creds = read_credentials(p, d); creds)
                             old_credentials = render_credentials(*creds);
                         // On disk too: after a kill, repair puts the old disk AND its password back.
                         if (!old_credentials.empty())
                             if (auto r = write_file_atomically(old_creds, old_credentials, {.mode = 0600}); !r) return r;
                         if (was_running) {
                             if (auto r = jail.stop_jail(10).apply(); !r) return r;
                             if (auto r = jail.cleanup_network().apply(); !r) return r;
                         }
                         if (auto r = jail.unmount_disk().apply(); !r) return r;
                         if (auto r = rename_path(img, old_img); !r) return r;
                         return rename_path(stage_img, img);
                     },
                     [=, &jail, &was_running, &old_credentials]() -> Result<void> {
                         // Back to the old disk and, if it ran, the old jail. Nothing when the swap
                         // never began (a failure injected before it): the old jail keeps serving.
                         if (!*swap_began) return {};
                         (void)jail.stop_jail(5).apply();
                         (void)jail.cleanup_network().apply();
                         if (auto r = jail.unmount_disk().apply(); !r) return r;
                         struct stat st {};
                         if (::stat(old_img.c_str(), &st) == 0) {
                             if (::stat(img.c_str(), &st) == 0)
                                 if (auto r = rename_path(img, stage_img); !r) return r;
                             if (auto r = rename_path(old_img, img); !r) return r;
                         }
                         if (!old_credentials.empty())
                             if (auto r = write_file_atomically(p.credentials(d), old_credentials, {.mode = 0600}); !r) return r;
                         (void)remove_path(old_creds);
                         if (!was_running) return {};
                         if (auto r = jail.mount_disk().apply(); !r) return r;
                         return jail.start_jail().apply();
                     }});
    steps.push_back({"mount", [&jail]() { return jail.mount_disk().apply(); }});
    steps.push_back(jail.write_lxc_config());
    steps.push_back({"credentials", [&jail]() { return jail.save_credentials().apply(); }});
    steps.push_back(jail.start_jail());
    steps.push_back(jail.test_from_outside());
    // The registry follows the archive too, once it passed its test: profile, aliases, https-only,
    // certificate source; in the step that drops the old disk, so that a restore killed before
    // it (repair puts the old disk back) leaves the registry as it was. A failure here puts the
    // replaced jail's record back, as the undo of the swap puts its disk back.
    steps.push_back({"finish", [=, &ctx, &plan, &rp]() -> Result<void> {
                         auto r = record_site(ctx.registry(), plan.rec);
                         if (r) r = ctx.registry().set_size(d, plan.rec.size_bytes);
                         if (r) r = remove_path(old_creds);
                         if (r) r = remove_path(old_img);
                         if (!r) (void)record_site(ctx.registry(), *rp.old);
                         return r;
                     }});
    return steps;
}

}  // namespace

// After a --replace was killed (repair.cc runs these under the jail's lock): the staged disk is
// discarded; if the swap had begun, the old disk and its credentials go back; the old jail is
// started again when it ran before (`restart`). Even a restore killed after its test is undone:
// its new FTP password died with the process that was to print it.
std::vector<Step> undo_interrupted_replace(JailSteps& jail, bool restart) {
    const ReplaceFiles f(jail.paths(), jail.domain());
    std::vector<Step> steps;
    steps.push_back({"discard-stage", [f]() -> Result<void> {
                         if (auto r = unmount(f.stage_root); !r) return r;
                         if (::rmdir(f.stage_root.c_str()) != 0 && errno != ENOENT)
                             return fail_errno("remove " + f.stage_root, errno);
                         return remove_path(f.stage_img);
                     }});
    steps.push_back({"swap-back", [f, &jail]() -> Result<void> {
                         struct stat st {};
                         if (::lstat(f.old_img.c_str(), &st) != 0) return {};  // the swap had not begun
                         if (auto r = jail.stop_jail(5).apply(); !r) return r;
                         if (auto r = jail.cleanup_network().apply(); !r) return r;
                         if (auto r = jail.unmount_disk().apply(); !r) return r;
                         if (auto r = remove_path(f.img); !r) return r;  // the restored disk
                         if (auto r = rename_path(f.old_img, f.img); !r) return r;
                         if (::lstat(f.old_creds.c_str(), &st) == 0)
                             if (auto r = rename_path(f.old_creds, jail.paths().credentials(jail.domain())); !r) return r;
                         return {};
                     }});
    if (restart)
        steps.push_back({"restart", [&jail]() { return jail.start_if_stopped(); }});
    // Only the scratch files are named; a stale credentials.old alone (the swap undone) goes too.
    steps.push_back({"discard-old", [f]() { return remove_path(f.old_creds); }});
    return steps;
}

namespace {

int run_restore(Context& ctx, const RestoreArgs& args) {
    JailPlan plan;
    RestorePlan rp;
    if (auto r = validate(ctx, args, plan, rp); !r) return report_error(ctx, "validate", r.error());
    auto acme = checked_acme(ctx.paths);
    if (!acme) return report_error(ctx, "validate", acme.error());
    auto log = open_task_log(ctx, plan.rec.domain, args.verb);
    if (!log) return report_error(ctx, "log", log.error());
    log_warnings(plan, *log);
    auto lock = lock_jail(ctx.paths, plan.rec.domain);
    if (!lock) return report_error(ctx, "lock", lock.error());
    log->info("validate", "archive " + rp.file + ": " +
                              (rp.stream ? std::string("a stream, its entries checked as they are extracted")
                                         : std::to_string(rp.archive.entries) + " entries, content sha256 " +
                                               rp.archive.manifest.content_sha256 + " verified") +
                              "; from " + rp.archive.manifest.domain + " (" + rp.archive.manifest.ip + ")");

    JailSteps jail{ctx, plan};
    bool was_running = false;
    std::string old_credentials;
    std::vector<Step> steps;
    if (rp.old) {
        // Known before the task (the lock holds it): the swap's undo restarts a jail that ran.
        was_running = lxc_running(ctx.paths.lxcpath, plan.rec.domain);
        steps = replace_steps(ctx, jail, plan, rp, was_running, old_credentials);
    } else {
        bool progress = progress_wanted(ctx.options.json);
        steps = {jail.register_jail(), jail.prepare_host(), jail.create_disk(), jail.mount_disk()};
        steps.push_back({"extract", [&]() -> Result<void> {
                             const std::string rootfs = ctx.paths.rootfs(plan.rec.domain);
                             auto r = rp.stream ? extract_archive_stream(*rp.stream, rootfs, plan.rec.id_base, progress)
                                                : extract_archive(rp.file, rootfs, plan.rec.id_base,
                                                                  rp.archive.manifest.content_sha256, progress);
                             if (!r) return std::unexpected(r.error());
                             log->info("extract", std::to_string(r->entries) + " entries, " +
                                                      std::to_string(r->file_bytes) + " file bytes");
                             return {};
                         }});
        steps.push_back({"identity", [&]() {
                             auto r = rewrite_identity(ctx.paths.rootfs(plan.rec.domain), plan, rp);
                             return r ? ctx.registry().set_web(plan.rec.domain, plan.rec.https_only, plan.rec.tls) : r;
                         }});
        for (auto s : {jail.write_lxc_config(), jail.save_credentials(), jail.start_jail()}) steps.push_back(s);
        // A site that ends up self-signed (a new identity, an archived certificate that no longer
        // fits) gets an ACME one as at create, best effort, before its test.
        if (acme->enabled())
            for (auto& step : acme_if_self_signed_steps(jail, *acme)) steps.push_back(std::move(step));
        steps.push_back(jail.test_from_outside());
        if (rp.stream)  // the stream's extract did not sync: the site already answers meanwhile
            steps.push_back({"sync", [&]() { return sync_jail_tree(ctx.paths.rootfs(plan.rec.domain)); }});
        steps.push_back(jail.mark_ready());
    }
    // The journal says whether a --replace found the jail running: repair restarts it after a kill.
    std::string journal_verb = args.verb;
    if (rp.old) journal_verb = was_running ? "restore-replace" : "restore-replace-stopped";
    TaskOutcome outcome = run_journaled(ctx, *log, plan.rec.domain, journal_verb, steps);
    log_warnings(plan, *log);  // the address check's, known once the jail started

    nlohmann::json fields = {{"domain", plan.rec.domain}, {"ip", plan.rec.ip}, {"size_bytes", plan.rec.size_bytes},
                             {"archive", rp.file},        {"from_domain", rp.archive.manifest.domain},
                             {"replaced", rp.old.has_value()}};
    std::vector<std::string> text;
    if (outcome.ok) {
        report_new_jail(plan, fields, text);  // then what a restore adds: its source, the password's fate
        fields["ftp"]["password_kept"] = rp.keep_password;
        text.insert(text.begin() + 3, "from:      " + rp.file + " (" + rp.archive.manifest.domain + ", " +
                                          rp.archive.manifest.archived_at + ")");
        text.insert(text.begin() + 6, std::string("password:  ") + (rp.keep_password
                                                                     ? "unchanged (the one the archived hash was made from)"
                                                                     : "new (an archive holds only the hash)"));
    }
    return report(ctx, outcome, fields, text, log->path());
}

// Registers restore or import (`verb`): the same options, import without --replace.
void add_restore_or_import(CLI::App& app, Context& ctx, Action& action, const std::string& verb, const char* help) {
    auto [cmd, args] = add_command<RestoreArgs>(app, ctx, action, verb, help, run_restore);
    args->verb = verb;
    cmd->add_option("file", args->file, "The archive (.tar.zst) written by backup or export")->required();
    cmd->add_option("--domain", args->domain, "Domain of the new jail (default: the archive's)")
        ->check(CLI::Validator([](std::string& v) { return v.empty() ? std::string("domain: is empty") : std::string(); }, "DOMAIN"));
    cmd->add_option("--ip", args->ip, "IPv4 of the new jail (default: the archive's)");
    cmd->add_option("--size", args->size, "Disk quota (default: the archive's, at least what the content needs)");
    add_address_options(cmd, args->address);
    if (verb == "restore")
        cmd->add_flag("--replace", args->replace, "Replace the existing jail of that domain once the restore passed its tests");
}

}  // namespace

void add_restore(CLI::App& app, Context& ctx, Action& action) {
    add_restore_or_import(app, ctx, action, "restore", "Recreate a jail from a backup (same or new identity)");
    add_restore_or_import(app, ctx, action, "import", "Create a jail from an exported archive (e.g. from another host)");
}

}  // namespace jailctl
