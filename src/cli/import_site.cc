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
// The walk, the tar reading and the writing are host/tree.h's, as for restore: writes go through
// directory fds below the jail's document root, never following a symlink, so a symlink the
// import itself created can never redirect a later entry (the classic tar "a -> /etc,
// a/passwd" attack). A sparse tar entry (`tar -S`) is imported with its full content and holes.
//
// Steps: create's, plus "import-site" after configure-www (an imported index.html replaces the
// placeholder; a site whose index is index.htm, or index.php under --profile php, has the
// placeholder removed, as nginx would list it first), and a "test" that proves the IMPORTED page
// is served: GET / must contain the served index.html's or index.htm's <title> (or its first
// bytes); an index.php, or an index that is a link, must answer without a server error. Then
// the FTPS probe as in create. Without an index page the placeholder stays and create's test
// runs unchanged.
// Validation is create's, repeated here (create.cc keeps its own in an anonymous namespace).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <set>

#include "cli/acme_ops.h"
#include "cli/jail_ops.h"
#include "cli/site_rules.h"
#include "cli/verbs.h"
#include "host/archive.h"
#include "host/image.h"
#include "host/jail_fs.h"
#include "host/network.h"
#include "host/tree.h"
#include "jail/byte_size.h"
#include "jail/domain.h"
#include "jail/ftp_user.h"
#include "jail/ipv4.h"
#include "services/password_hash.h"
#include "services/probe.h"
#include "util/password.h"

