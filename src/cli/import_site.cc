// jailctl import-site DOMAIN --ip IPV4 --size SIZE --from DIR|TARBALL (physical to virtual):
// a create whose document root (/srv/site/www) is filled from an existing site.
//
// Source: a directory, or a .tar / .tar.gz / .tar.zst (any tar libarchive reads, any filter;
// detected by content, not by name). The same rules apply to both, and are checked twice: in
// a read-only pass during validation (nothing is created when the site is unsafe or does not
// fit), and again while writing (a source changed in between fails the step and the whole
// create is undone).
//   refused: absolute paths, '..' components, device nodes, fifos, sockets, setuid/setgid
//            files, symlinks that are absolute or climb out of the document root;
//   kept:    directories, regular files, symlinks inside the site, hard links (tar);
//   owner:   the FTP user (2000:2000 inside, id_base+2000 on the host), so the customer can
//            change everything over FTP;
//   modes:   directories 0755, files 0644, or 0755 when any execute bit was set.
// Writing goes through directory fds below the jail's document root with openat2
// (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS): a symlink the import itself created can never
// redirect a later entry (the classic tar "a -> /etc, a/passwd" attack).
//
// Steps: create's, plus "import-site" after configure-www (so an imported index.html replaces
// the placeholder), and a "test" that proves the IMPORTED page is served: GET / must contain
// the imported index.html's <title> (or its first bytes), then the FTPS probe as in create.
// Without an index.html in the site the placeholder stays and create's test runs unchanged.
// Validation is create's, repeated here (create.cc keeps its own in an anonymous namespace).
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <set>

#include "cli/jail_ops.h"
#include "cli/verbs.h"
#include "host/archive.h"
#include "host/image.h"
#include "host/jail_fs.h"
#include "host/network.h"
#include "jail/byte_size.h"
#include "jail/domain.h"
#include "jail/ftp_user.h"
#include "jail/ipv4.h"
#include "services/password_hash.h"
#include "services/probe.h"
#include "util/password.h"

namespace jailctl {

// Pure rules, declared for the unit test (tests/unit/cli/import_site_test.cc).
Result<std::string> clean_site_path(const std::string& raw);
Result<void> check_site_symlink(const std::string& link_path, const std::string& target);
mode_t site_mode(bool is_dir, mode_t mode);
std::string page_marker(const std::string& html);

namespace {

constexpr const char* kDocRoot = "srv/site/www";

std::vector<std::string> split_path(const std::string& p) {
    std::vector<std::string> parts;
    size_t at = 0;
    while (at <= p.size()) {
        auto slash = p.find('/', at);
        if (slash == std::string::npos) slash = p.size();
        parts.push_back(p.substr(at, slash - at));
        at = slash + 1;
    }
    return parts;
}

}  // namespace

// "./a//b/" -> "a/b"; "" or "." -> "" (the document root itself). Refuses absolute paths,
// '..' components, NUL bytes and overlong paths.
Result<std::string> clean_site_path(const std::string& raw) {
    if (raw.find('\0') != std::string::npos) return fail_input("from", "entry with a NUL byte in its name");
    if (!raw.empty() && raw[0] == '/') return fail_input("from", "absolute path '" + raw + "' refused");
    if (raw.size() > 4096) return fail_input("from", "path longer than 4096 bytes refused");
    std::string out;
    for (const auto& part : split_path(raw)) {
        if (part.empty() || part == ".") continue;
        if (part == "..") return fail_input("from", "path '" + raw + "' with '..' refused");
        out += (out.empty() ? "" : "/") + part;
    }
    return out;
}

// A symlink at `link_path` (relative to the document root) may point only to a relative
// target that stays inside the document root.
Result<void> check_site_symlink(const std::string& link_path, const std::string& target) {
    if (target.empty() || target[0] == '/')
        return fail_input("from", "symlink '" + link_path + "' -> '" + target + "' leaves the site (absolute)");
    if (target.find('\0') != std::string::npos) return fail_input("from", "symlink '" + link_path + "' with a NUL byte");
    auto parts = split_path(link_path);
    parts.pop_back();  // the link's own name: resolution starts in its directory
    std::vector<std::string> stack;
    for (const auto& p : parts)
        if (!p.empty() && p != ".") stack.push_back(p);
    for (const auto& p : split_path(target)) {
        if (p.empty() || p == ".") continue;
        if (p == "..") {
            if (stack.empty())
                return fail_input("from", "symlink '" + link_path + "' -> '" + target + "' leaves the site");
            stack.pop_back();
        } else {
            stack.push_back(p);
        }
    }
    return {};
}

mode_t site_mode(bool is_dir, mode_t mode) { return is_dir || (mode & 0111) ? 0755 : 0644; }

// What GET / must contain to prove the imported index.html is served: its <title> element,
// else its first 256 bytes.
std::string page_marker(const std::string& html) {
    auto open = html.find("<title>");
    if (open != std::string::npos) {
        auto close = html.find("</title>", open);
        if (close != std::string::npos && close - open < 1024) return html.substr(open, close + 8 - open);
    }
    return html.substr(0, 256);
}

namespace {

enum class Kind { File, Dir, Symlink, Hardlink };

// Where the entries go: the jail's document root, or nowhere (the validation pass).
class SiteWriter {
public:
    SiteWriter(int www_fd, uint32_t owner) : www_(www_fd), owner_(owner) {}

