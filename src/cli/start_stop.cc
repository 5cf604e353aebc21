// jailctl start|stop|restart DOMAIN... | --all
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <memory>

#include "cli/jail_ops.h"
#include "cli/verbs.h"
#include "host/lxc.h"
#include "host/mount.h"
#include "host/network.h"
#include "util/interrupt.h"
#include "util/progress.h"

namespace jailctl {
namespace {

enum class Verb { Start, Stop, Restart };

struct Args {
    std::vector<std::string> domains;
    bool all = false;
    int timeout_s = 10;
    int jobs = 0;  // 0: two per CPU
    AddressOptions address;  // --force-ip
};

// A signal to the parallel run: the first one's number, and whether it came from a process
// (kill, systemd), which reaches jailctl only, or from the terminal, which reaches every worker.
volatile sig_atomic_t g_run_signal = 0, g_run_signal_sent = 0;
void note_run_signal(int sig, siginfo_t* info, void*) {
    if (g_run_signal) return;
    g_run_signal = sig;
    g_run_signal_sent = info && info->si_code <= 0;  // SI_USER, SI_QUEUE, SI_TKILL: from a process
}

// Runs `one` for every domain in worker processes, at most `jobs` at a time (jails
// are independent: each has its own lock, log and task). Each worker's output is
// printed whole when it finishes, so results never interleave. Returns the worst status.
// On a terminal, a progress line (jails done, rate, ETA) stays below the results.
// SIGINT, SIGTERM or SIGHUP: no more workers start; the running ones get the signal (a
// terminal's Ctrl-C already reached them; a kill of jailctl is passed on) and undo or finish
// their task as a lone verb would; their output is still printed, the jails never started are
// counted, and the status is 128 + the signal's number unless a worker's was worse.
int run_parallel(const std::vector<std::string>& domains, int jobs, const std::function<int(const std::string&)>& one,
                 const std::string& what, bool show_progress) {
    Progress progress(show_progress, what, domains.size(), ProgressUnit::Jails);
    if (jobs <= 0) jobs = 2 * static_cast<int>(std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN)));
    struct Worker {
        pid_t pid;
        int out, err;
    };
    std::vector<Worker> running;
    int worst = 0;
    const int signals[] = {SIGINT, SIGTERM, SIGHUP};
    struct sigaction note {}, previous[3];
    note.sa_sigaction = note_run_signal;
    note.sa_flags = SA_SIGINFO;  // no SA_RESTART: the wait() returns to pass the signal on
    g_run_signal = 0;
    g_run_signal_sent = 0;
    for (int i = 0; i < 3; ++i) ::sigaction(signals[i], &note, &previous[i]);
    bool passed_on = false;
    auto pass_on = [&] {  // once, to the workers running when the signal came
        if (!g_run_signal || passed_on) return;
        passed_on = true;
        if (g_run_signal_sent)
            for (const auto& w : running) ::kill(w.pid, g_run_signal);
    };
    auto drain = [](int fd, FILE* to) {
        ::lseek(fd, 0, SEEK_SET);
        char buf[4096];
        ssize_t n;
        while ((n = ::read(fd, buf, sizeof buf)) > 0) std::fwrite(buf, 1, static_cast<size_t>(n), to);
        std::fflush(to);
        ::close(fd);
    };
    auto reap_one = [&] {
        int status = 0;
        pass_on();
        pid_t pid = ::wait(&status);
        pass_on();
        if (pid < 0) return;
        auto it = std::find_if(running.begin(), running.end(), [&](auto& w) { return w.pid == pid; });
        if (it == running.end()) return;
        progress.hide();
        drain(it->out, stdout);
        drain(it->err, stderr);
        progress.add(1);
        worst = std::max(worst, WIFEXITED(status) ? WEXITSTATUS(status) : static_cast<int>(ErrorKind::StepFailed));
        running.erase(it);
    };
    std::fflush(stdout);
    std::fflush(stderr);
    size_t not_started = 0;
    for (const auto& d : domains) {
        while (!g_run_signal && static_cast<int>(running.size()) >= jobs) reap_one();
        if (g_run_signal) {
            ++not_started;
            continue;
        }
        int out = ::memfd_create("jailctl-out", MFD_CLOEXEC), err = ::memfd_create("jailctl-err", MFD_CLOEXEC);
        if (out < 0 || err < 0) {  // (two per running worker: the caller raised RLIMIT_NOFILE)
            std::fprintf(stderr, "KO: %s: memfd_create for its output: %s (open files limit?)\n", d.c_str(),
                         std::strerror(errno));
            worst = static_cast<int>(ErrorKind::StepFailed);
            if (out >= 0) ::close(out);
            if (err >= 0) ::close(err);
            continue;
        }
        pid_t pid = ::fork();
        if (pid == 0) {
            for (int i = 0; i < 3; ++i) ::sigaction(signals[i], &previous[i], nullptr);  // the task's own handling
            ::dup2(out, 1);
            ::dup2(err, 2);
            int rc = one(d);
            std::fflush(stdout);
            std::fflush(stderr);
            ::_exit(rc);
        }
        if (pid < 0) {
            std::fprintf(stderr, "KO: start: fork for %s: %s\n", d.c_str(), std::strerror(errno));
            worst = static_cast<int>(ErrorKind::StepFailed);
            ::close(out);
            ::close(err);
            continue;
        }
        running.push_back({pid, out, err});
    }
    while (!running.empty()) reap_one();
    for (int i = 0; i < 3; ++i) ::sigaction(signals[i], &previous[i], nullptr);
    if (g_run_signal) {
        progress.hide();
        std::fprintf(stderr, "jailctl: %s interrupted by %s: %zu of %zu jails not started\n", what.c_str(),
                     signal_name(g_run_signal), not_started, domains.size());
        worst = std::max(worst, 128 + static_cast<int>(g_run_signal));
    }
    return worst;
}

