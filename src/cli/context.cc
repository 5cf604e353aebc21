#include "cli/context.h"

#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "jail/byte_size.h"
#include "util/command.h"
#include "util/interrupt.h"
#include "util/progress.h"

namespace jailctl {

Paths make_paths(const GlobalOptions& o, bool root_given) {
    Paths p;
    p.root = o.root;
    p.db = o.root + "/jailctl.db";
    p.lxcpath = o.root + "/jails";
    p.backups = o.root + "/backups";
    p.locks = o.root + "/locks";
    p.host_conf = o.root + "/host.conf";
    p.log_dir = !o.log_dir.empty() ? o.log_dir : root_given ? o.root + "/log" : "/var/log/jailctl";
    return p;
}

Result<void> Context::open() {
    if (registry_) return {};
    for (const auto& dir : {paths.root, paths.lxcpath, paths.backups, paths.locks}) {
        std::error_code ec;
        std::filesystem::create_directories(dir, ec);
        if (ec) return fail(ErrorKind::HostNotReady, "create state directory " + dir + ": " + ec.message());
    }
    ::chmod(paths.root.c_str(), 0711);
    // The container dirs must be traversable by the jails' mapped ids (LXC needs
    // to reach rootfs as the container's root), but not listable.
    ::chmod(paths.lxcpath.c_str(), 0711);
    auto reg = Registry::open(paths.db);
    if (!reg) return std::unexpected(reg.error());
    registry_.emplace(std::move(*reg));
    return {};
}

std::string host_conf_value(const Paths& paths, const std::string& key) {
    std::ifstream in(paths.host_conf);
    std::string line;
    while (std::getline(in, line)) {
        auto eq = line.find('=');
        if (line.empty() || line[0] == '#' || eq == std::string::npos) continue;
        auto trim = [](std::string s) {
            s.erase(0, s.find_first_not_of(" \t"));
            s.erase(s.find_last_not_of(" \t\r") + 1);
            return s;
        };
        if (trim(line.substr(0, eq)) == key) return trim(line.substr(eq + 1));
    }
    return "";
}

std::string configured_uplink(const Context& ctx) {
    if (!ctx.options.uplink.empty()) return ctx.options.uplink;
    return host_conf_value(ctx.paths, "uplink");
}

AcmeSettings configured_acme(const Paths& paths) {
    return {host_conf_value(paths, "acme_directory"), host_conf_value(paths, "acme_email"),
            host_conf_value(paths, "acme_ca_bundle")};
}

Result<std::string> output_file(const std::string& field, const std::string& given) {
    if (std::any_of(given.begin(), given.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; }))
        return fail_input(field, "contains a control character");
    if (given.empty()) return fail_input(field, "is empty");
    std::string path = std::filesystem::absolute(given).lexically_normal().string();
    struct stat st {};
    const std::string parent = std::filesystem::path(path).parent_path().string();
    if (::stat(parent.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return fail_input(field, "directory " + parent + " does not exist");
    return path;
}

Result<AcmeSettings> checked_acme(const Paths& paths) {
    auto acme = configured_acme(paths);
    if (auto r = check_acme_settings(acme); !r) return fail(ErrorKind::HostNotReady, paths.host_conf + ": " + r.error().message);
    return acme;
}

Result<Fd> lock_jail(const Paths& paths, const std::string& domain) {
    std::string path = paths.locks + "/" + domain + ".lock";
    Fd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd.valid()) return fail_errno("open lock " + path, errno);
    while (::flock(fd.get(), LOCK_EX) != 0) {
        if (errno != EINTR) return fail_errno("lock " + path, errno);
    }
    return fd;
}

nlohmann::json steps_json(const std::vector<StepRecord>& steps) {
    auto arr = nlohmann::json::array();
    for (const auto& s : steps) {
        if (s.status == "not-run") continue;
        arr.push_back({{"name", s.name}, {"status", s.status}, {"ms", static_cast<int64_t>(s.ms + 0.5)}});
    }
    return arr;
}

int report(const Context& ctx, const TaskOutcome& outcome, nlohmann::json fields,
           const std::vector<std::string>& text_lines, const std::string& log_path) {
    if (ctx.options.json) {
        nlohmann::json out = {{"result", outcome.ok ? "OK" : "KO"}};
        out.update(fields);
        if (!log_path.empty()) out["log"] = log_path;
        out["steps"] = steps_json(outcome.steps);
        if (!outcome.ok) out["error"] = {{"step", outcome.failed_step}, {"message", outcome.error.message}};
        if (outcome.signal) out["error"]["signal"] = signal_name(outcome.signal);
        std::cout << out.dump(ctx.json_compact ? -1 : 2) << std::endl;
    } else if (outcome.ok) {
        std::cout << "OK\n";
        for (const auto& line : text_lines) std::cout << line << "\n";
        if (!log_path.empty()) std::cout << "log:       " << log_path << "\n";
        std::cout.flush();
    }
    if (outcome.ok) return 0;
    if (!log_path.empty()) std::cerr << "log: " << log_path << "\n";
    std::cerr << "KO: " << outcome.failed_step << ": " << outcome.error.message << std::endl;
    // Interrupted (and undone): the shell's convention for a signal, 128 + its number.
    if (outcome.signal) return 128 + outcome.signal;
    return static_cast<int>(outcome.error.kind);
}

int report_ok(const Context& ctx, nlohmann::json fields, const std::vector<std::string>& text_lines) {
    TaskOutcome ok;
    ok.ok = true;
    return report(ctx, ok, std::move(fields), text_lines, "");
}

int report_error(const Context& ctx, const std::string& step, const Error& error) {
    TaskOutcome outcome;
    outcome.failed_step = step;
    outcome.error = error;
    return report(ctx, outcome, nlohmann::json::object(), {}, "");
}

}  // namespace jailctl