    // A directory fd for `rel_dir` below the document root, symlinks never followed;
    // missing parents are created (tar files need not list them).
    Result<Fd> dir(const std::string& rel_dir) {
        if (rel_dir.empty()) return Fd(::fcntl(www_, F_DUPFD_CLOEXEC, 3));
        open_how how{};
        how.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
        how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
        int fd = static_cast<int>(::syscall(SYS_openat2, www_, rel_dir.c_str(), &how, sizeof how));
        if (fd >= 0) return Fd(fd);
        if (errno != ENOENT) return fail_errno("open /" + std::string(kDocRoot) + "/" + rel_dir + " in the jail", errno);
        if (auto r = make_dir(rel_dir); !r) return std::unexpected(r.error());
        return dir(rel_dir);
    }

    Result<void> make_dir(const std::string& path) {
        auto [parent, base] = split(path);
        auto pfd = dir(parent);
        if (!pfd) return std::unexpected(pfd.error());
        if (::mkdirat(pfd->get(), base.c_str(), 0700) != 0 && errno != EEXIST) return fail_errno(where(path, "create"), errno);
        Fd d(::openat(pfd->get(), base.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!d.valid()) return fail_errno(where(path, "open directory"), errno);
        if (::fchown(d.get(), owner_, owner_) != 0 || ::fchmod(d.get(), 0755) != 0)
            return fail_errno(where(path, "set owner and mode of"), errno);
        return {};
    }

    Result<Fd> create_file(const std::string& path) {
        auto [parent, base] = split(path);
        auto pfd = dir(parent);
        if (!pfd) return std::unexpected(pfd.error());
        Fd fd(::openat(pfd->get(), base.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600));
        if (!fd.valid()) return fail_errno(where(path, "create"), errno);
        struct stat st {};
        if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return fail(where(path, "create") + ": not a regular file");
        return fd;
    }

    Result<void> finish_file(int fd, const std::string& path, mode_t mode) {
        if (::fchown(fd, owner_, owner_) != 0 || ::fchmod(fd, site_mode(false, mode)) != 0)
            return fail_errno(where(path, "set owner and mode of"), errno);
        return {};
    }

    Result<void> symlink(const std::string& path, const std::string& target) {
        auto [parent, base] = split(path);
        auto pfd = dir(parent);
        if (!pfd) return std::unexpected(pfd.error());
        ::unlinkat(pfd->get(), base.c_str(), 0);  // replace a file of the same name (not a directory)
        if (::symlinkat(target.c_str(), pfd->get(), base.c_str()) != 0) return fail_errno(where(path, "create link"), errno);
        if (::fchownat(pfd->get(), base.c_str(), owner_, owner_, AT_SYMLINK_NOFOLLOW) != 0)
            return fail_errno(where(path, "chown link"), errno);
        return {};
    }

    Result<void> hardlink(const std::string& path, const std::string& target) {
        auto [tparent, tbase] = split(target);
        auto tfd = dir(tparent);
        if (!tfd) return std::unexpected(tfd.error());
        struct stat st {};
        if (::fstatat(tfd->get(), tbase.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
            return fail_input("from", "hard link '" + path + "' to '" + target + "', which is not a file seen before");
        auto [parent, base] = split(path);
        auto pfd = dir(parent);
        if (!pfd) return std::unexpected(pfd.error());
        ::unlinkat(pfd->get(), base.c_str(), 0);
        if (::linkat(tfd->get(), tbase.c_str(), pfd->get(), base.c_str(), 0) != 0)
            return fail_errno(where(path, "create hard link"), errno);
        return {};
    }

private:
    static std::pair<std::string, std::string> split(const std::string& p) {
        auto slash = p.rfind('/');
        if (slash == std::string::npos) return {"", p};
        return {p.substr(0, slash), p.substr(slash + 1)};
    }
    static std::string where(const std::string& path, const std::string& what) {
        return what + " /" + std::string(kDocRoot) + "/" + path + " in the jail";
    }
    int www_;
    uint32_t owner_;
};

struct SiteStats {
    uint64_t files = 0, dirs = 0, links = 0, bytes = 0;
    std::string index_html;  // content of the top-level index.html, when the site has one
    bool has_index = false;
};

// Receives every checked entry; `writer` null: the validation pass (count only).
class SiteSink {
public:
    explicit SiteSink(SiteWriter* writer) : writer_(writer) {}
    SiteStats stats;

    Result<void> entry(const std::string& raw_path, Kind kind, mode_t mode, const std::string& link) {
        auto path = clean_site_path(raw_path);
        if (!path) return std::unexpected(path.error());
        if (mode & (S_ISUID | S_ISGID)) return fail_input("from", "setuid/setgid entry '" + raw_path + "' refused");
        if (path->empty()) {
            if (kind != Kind::Dir) return fail_input("from", "entry '" + raw_path + "' names the site root itself");
            return {};
        }
        // An entry below a symlink of the site would be written through it: refused.
        for (auto slash = path->find('/'); slash != std::string::npos; slash = path->find('/', slash + 1))
            if (symlinks_.count(path->substr(0, slash)))
                return fail_input("from", "entry '" + raw_path + "' lies below the symlink '" + path->substr(0, slash) + "'");
        if (kind == Kind::Symlink) symlinks_.insert(*path);
        else symlinks_.erase(*path);
        current_ = *path;
        switch (kind) {
            case Kind::Dir:
                ++stats.dirs;
                return writer_ ? writer_->make_dir(*path) : Result<void>{};
            case Kind::Symlink:
                if (auto r = check_site_symlink(*path, link); !r) return r;
                ++stats.links;
                return writer_ ? writer_->symlink(*path, link) : Result<void>{};
            case Kind::Hardlink: {
                auto target = clean_site_path(link);
                if (!target) return std::unexpected(target.error());
                if (target->empty()) return fail_input("from", "hard link '" + raw_path + "' to the site root");
                ++stats.links;
                return writer_ ? writer_->hardlink(*path, *target) : Result<void>{};
            }
            case Kind::File:
                ++stats.files;
                file_mode_ = mode;
                if (*path == "index.html") {
                    stats.has_index = true;
                    stats.index_html.clear();
                }
                if (!writer_) return {};
                auto fd = writer_->create_file(*path);
                if (!fd) return std::unexpected(fd.error());
                file_ = std::move(*fd);
                return {};
        }
        return {};
    }
    Result<void> data(const void* buf, size_t n) {
        stats.bytes += n;
        if (current_ == "index.html" && stats.index_html.size() < (1 << 20))
            stats.index_html.append(static_cast<const char*>(buf), n);
        if (!file_.valid()) return {};
        for (size_t off = 0; off < n;) {
            ssize_t w = ::write(file_.get(), static_cast<const char*>(buf) + off, n - off);
            if (w < 0 && errno == EINTR) continue;
            if (w < 0) return fail_errno("write /" + std::string(kDocRoot) + "/" + current_ + " in the jail", errno);
            off += static_cast<size_t>(w);
        }
        return {};
    }
    Result<void> end_file() {
        if (!file_.valid()) return {};
        auto r = writer_->finish_file(file_.get(), current_, file_mode_);
        file_ = Fd();
        return r;
    }

private:
    SiteWriter* writer_;
    std::set<std::string> symlinks_;
    std::string current_;
    Fd file_;
    mode_t file_mode_ = 0;
};

// --- a directory ----------------------------------------------------------------------------

Result<void> walk_dir(int dir, const std::string& rel, SiteSink& sink) {
    int fd = ::openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return fail_errno("open " + rel, errno);
    DIR* d = ::fdopendir(fd);
    if (!d) {
        int err = errno;
        ::close(fd);
        return fail_errno("read " + rel, err);
    }
    std::unique_ptr<DIR, int (*)(DIR*)> owner(d, ::closedir);
    std::vector<std::string> names;
    while (dirent* e = ::readdir(d))
        if (std::string n = e->d_name; n != "." && n != "..") names.push_back(n);
    std::sort(names.begin(), names.end());
    for (const auto& name : names) {
        const std::string path = rel.empty() ? name : rel + "/" + name;
        struct stat st {};
        if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return fail_errno("stat " + path, errno);
        if (S_ISDIR(st.st_mode)) {
            if (auto r = sink.entry(path, Kind::Dir, st.st_mode, ""); !r) return r;
            Fd sub(::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (!sub.valid()) return fail_errno("open " + path, errno);
            if (auto r = walk_dir(sub.get(), path, sink); !r) return r;
        } else if (S_ISLNK(st.st_mode)) {
            std::string target(4096, '\0');
            ssize_t n = ::readlinkat(dir, name.c_str(), target.data(), target.size());
            if (n < 0) return fail_errno("read link " + path, errno);
            target.resize(static_cast<size_t>(n));
            if (auto r = sink.entry(path, Kind::Symlink, st.st_mode, target); !r) return r;
        } else if (S_ISREG(st.st_mode)) {
            Fd in(::openat(dir, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
            if (!in.valid()) return fail_errno("open " + path, errno);
            if (auto r = sink.entry(path, Kind::File, st.st_mode, ""); !r) return r;
            char buf[65536];
            for (;;) {
                ssize_t n = ::read(in.get(), buf, sizeof buf);
                if (n < 0 && errno == EINTR) continue;
                if (n < 0) return fail_errno("read " + path, errno);
                if (n == 0) break;
                if (auto r = sink.data(buf, static_cast<size_t>(n)); !r) return r;
            }
            if (auto r = sink.end_file(); !r) return r;
        } else {
            return fail_input("from", "'" + path + "' is a device node, fifo or socket: refused");
        }
    }
    return {};
}

// --- a tarball ------------------------------------------------------------------------------

Result<void> walk_tar(const std::string& file, SiteSink& sink) {
    std::unique_ptr<archive, int (*)(archive*)> a(archive_read_new(), archive_read_free);
    archive_read_support_filter_all(a.get());
    archive_read_support_format_tar(a.get());
    if (archive_read_open_filename(a.get(), file.c_str(), 1 << 16) != ARCHIVE_OK)
        return fail_input("from", file + ": " + archive_error_string(a.get()));
    for (;;) {
        archive_entry* e = nullptr;
        int r = archive_read_next_header(a.get(), &e);
        if (r == ARCHIVE_EOF) break;
        if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
            return fail_input("from", file + ": not a readable tar archive: " + archive_error_string(a.get()));
        const char* name = archive_entry_pathname(e);
        std::string path = name ? name : "";
        mode_t mode = archive_entry_mode(e);
        const char* hard = archive_entry_hardlink(e);
        Result<void> ok;
        if (hard) {
            ok = sink.entry(path, Kind::Hardlink, mode & 07777, hard);
        } else {
            switch (archive_entry_filetype(e)) {
                case AE_IFDIR: ok = sink.entry(path, Kind::Dir, mode, ""); break;
                case AE_IFLNK: {
                    const char* t = archive_entry_symlink(e);
                    ok = sink.entry(path, Kind::Symlink, mode & 07777, t ? t : "");
                    break;
                }
                case AE_IFREG: {
                    ok = sink.entry(path, Kind::File, mode, "");
                    if (!ok) break;
                    const void* buf;
                    size_t n;
                    la_int64_t off;
                    int d;
                    while ((d = archive_read_data_block(a.get(), &buf, &n, &off)) == ARCHIVE_OK)
                        if (ok = sink.data(buf, n); !ok) break;
                    if (ok && d != ARCHIVE_EOF)
                        return fail_input("from", file + ": truncated or corrupt at '" + path + "': " + archive_error_string(a.get()));
                    if (ok) ok = sink.end_file();
                    break;
                }
                default: ok = fail_input("from", "'" + path + "' is a device node, fifo or socket: refused");
            }
        }
        if (!ok) return ok;
    }
    return {};
}

struct ImportArgs {
    NewJailArgs jail;
    std::string from;
};

Result<SiteStats> scan_site(const std::string& from, SiteWriter* writer) {
    SiteSink sink(writer);
    struct stat st {};
    if (::stat(from.c_str(), &st) != 0) return fail_input("from", from + ": " + std::strerror(errno));
    if (S_ISDIR(st.st_mode)) {
        Fd dir(::open(from.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!dir.valid()) return fail_input("from", from + ": " + std::strerror(errno));
        if (auto r = walk_dir(dir.get(), "", sink); !r) return std::unexpected(r.error());
    } else if (S_ISREG(st.st_mode)) {
        if (auto r = walk_tar(from, sink); !r) return std::unexpected(r.error());
    } else {
        return fail_input("from", from + " is neither a directory nor a tar file");
    }
    return sink.stats;
}

// create's validation (validate_new_jail), plus the site: read once, checked, sized.
Result<SiteStats> validate(Context& ctx, const ImportArgs& args, JailPlan& plan) {
    Result<SiteStats> site = fail_input("from", "not read");
    auto fits = [&](const ByteSize& size) -> Result<void> {
        site = scan_site(args.from, nullptr);
        if (!site) return std::unexpected(site.error());
        // The skeleton of a jail takes well under 1 MiB; the rest of usable space is the site's.
        const uint64_t room = usable_bytes(size.bytes());
        const uint64_t need = site->bytes + (site->files + site->dirs + site->links) * 4096 + (1 << 20);
        if (need > room)
            return fail_input("size", size.human() + " is too small for the site (" + human_bytes(site->bytes) +
                                          " in " + std::to_string(site->files) + " files)");
        return {};
    };
    if (auto r = validate_new_jail(ctx, args.jail, plan, fits); !r) return std::unexpected(r.error());
    return site;
}

Step import_step(Ops& ops, const std::string& from, SiteStats& imported) {
    return {"import-site", [&ops, from, &imported]() -> Result<void> {
                auto root = open_jail_root(ops.paths().rootfs(ops.domain()));
                if (!root) return std::unexpected(root.error());
                auto www = open_jail_dir(root->get(), kDocRoot, O_RDONLY | O_DIRECTORY);
                if (!www) return std::unexpected(www.error());
                SiteWriter writer(www->get(), ops.plan.rec.id_base + kFtpUid);
                auto stats = scan_site(from, &writer);
                if (!stats) return std::unexpected(stats.error());
                imported = *stats;
                return {};
            }};
}

Step test_step(Ops& ops, const SiteStats& imported) {
    return {"test", [&ops, &imported]() {
                return test_jail(ops.ctx, ops.plan.rec,
                                 imported.has_index ? std::optional(page_marker(imported.index_html)) : std::nullopt);
            }};
}

int run_import_site(Context& ctx, const ImportArgs& args) {
    JailPlan plan;
    auto site = validate(ctx, args, plan);
    if (!site) return report_error(ctx, "validate", site.error());
    auto log = open_task_log(ctx, plan.rec.domain, "import-site");
    if (!log) return report_error(ctx, "log", log.error());
    log_warnings(plan, *log);
    auto lock = lock_jail(ctx.paths, plan.rec.domain);
    if (!lock) return report_error(ctx, "lock", lock.error());

    Ops ops{ctx, plan};
    SiteStats imported;
    std::vector<Step> steps = {ops.register_jail(),   ops.prepare_host(),       ops.create_disk(),
                               ops.mount_disk(),      ops.populate(),           ops.configure_www(),
                               import_step(ops, args.from, imported),           ops.configure_ftp(),
                               ops.write_lxc_config(), ops.save_credentials(),  ops.start_jail(),
                               test_step(ops, imported), ops.mark_ready()};
    log->info("task", "site from " + args.from + ": " + std::to_string(site->files) + " files, " +
                          std::to_string(site->dirs) + " directories, " + std::to_string(site->links) + " links, " +
                          std::to_string(site->bytes) + " bytes");
    TaskOutcome outcome = run_journaled(ctx, *log, plan.rec.domain, "import-site", steps, {!args.jail.keep_on_failure});

    nlohmann::json fields = {{"domain", plan.rec.domain}, {"ip", plan.rec.ip}, {"size_bytes", plan.rec.size_bytes}};
    std::vector<std::string> text;
    if (outcome.ok) {
        report_new_jail(plan, fields, text);
        fields["site"] = {{"from", args.from},
                          {"files", imported.files},
                          {"directories", imported.dirs},
                          {"links", imported.links},
                          {"bytes", imported.bytes},
                          {"index_html", imported.has_index}};
        text.push_back("site:      " + std::to_string(imported.files) + " files, " + std::to_string(imported.dirs) +
                    " directories, " + std::to_string(imported.links) + " links, " + human_bytes(imported.bytes) +
                    " from " + args.from);
    }
    return report(ctx, outcome, fields, text, log->path());
}

}  // namespace

void add_import_site(CLI::App& app, Context& ctx, Action& action) {
    auto args = std::make_shared<ImportArgs>();
    auto* cmd = app.add_subcommand("import-site", "Create a jail whose web site comes from a directory or tarball");
    cmd->add_option("domain", args->jail.domain, "The site's domain name (IDN allowed)")->required();
    cmd->add_option("--ip", args->jail.ip, "The jail's public IPv4 address")->required();
    cmd->add_option("--size", args->jail.size, "Disk quota, e.g. 512M, 2G (" JAILCTL_SIZE_UNITS "; minimum 64 MiB)")->required();
    cmd->add_option("--from", args->from, "The site: a directory, or a .tar, .tar.gz or .tar.zst")->required();
    cmd->add_flag("--sparse", args->jail.sparse, "Thin-provision the disk image instead of preallocating it");
    cmd->add_option("--ftp-tls", args->jail.ftp_tls, "FTPS policy: required (default) or optional");
    cmd->add_option("--memory", args->jail.memory, "Memory limit of the whole jail (default 256M)");
    cmd->add_option("--cpus", args->jail.cpus, "CPU limit in CPUs, e.g. 0.5 (default 1)");
    cmd->add_option("--pids", args->jail.pids, "Process and thread limit (default 512)");
    cmd->add_flag("--keep-on-failure", args->jail.keep_on_failure, "On KO, keep what was built, for debugging");
    add_address_options(cmd, args->jail.address);
    cmd->callback([&ctx, &action, args] { action = [&ctx, args] { return run_import_site(ctx, *args); }; });
}

}  // namespace jailctl