const char* verb_name(Verb v) { return v == Verb::Start ? "start" : v == Verb::Stop ? "stop" : "restart"; }

void add_stop_steps(JailSteps& jail, std::vector<Step>& steps, int timeout_s) {
    steps.push_back(jail.stop_jail(timeout_s));
    steps.push_back(jail.cleanup_network());
    steps.push_back(jail.unmount_disk());
}

void add_start_steps(JailSteps& jail, std::vector<Step>& steps, bool mounted) {
    if (!mounted) {
        steps.push_back(jail.fsck_preen());
        steps.push_back(jail.mount_disk());
    }
    steps.push_back(jail.prepare_host());
    steps.push_back(jail.write_lxc_config());
    steps.push_back(jail.start_jail());
}

// start, stop or restart of one jail, with its own lock, log and report.
int run_on_jail(Context& ctx, Verb verb, const std::string& domain_input, const Args& args) {
    auto locked = locked_jail(ctx, domain_input);
    if (!locked) return report_error(ctx, locked.error());
    const JailRecord& rec = locked->rec;
    if (rec.state != "ready")
        return report_error(ctx, "validate",
                            Error{ErrorKind::HostNotReady, rec.domain + " is not runnable (state " + rec.state +
                                                               "): run 'jailctl repair " + rec.domain + "'"});
    auto plan = plan_for(ctx, rec, verb != Verb::Stop);
    if (!plan) return report_error(ctx, "validate", plan.error());
    JailSteps jail{ctx, *plan};
    bool running = lxc_running(ctx.paths.lxcpath, rec.domain);
    auto mount = find_mount(ctx.paths.rootfs(rec.domain));
    bool mounted = mount && *mount;

    std::vector<Step> steps;
    if (verb == Verb::Stop || (verb == Verb::Restart && (running || mounted))) add_stop_steps(jail, steps, args.timeout_s);
    // start of a running jail: nothing to do. A mounted but stopped jail (an
    // interrupted stop) starts from its mount.
    if (verb == Verb::Restart || (verb == Verb::Start && !running))
        add_start_steps(jail, steps, verb == Verb::Start && mounted);
    // A stopped jail's address may have been taken meanwhile (a running one's is its own): checked
    // while it starts, and a conflict undoes the start before the address is announced.
    if (verb != Verb::Stop && !running)
        plan->address_check = check_address_in_background(plan->uplink, *Ipv4::parse_syntax(rec.ip), args.address);

    auto log = open_task_log(ctx, rec.domain, verb_name(verb));
    if (!log) return report_error(ctx, "log", log.error());
    log_warnings(*plan, *log);
    // An interrupted start is undone (the jail stays stopped); a stop always completes (it is
    // what a shutdown's SIGTERM wants): never half-way either way (docs/DECISIONS.md).
    TaskOutcome outcome =
        run_journaled(ctx, *log, rec.domain, verb_name(verb), steps, {.interruptible = verb != Verb::Stop});
    log_warnings(*plan, *log);  // the address check's, known once the jail started
    std::string state = lxc_running(ctx.paths.lxcpath, rec.domain) ? "running" : "stopped";
    nlohmann::json fields = {{"domain", rec.domain}, {"ip", rec.ip}, {"state", state}};
    std::vector<std::string> text = {"domain:    " + rec.domain, "state:     " + state};
    report_warnings(*plan, fields, text);
    return report(ctx, outcome, fields, text, log->path());
}

