// jailctl backup DOMAIN [--output FILE], jailctl export DOMAIN FILE, jailctl backups [DOMAIN].
//
// backup and export write the same archive (host/archive.h): a point-in-time snapshot of the
// jail's image (host/snapshot.h: the filesystem is frozen only for the image copy), archived
// from the snapshot by a child in its own mount namespace, then the snapshot is removed.
// A stopped jail is archived from its image directly (the jail lock keeps it stopped).
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>

#include "cli/backup_list.h"
#include "cli/jail_ops.h"
#include "cli/verbs.h"
#include "host/archive.h"
#include "host/mount.h"
#include "host/snapshot.h"
#include "jail/domain.h"
#include "task/log.h"
#include "util/fd.h"
#include "util/progress.h"

namespace jailctl {
namespace {

namespace fs = std::filesystem;
constexpr const char* kPendingSuffix = ".pending";

struct ArchiveRun {
    std::string pending;   // note naming the output while the task runs (repair_archive_leftovers)
    std::string snapshot;  // scratch copy of the image ("" when archiving a stopped jail's image)
    SnapshotInfo snap;
    ArchiveStats stats;
};

Result<void> remove_if_exists(const std::string& path) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return fail_errno("remove " + path, errno);
    return {};
}

Result<void> write_pending_note(const std::string& note, const std::string& output) {
    Fd fd(::open(note.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd.valid()) return fail_errno("create " + note, errno);
    std::string line = output + "\n";
    if (::write(fd.get(), line.data(), line.size()) != static_cast<ssize_t>(line.size()))
        return fail_errno("write " + note, errno);
    return {};
}

// The output a pending note names; "" when it does not name an absolute path.
std::string read_pending_note(const std::string& note) {
    Fd fd(::open(note.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    char buf[4096];
    ssize_t n = fd.valid() ? ::read(fd.get(), buf, sizeof buf) : -1;
    std::string output = n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
    if (!output.empty() && output.back() == '\n') output.pop_back();
    if (!output.starts_with("/") || output.find('\n') != std::string::npos || output.find('\0') != std::string::npos)
        return "";
    return output;
}

Result<void> remove_scratch(const ArchiveRun& run) {
    if (!run.snapshot.empty())
        if (auto r = remove_if_exists(run.snapshot); !r) return r;
    return remove_if_exists(run.pending);
}

int run_archive(Context& ctx, const std::string& domain_input, std::string output, const std::string& kind) {
    const char* field = kind == "export" ? "file" : "output";
    if (!output.empty()) {
        auto checked = output_file(field, output);
        if (!checked) return report_error(ctx, "validate", checked.error());
        output = *checked;
    }
    // The record as of now, under the jail's lock: a grow or destroy queued before this one
    // changed it (the archive records the size the jail has).
    auto locked = locked_jail(ctx, domain_input);
    if (!locked) return report_error(ctx, locked.error());
    const JailRecord* rec = &locked->rec;
    auto now = std::chrono::system_clock::now();
    std::string dir = ctx.paths.backups + "/" + rec->domain;
    if (output.empty()) {
        output = dir + "/" + file_stamp_utc(now) + ".tar.zst";
        struct stat taken {};
        for (int n = 2; ::lstat(output.c_str(), &taken) == 0 && n < 100; ++n)  // two in one second
            output = dir + "/" + file_stamp_utc(now) + "-" + std::to_string(n) + ".tar.zst";
    }
    // A pipe or socket (`export D /dev/stdout | ...`, a cluster move): the archive is streamed.
    struct stat st {};
    const bool stream = ::stat(output.c_str(), &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
    if (!stream && ::lstat(output.c_str(), &st) == 0)
        return report_error(ctx, "validate", Error{ErrorKind::Conflict, std::string(field) + ": " + output + " already exists"});
    Fd stream_out;
    if (stream) {
        stream_out = Fd(::open(output.c_str(), O_WRONLY | O_CLOEXEC));
        if (!stream_out.valid())
            return report_error(ctx, "validate", Error{ErrorKind::BadInput, std::string(field) + ": open " + output + ": " + std::strerror(errno)});
        // The archive on stdout (`export D /dev/stdout | ssh ...`): the report goes to stderr.
        struct stat out {}, std_out {};
        if (::fstat(stream_out.get(), &out) == 0 && ::fstat(STDOUT_FILENO, &std_out) == 0 && out.st_dev == std_out.st_dev &&
            out.st_ino == std_out.st_ino)
            ::dup2(STDERR_FILENO, STDOUT_FILENO);
    }
    auto log = open_task_log(ctx, rec->domain, kind);
    if (!log) return report_error(ctx, "log", log.error());

    auto mounted = find_mount(ctx.paths.rootfs(rec->domain));
    if (!mounted) return report_error(ctx, "validate", mounted.error());
    bool live = mounted->has_value();
    std::error_code ec;
    fs::create_directories(dir, ec);
    ::chmod(dir.c_str(), 0700);

    ArchiveRun run;
    const std::string scratch = dir + "/." + file_stamp_utc(now) + "-" + kind;  // hidden: `backups` skips it
    run.pending = scratch + kPendingSuffix;
    Manifest m;
    m.kind = kind;
    m.domain = rec->domain;
    m.ip = rec->ip;
    m.size_bytes = rec->size_bytes;
    m.sparse = rec->sparse;
    m.ftp_user = rec->ftp_user;
    m.ftp_tls = rec->ftp_tls;
    m.profile = rec->profile;
    m.aliases = rec->aliases;
    m.https_only = rec->https_only;
    m.tls = rec->tls;
    m.jailctl_version = JAILCTL_VERSION;
    m.jail_created = rec->created;
    m.archived_at = rfc3339_utc(now);
    bool progress = progress_wanted(ctx.options.json);

    std::vector<Step> steps;
    steps.push_back({"snapshot",
                     [&]() -> Result<void> {
                         // Names the output for repair: after a kill it removes output.partial and output.mnt.
                         if (auto r = write_pending_note(run.pending, stream ? scratch : output); !r) return r;
                         if (!live) {
                             log->info("snapshot", "the jail is stopped: archiving its image directly");
                             return {};
                         }
                         run.snapshot = scratch + ".snapshot.img";
                         // Test mode: JAILCTL_KILL_AT=frozen / JAILCTL_FAIL_AT=frozen act inside the frozen window.
                         auto info = snapshot_image(ctx.paths.rootfs(rec->domain), ctx.paths.image(rec->domain),
                                                    run.snapshot, [] { return injected_fault("frozen"); });
                         if (!info) return std::unexpected(info.error());
                         run.snap = *info;
                         char buf[160];
                         std::snprintf(buf, sizeof buf, "%s copy of %llu bytes in %.1f ms; writers blocked %.1f ms",
                                       to_string(info->method), static_cast<unsigned long long>(info->bytes_copied),
                                       info->copy_ms, info->freeze_ms);
                         log->info("snapshot", buf);
                         return {};
                     },
                     [&]() { return remove_scratch(run); }});
    steps.push_back({"archive",
                     [&]() -> Result<void> {
                         m.snapshot_method = live ? to_string(run.snap.method) : "stopped";
                         m.freeze_ms = run.snap.freeze_ms;
                         std::string source = live ? run.snapshot : ctx.paths.image(rec->domain);
                         Result<ArchiveStats> stats;
                         if (stream) {
                             stats = write_archive_stream(source, rec->id_base, m, stream_out.get(), scratch + ".mnt", progress);
                             stream_out.reset();  // the end of the stream for its reader
                         } else {
                             // the snapshot copy is deleted while the archive is made durable
                             auto release = [&run] { (void)::unlink(run.snapshot.c_str()); };
                             stats = live ? write_archive(source, rec->id_base, m, output, progress, release)
                                          : write_archive(source, rec->id_base, m, output, progress);
                         }
                         if (!stats) return std::unexpected(stats.error());
                         run.stats = *stats;
                         log->info("archive", std::to_string(stats->entries) + " entries, " +
                                                  std::to_string(stats->file_bytes) + " file bytes -> " + output +
                                                  " (" + std::to_string(stats->archive_bytes) + " bytes)");
                         if (stats->skipped_special)
                             log->warn("archive", std::to_string(stats->skipped_special) +
                                                      " device nodes/fifos/sockets not archived");
                         if (stats->stripped_setid)
                             log->warn("archive", std::to_string(stats->stripped_setid) + " setuid/setgid bits stripped");
                         if (stats->unmapped_ids)
                             log->warn("archive", std::to_string(stats->unmapped_ids) +
                                                      " owners outside the jail's id range archived as 65534");
                         return {};
                     },
                     [&]() { return stream ? Result<void>{} : remove_if_exists(output); }});
    steps.push_back({"cleanup", [&]() { return remove_scratch(run); }});

    TaskOutcome outcome = run_journaled(ctx, *log, rec->domain, kind, steps);
    char freeze[64];
    std::snprintf(freeze, sizeof freeze, "%.1f", run.snap.freeze_ms);
    nlohmann::json fields = {{"domain", rec->domain},
                             {"file", output},
                             {"size_bytes", run.stats.archive_bytes},
                             {"sha256", run.stats.content_sha256},
                             {"entries", run.stats.entries},
                             {"file_bytes", run.stats.file_bytes},
                             {"running", live},
                             {"snapshot", live ? to_string(run.snap.method) : "none (stopped)"},
                             {"freeze_ms", run.snap.freeze_ms},
                             {"skipped_special", run.stats.skipped_special},
                             {"stripped_setid", run.stats.stripped_setid}};
    std::vector<std::string> text = {
        "domain:    " + rec->domain,
        "file:      " + output,
        "size:      " + std::to_string(run.stats.archive_bytes) + " bytes (" +
            std::to_string(run.stats.file_bytes) + " bytes in " + std::to_string(run.stats.entries) + " entries)",
        "sha256:    " + run.stats.content_sha256 + " (content, sha256-entries-v1)",
        live ? "freeze_ms: " + std::string(freeze) + " (" + to_string(run.snap.method) + ")"
             : std::string("freeze_ms: 0 (jail stopped)")};
    return report(ctx, outcome, fields, text, log->path());
}

struct BackupRow {
    std::string file, domain, kind, archived_at, error;
    uint64_t size = 0;
};

int run_list(Context& ctx, const std::string& domain_input) {
    std::string only;
    if (!domain_input.empty()) {
        auto d = Domain::parse(domain_input);
        if (!d) return report_error(ctx, "validate", d.error());
        only = d->str();
    }
    const nlohmann::json rows = backup_objects(ctx.paths, only);
    if (ctx.options.json) {
        std::cout << nlohmann::json{{"backups", rows}}.dump(2) << std::endl;
        return 0;
    }
    std::cout << backups_text(rows);
    return 0;
}

}  // namespace

nlohmann::json backup_objects(const Paths& paths, const std::string& only) {
    std::vector<BackupRow> rows;
    std::error_code ec;
    for (fs::directory_iterator it(paths.backups, ec), end; !ec && it != end; it.increment(ec)) {
        if (!it->is_directory() || it->is_symlink()) continue;
        std::string dom = it->path().filename().string();
        if (!only.empty() && dom != only) continue;
        std::error_code ec2;
        for (fs::directory_iterator f(it->path(), ec2), e2; !ec2 && f != e2; f.increment(ec2)) {
            std::string name = f->path().filename().string();
            if (name.starts_with(".") || !name.ends_with(".tar.zst") || !f->is_regular_file()) continue;
            BackupRow row{f->path().string(), dom, "", "", ""};
            row.size = f->file_size();
            auto m = read_manifest(row.file);
            if (m) {
                row.domain = m->domain, row.kind = m->kind, row.archived_at = m->archived_at;
            } else {
                row.error = m.error().message;
            }
            rows.push_back(row);
        }
    }
    std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
        return std::tie(a.domain, a.archived_at, a.file) < std::tie(b.domain, b.archived_at, b.file);
    });
    auto arr = nlohmann::json::array();
    for (const auto& r : rows) {
        nlohmann::json j = {{"file", r.file}, {"domain", r.domain}, {"size_bytes", r.size},
                            {"time", r.archived_at}, {"kind", r.kind}};
        if (!r.error.empty()) j["error"] = r.error;
        arr.push_back(j);
    }
    return arr;
}

std::string backups_text(const nlohmann::json& rows) {
    char line[1024];
    std::snprintf(line, sizeof line, "%-24s  %-30s  %10s  %s\n", "TIME", "DOMAIN", "SIZE", "FILE");
    std::string out = line;
    for (const auto& r : rows) {
        const std::string time = r.value("time", ""), error = r.value("error", "");
        std::snprintf(line, sizeof line, "%-24s  %-30s  %10s  ", time.empty() ? "?" : time.c_str(), r.value("domain", "").c_str(),
                      human_bytes(r.value("size_bytes", uint64_t{0})).c_str());
        out += line + r.value("file", "") + (error.empty() ? "" : "  (unreadable: " + error + ")") + "\n";
    }
    return out;
}

// Leftovers of backups and exports killed midway, in <backups>/<domain>/ (the caller holds the
// jail's lock, so no backup of it is running): the scratch snapshot, the archive being written
// (<output>.partial) and the archiver's mount point (<output>.mnt, empty once its namespace died),
// found beside the default output and through the pending note for any --output/export file.
// Only these names are removed: never a complete archive.
Result<int> remove_archive_leftovers(const Paths& paths, const std::string& domain) {
    int removed = 0;
    auto drop_partial_of = [&removed](const std::string& output) {
        if (output.empty()) return;
        if (::unlink((output + ".partial").c_str()) == 0) ++removed;
        if (::rmdir((output + ".mnt").c_str()) == 0) ++removed;
    };
    const std::string dir = paths.backups + "/" + domain;
    std::error_code ec;
    std::vector<fs::path> entries;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) entries.push_back(it->path());
    if (ec && ec != std::errc::no_such_file_or_directory) return fail("list " + dir + ": " + ec.message());
    for (const auto& path : entries) {
        const std::string name = path.filename().string(), full = path.string();
        const bool note = name.starts_with(".") && name.ends_with(kPendingSuffix);
        const bool snapshot = name.starts_with(".") && name.ends_with(".snapshot.img");
        if (note) drop_partial_of(read_pending_note(full));
        if (name.ends_with(".tar.zst.partial")) drop_partial_of(full.substr(0, full.size() - 8));  // - ".partial"
        if (name.ends_with(".tar.zst.mnt")) drop_partial_of(full.substr(0, full.size() - 4));      // - ".mnt"
        if (!note && !snapshot) continue;
        if (auto r = remove_if_exists(full); !r) return std::unexpected(r.error());
        ++removed;
    }
    return removed;
}

void add_backup(CLI::App& app, Context& ctx, Action& action) {
    {
        auto domain = std::make_shared<std::string>();
        auto output = std::make_shared<std::string>();
        auto* cmd = app.add_subcommand("backup", "Back up a jail (running or stopped) into a .tar.zst archive");
        cmd->add_option("domain", *domain, "The jail")->required();
        cmd->add_option("--output", *output, "Archive file (default <root>/backups/<domain>/<UTC stamp>.tar.zst)")
            ->check(CLI::Validator([](std::string& v) { return v.empty() ? std::string("is empty") : std::string(); }, "FILE"));
        cmd->callback([&ctx, &action, domain, output] {
            action = [&ctx, domain, output] { return run_archive(ctx, *domain, *output, "backup"); };
        });
    }
    {
        auto domain = std::make_shared<std::string>();
        auto output = std::make_shared<std::string>();
        auto* cmd = app.add_subcommand("export", "Write a jail into a portable archive (for import on another host)");
        cmd->add_option("domain", *domain, "The jail")->required();
        cmd->add_option("file", *output, "The archive to write (.tar.zst)")->required()->check(CLI::Validator([](std::string& v) { return v.empty() ? std::string("is empty") : std::string(); }, "FILE"));
        cmd->callback([&ctx, &action, domain, output] {
            action = [&ctx, domain, output] { return run_archive(ctx, *domain, *output, "export"); };
        });
    }
    {
        auto domain = std::make_shared<std::string>();
        auto* cmd = app.add_subcommand("backups", "List the backups under <root>/backups");
        cmd->add_option("domain", *domain, "Only this domain's backups")
            ->check(CLI::Validator([](std::string& v) { return v.empty() ? std::string("domain: is empty") : std::string(); }, "DOMAIN"));
        cmd->callback([&ctx, &action, domain] {
            action = [&ctx, domain] {
                if (auto r = ctx.open(); !r) return report_error(ctx, "validate", r.error());
                return run_list(ctx, *domain);
            };
        });
    }
}

}  // namespace jailctl