namespace jailctl {
namespace {

// `jailctl serve` runs each task as this program with JAILCTL_EVENTS_FD=<socket>: the task
// reports its progress there, one JSON object per line (docs/API.md). Taken before main()
// runs, and close-on-exec, so that no program the task starts inherits it.
int take_events_fd() {
    const char* value = std::getenv("JAILCTL_EVENTS_FD");
    if (!value) return -1;
    char* end = nullptr;
    long fd = std::strtol(value, &end, 10);
    ::unsetenv("JAILCTL_EVENTS_FD");
    if (*value == '\0' || *end != '\0' || fd < 3 || fd > 1 << 20 || ::fcntl(static_cast<int>(fd), F_SETFD, FD_CLOEXEC) != 0)
        return -1;
    return static_cast<int>(fd);
}
const int g_events_fd = take_events_fd();

void emit_event(nlohmann::json event) {
    if (g_events_fd < 0) return;
    event["t"] = rfc3339_utc(std::chrono::system_clock::now());
    std::string line = event.dump() + "\n";  // one send: lines shorter than the socket buffer stay whole
    // MSG_NOSIGNAL: a serve that went away must not kill the task with SIGPIPE.
    while (::send(g_events_fd, line.data(), line.size(), MSG_NOSIGNAL) < 0 && errno == EINTR) {
    }
}

class RegistryJournal : public TaskJournal {
public:
    RegistryJournal(Registry& reg, std::optional<int64_t> task_id) : reg_(reg), task_id_(task_id) {}
    void step_changed(const StepRecord& step) override {
        // Journal writes are best effort: a full disk must not turn an undo into a crash.
        if (task_id_) (void)reg_.record_step(*task_id_, seq_++, step.name, step.status, step.ms);
        emit_event({{"step", step.name}, {"status", step.status}, {"ms", static_cast<int64_t>(step.ms + 0.5)}});
    }

private:
    Registry& reg_;
    std::optional<int64_t> task_id_;
    int seq_ = 0;
};

// The verbs whose work is a few long steps without a byte count of their own (backup,
// restore, export and import show the archive's bytes instead; start --all and stop --all
// count jails): a step bar on a terminal, labelled with the step under way.
bool shows_step_progress(const std::string& verb) {
    return verb == "grow" || verb == "grow-fallback" || verb == "clone" || verb == "import-site";
}

class ProgressJournal : public TaskJournal {
public:
    ProgressJournal(TaskJournal* inner, const std::string& verb, size_t steps, bool show)
        : inner_(inner), verb_(verb), progress_(show, verb, steps, ProgressUnit::Steps) {}
    void step_changed(const StepRecord& step) override {
        if (inner_) inner_->step_changed(step);
        if (step.status == "running") {
            progress_.set_label(verb_ + " (" + step.name + ")");
            progress_.set(done_);
        } else if (step.status == "ok") {
            progress_.set(++done_);
        } else {
            progress_.hide();  // failing or undoing: the KO line follows
        }
    }

private:
    TaskJournal* inner_;
    std::string verb_;
    Progress progress_;
    uint64_t done_ = 0;
};

std::string join_argv(const std::vector<std::string>& argv) {
    std::string out;
    for (const auto& a : argv) out += (out.empty() ? "" : " ") + a;
    return out;
}

}  // namespace

Result<TaskLog> open_task_log(const Context& ctx, const std::string& domain, const std::string& verb) {
    auto log = TaskLog::open(ctx.paths.log_dir, domain, verb);
    if (log) emit_event({{"accepted", true}, {"log", log->path()}});  // the inputs passed validation
    return log;
}

TaskOutcome run_journaled(Context& ctx, TaskLog& log, const std::string& domain, const std::string& verb,
                          const std::vector<Step>& steps, const TaskOptions& options) {
    log.info("task", verb + " " + domain + " (jailctl " JAILCTL_VERSION ", pid " + std::to_string(getpid()) + ")");
    set_command_observer([&log](const std::vector<std::string>& argv, const CommandResult& r, double ms) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.1f", ms);
        log.info(current_step(), "exec [" + join_argv(argv) + "] exit " + std::to_string(r.exit_status) + " in " +
                                     buf + " ms");
        if (r.exit_status != 0 && !r.output.empty()) log.warn(current_step(), "output: " + r.output.substr(0, 2000));
    });
    auto task_id = ctx.registry().begin_task(domain, verb, log.path());
    RegistryJournal journal(ctx.registry(), task_id ? std::optional<int64_t>(*task_id) : std::nullopt);
    std::optional<ProgressJournal> with_progress;
    if (shows_step_progress(verb) && progress_wanted(ctx.options.json))
        with_progress.emplace(&journal, verb, steps.size(), true);
    TaskOutcome outcome = run_task(steps, log,
                                   with_progress ? static_cast<TaskJournal*>(&*with_progress) : &journal, options);
    with_progress.reset();  // erases the line before the result is printed
    set_command_observer(nullptr);
    if (task_id) (void)ctx.registry().finish_task(*task_id, outcome.ok ? "OK" : "KO", outcome.error.message);
    if (outcome.ok)
        log.info("task", "OK");
    else
        log.error("task", "KO: " + outcome.failed_step + ": " + outcome.error.message);
    return outcome;
}

}  // namespace jailctl