namespace jailctl {

namespace {

constexpr const char* kDocRoot = "srv/site/www";

}  // namespace

// "./a//b/" -> "a/b"; "" or "." -> "" (the document root itself). Refuses absolute paths,
// '..' components, NUL bytes and overlong paths (host/tree.h, in its lenient form).
Result<std::string> clean_site_path(const std::string& raw) {
    auto path = safe_relative_path(raw, PathForm::Lenient);
    if (!path) return fail_input("from", "entry '" + raw.substr(0, 256) + "' refused: " + path.error());
    return *path;
}

// A symlink at `link_path` (relative to the document root) may point only to a relative
// target that stays inside the document root (an absolute one would name the jail's root).
Result<void> check_site_symlink(const std::string& link_path, const std::string& target) {
    if (target.empty() || target[0] == '/')
        return fail_input("from", "symlink '" + link_path + "' -> '" + target + "' leaves the site (absolute)");
    if (target.find('\0') != std::string::npos) return fail_input("from", "symlink '" + link_path + "' with a NUL byte");
    if (!symlink_stays_inside(link_path, target))
        return fail_input("from", "symlink '" + link_path + "' -> '" + target + "' leaves the site");
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

bool is_index_page(const std::string& path) { return path == "index.html" || path == "index.htm" || path == "index.php"; }

struct SiteStats {
    uint64_t files = 0, dirs = 0, links = 0, bytes = 0;
    // The site's top-level index pages (index.html, index.htm, index.php) and the content of the
    // HTML ones (capped; empty for a link): nginx serves the first of its `index` list at /.
    std::map<std::string, std::string> index_pages;
    bool has_index_html() const { return index_pages.contains("index.html"); }
    // The page nginx serves at / for `profile` (nginx.cc's index order: index.php first for php),
    // or "" when the site has none of them (the placeholder stays).
    std::string served_index(Profile profile) const {
        for (const char* name : {"index.php", "index.html", "index.htm"})
            if (index_pages.contains(name) && (profile == Profile::Php || std::string_view(name) != "index.php")) return name;
        return "";
    }
};

// Receives every entry of the site (from a directory or a tar file), applies the site's rules
// and, given a writer, writes it below the document root; `writer` null: the validation pass
// (check and count only).
class SiteSink {
public:
    SiteSink(TreeWriter* writer, Owner owner) : writer_(writer), owner_(owner) {}
    SiteStats stats;

    Result<void> entry(const EntryMeta& e) {
        auto path = clean_site_path(e.path);
        if (!path) return std::unexpected(path.error());
        if (e.mode & (S_ISUID | S_ISGID)) return fail_input("from", "setuid/setgid entry '" + e.path + "' refused");
        if (path->empty()) {
            if (e.type != EntryType::Dir) return fail_input("from", "entry '" + e.path + "' names the site root itself");
            return {};
        }
        // An entry below a symlink of the site would be written through it: refused.
        for (auto slash = path->find('/'); slash != std::string::npos; slash = path->find('/', slash + 1))
            if (symlinks_.count(path->substr(0, slash)))
                return fail_input("from", "entry '" + e.path + "' lies below the symlink '" + path->substr(0, slash) + "'");
        if (e.type == EntryType::Symlink) symlinks_.insert(*path);
        else symlinks_.erase(*path);
        current_ = *path;
        switch (e.type) {
            case EntryType::Dir:
                ++stats.dirs;
                if (!writer_) return {};
                if (auto dir = writer_->make_dir(*path, owner_, site_mode(true, e.mode)); !dir)
                    return std::unexpected(dir.error());
                return {};
            case EntryType::Symlink:
                if (auto r = check_site_symlink(*path, e.link_target); !r) return r;
                ++stats.links;
                if (is_index_page(*path)) stats.index_pages[*path].clear();
                return writer_ ? writer_->symlink(*path, e.link_target, owner_, std::nullopt) : Result<void>{};
            case EntryType::Hardlink: {
                auto target = clean_site_path(e.link_target);
                if (!target) return std::unexpected(target.error());
                if (target->empty()) return fail_input("from", "hard link '" + e.path + "' to the site root");
                ++stats.links;
                if (is_index_page(*path)) stats.index_pages[*path].clear();
                return writer_ ? writer_->hardlink(*path, *target) : Result<void>{};
            }
            case EntryType::File: {
                ++stats.files;
                if (is_index_page(*path)) stats.index_pages[*path].clear();
                if (!writer_) return {};
                auto fd = writer_->create_file(*path, owner_, site_mode(false, e.mode));
                if (!fd) return std::unexpected(fd.error());
                file_ = std::move(*fd);
                return {};
            }
            case EntryType::Other: break;
        }
        return fail_input("from", "'" + e.path + "' is a device node, fifo or socket: refused");
    }
    // A block of the current file's data (a hole of a sparse tar entry counts as its zeros).
    Result<void> data(const DataBlock& b) {
        stats.bytes += b.size;
        if (current_ == "index.html" || current_ == "index.htm") {
            std::string& page = stats.index_pages[current_];
            if (page.size() < (1 << 20)) {
                if (b.data) page.append(static_cast<const char*>(b.data), b.size);
                else page.append(b.size, '\0');
            }
        }
        return file_.valid() ? writer_->write_block(file_.get(), current_, b) : Result<void>{};
    }
    Result<void> end_file(int64_t size) {
        if (!file_.valid()) return {};
        auto r = writer_->finish_file(file_.get(), current_, size, std::nullopt);
        file_ = Fd();
        return r;
    }

private:
    TreeWriter* writer_;
    Owner owner_;
    std::set<std::string> symlinks_;
    std::string current_;
    Fd file_;
};

Result<void> walk_dir(int dir, SiteSink& sink) {
    return walk_tree(dir, [&sink](const TreeEntry& t) -> Result<void> {
        if (auto r = sink.entry(t.meta); !r) return r;
        if (t.meta.type != EntryType::File) return {};
        if (auto r = read_tree_file(t, [&sink](const DataBlock& b) { return sink.data(b); }); !r) return r;
        return sink.end_file(t.meta.size);
    });
}

Result<void> walk_tar(const std::string& file, SiteSink& sink) {
    Fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return fail_input("from", file + ": " + std::strerror(errno));
    auto tar = TarReader::open(fd.get(), file, TarReader::Filters::Any, "from");
    if (!tar) return std::unexpected(tar.error());
    for (;;) {
        auto next = tar->next();
        if (!next) return std::unexpected(next.error());
        if (!*next) return {};
        if (auto r = sink.entry(**next); !r) return r;
        if ((*next)->type != EntryType::File) continue;
        auto size = tar->read_data([&sink](const DataBlock& b) { return sink.data(b); });
        if (!size) return std::unexpected(size.error());
        if (auto r = sink.end_file(*size); !r) return r;
    }
}

struct ImportArgs {
    NewJailArgs jail;
    std::string from;
};

Result<SiteStats> scan_site(const std::string& from, TreeWriter* writer, Owner owner) {
    SiteSink sink(writer, owner);
    struct stat st {};
    if (::stat(from.c_str(), &st) != 0) return fail_input("from", from + ": " + std::strerror(errno));
    if (S_ISDIR(st.st_mode)) {
        Fd dir(::open(from.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!dir.valid()) return fail_input("from", from + ": " + std::strerror(errno));
        if (auto r = walk_dir(dir.get(), sink); !r) return std::unexpected(r.error());
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
        site = scan_site(args.from, nullptr, {});
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

Step import_step(JailSteps& jail, const std::string& from, SiteStats& imported) {
    return {"import-site", [&jail, from, &imported]() -> Result<void> {
                auto root = open_jail_root(jail.paths().rootfs(jail.domain()));
                if (!root) return std::unexpected(root.error());
                auto www = open_jail_dir(root->get(), kDocRoot, O_RDONLY | O_DIRECTORY);
                if (!www) return std::unexpected(www.error());
                const uid_t ftp = jail.plan.rec.id_base + kFtpUid;  // the customer's: changeable over FTP
                TreeWriter writer(www->get(), kDocRoot, TreeWriter::Existing::Replace, Owner{ftp, ftp});
                auto stats = scan_site(from, &writer, Owner{ftp, ftp});
                if (!stats) return std::unexpected(stats.error());
                imported = *stats;
                // The placeholder (configure-www's) would hide the site's own index.htm or
                // index.php, which nginx lists after index.html: it goes.
                const std::string served = imported.served_index(jail.plan.spec.profile);
                if (!served.empty() && !imported.has_index_html() && ::unlinkat(www->get(), "index.html", 0) != 0 &&
                    errno != ENOENT)
                    return fail_errno("remove the placeholder " + std::string(kDocRoot) + "/index.html", errno);
                return {};
            }};
}

Step test_step(JailSteps& jail, const SiteStats& imported) {
    return {"test", [&jail, &imported]() {
                // / shows the site's own index page: its marker when it is HTML we read (a PHP
                // page's output, a link's target are the site's: any answer but a server error).
                const std::string served = imported.served_index(jail.plan.spec.profile);
                std::optional<std::string> expect;
                if (!served.empty()) {
                    const std::string& page = imported.index_pages.at(served);
                    expect = served == "index.php" || page.empty() ? "" : page_marker(page);
                }
                return test_jail(jail.ctx, jail.plan.rec, expect);
            }};
}

int run_import_site(Context& ctx, const ImportArgs& args) {
    JailPlan plan;
    auto site = validate(ctx, args, plan);
    if (!site) return report_error(ctx, "validate", site.error());
    auto acme = checked_acme(ctx.paths);
    if (!acme) return report_error(ctx, "validate", acme.error());
    auto log = open_task_log(ctx, plan.rec.domain, "import-site");
    if (!log) return report_error(ctx, "log", log.error());
    log_warnings(plan, *log);
    auto lock = lock_jail(ctx.paths, plan.rec.domain);
    if (!lock) return report_error(ctx, "lock", lock.error());

    JailSteps jail{ctx, plan};
    SiteStats imported;
    std::vector<Step> steps = {jail.register_jail(),   jail.prepare_host(),       jail.create_disk(),
                               jail.mount_disk(),      jail.populate(),           jail.configure_www(),
                               import_step(jail, args.from, imported),           jail.configure_ftp(),
                               jail.write_lxc_config(), jail.save_credentials(),  jail.start_jail()};
    // An ACME certificate as at create (best effort), unless the customer brought one.
    if (acme->enabled() && plan.rec.tls != "custom")
        for (auto& step : acme_certificate_steps(jail, *acme, true)) steps.push_back(std::move(step));
    steps.push_back(test_step(jail, imported));
    steps.push_back(jail.mark_ready());
    log->info("task", "site from " + args.from + ": " + std::to_string(site->files) + " files, " +
                          std::to_string(site->dirs) + " directories, " + std::to_string(site->links) + " links, " +
                          std::to_string(site->bytes) + " bytes");
    TaskOutcome outcome = run_journaled(ctx, *log, plan.rec.domain, "import-site", steps, {!args.jail.keep_on_failure});
    log_warnings(plan, *log);  // the address check's, known once the jail started

    nlohmann::json fields = {{"domain", plan.rec.domain}, {"ip", plan.rec.ip}, {"size_bytes", plan.rec.size_bytes}};
    std::vector<std::string> text;
    if (outcome.ok) {
        report_new_jail(plan, fields, text);
        fields["site"] = {{"from", args.from},
                          {"files", imported.files},
                          {"directories", imported.dirs},
                          {"links", imported.links},
                          {"bytes", imported.bytes},
                          {"index_html", imported.has_index_html()},
                          {"index", imported.served_index(plan.spec.profile)}};
        text.push_back("site:      " + std::to_string(imported.files) + " files, " + std::to_string(imported.dirs) +
                    " directories, " + std::to_string(imported.links) + " links, " + human_bytes(imported.bytes) +
                    " from " + args.from);
    }
    return report(ctx, outcome, fields, text, log->path());
}

}  // namespace

void add_import_site(CLI::App& app, Context& ctx, Action& action) {
    auto [cmd, args] = add_command<ImportArgs>(app, ctx, action, "import-site",
                                               "Create a jail whose web site comes from a directory or tarball",
                                               run_import_site);
    add_new_jail_options(cmd, args->jail);
    cmd->add_option("--from", args->from, "The site: a directory, or a .tar, .tar.gz or .tar.zst")->required();
}

}  // namespace jailctl