int run(Context& ctx, Verb verb, const Args& args) {
    std::vector<std::string> domains = args.domains;
    if (args.all && !domains.empty())
        return report_error(ctx, "validate", Error{ErrorKind::BadInput, "domain: give jails or --all, not both"});
    if (args.all) {
        if (auto r = ctx.open(); !r) return report_error(ctx, "validate", r.error());
        auto jails = ctx.registry().list();
        if (!jails) return report_error(ctx, "validate", jails.error());
        for (const auto& j : *jails)
            if (verb != Verb::Start || j.autostart) domains.push_back(j.domain);
    }
    if (domains.empty()) return report_error(ctx, "validate", Error{ErrorKind::BadInput, "domain: name a jail or use --all"});
    ctx.json_compact = domains.size() > 1;
    if (domains.size() == 1) return run_on_jail(ctx, verb, domains[0], args);
    ctx.close();  // each worker opens its own registry connection: never share one across fork
    return run_parallel(domains, args.jobs, [&](const std::string& d) { return run_on_jail(ctx, verb, d, args); },
                        std::string(verb_name(verb)) + (args.all ? " --all" : ""), progress_wanted(ctx.options.json));
}

void add_verb(CLI::App& app, Context& ctx, Action& action, Verb verb, const char* help) {
    auto args = std::make_shared<Args>();
    auto* cmd = app.add_subcommand(verb_name(verb), help);
    cmd->add_option("domains", args->domains, "Jails to act on");
    cmd->add_flag("--all", args->all, verb == Verb::Start ? "Every jail marked autostart" : "Every jail");
    cmd->add_option("--jobs", args->jobs, "Jails handled at once with several jails (default: 2 per CPU)")
        ->check(CLI::Range(1, 1024));
    if (verb != Verb::Stop)
        cmd->add_flag("--force-ip", args->address.force_ip,
                      "Start a stopped jail even though a neighbour answers ARP for its address (logged)");
    if (verb != Verb::Start)
        cmd->add_option("--timeout", args->timeout_s, "Seconds to wait for a graceful stop before killing (10)")
            ->check(CLI::Range(0, 3600));
    cmd->callback([&ctx, &action, args, verb] { action = [&ctx, args, verb] { return run(ctx, verb, *args); }; });
}

}  // namespace

void add_start_stop(CLI::App& app, Context& ctx, Action& action) {
    add_verb(app, ctx, action, Verb::Start, "Start jails: check, mount, start, wait until HTTP answers");
    add_verb(app, ctx, action, Verb::Stop, "Stop jails: graceful shutdown, unmount, remove route and proxy ARP");
    add_verb(app, ctx, action, Verb::Restart, "Stop, then start jails");
}

}  // namespace jailctl
