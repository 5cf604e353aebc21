// jailctl exec DOMAIN [--user U] [--timeout S] -- CMD...   (like FreeBSD's jexec)
// jailctl console DOMAIN                     (an interactive /bin/sh in the jail)
//
// Both attach to the running jail through liblxc (attach, then exec_in_jail): every namespace of the
// jail, its cgroup, its capability bounding set and LSM profile, as user U (default root) whose
// uid/gid/home come from the JAIL's /etc/passwd, read through host/jail_fs.h (never following
// a tenant's symlink). The environment is cleared to PATH, HOME, USER, LOGNAME (and TERM for a
// terminal). liblxc changes the calling process (it forks, joins cgroups, sets up terminals):
// it runs in a forked child with every fd above 2 closed, so no host fd (registry, logs)
// reaches the jail.
//
// exec: stdin, stdout and stderr are passed through as they are; the child starts its own
// session, so a tenant's process never has the operator's terminal as its controlling tty (no
// TIOCSTI injection into the operator's shell); SIGINT/SIGTERM/SIGHUP received by jailctl are
// forwarded to it. The exit status is CMD's (128+N when a signal N killed it). --timeout S stops
// CMD after S seconds as `timeout -s TERM -k 5` would, and says so on stderr and in the log.
// Ambiguity: jailctl's own failures (no such jail, not running, unknown user, attach failed)
// use the usual statuses 2-5 which CMD may also return. They are told apart by the last stderr
// line: jailctl's own failures always end with "KO: <step>: <cause>"; CMD's own status never
// adds such a line. Scripts that need certainty check `jailctl status DOMAIN` first.
//
// console: needs a terminal on stdin (exit 2 otherwise); liblxc allocates a pty INSIDE the
// jail (LXC_ATTACH_TERMINAL) and relays it to ours, so the shell never sees the host's tty.
//
// Neither changes anything jailctl owns, so neither is a task, but each run has its log like
// every verb, <log dir>/<domain>/<stamp>-exec.log (or -console.log): who inside, by whom, argv,
// exit status, duration — the audit trail an operator expects, like sudo's log. argv is
// logged: do not pass secrets on it.
#include <fcntl.h>
#include <lxc/lxccontainer.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <charconv>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <sstream>

#include "cli/exec_user.h"
#include "cli/jail_ops.h"
#include "cli/verbs.h"
#include "host/jail_fs.h"
#include "host/lxc.h"
#include "host/procs.h"
#include "task/log.h"
#include "util/text.h"

namespace jailctl {

namespace {

struct ExecArgs {
    std::string domain;
    std::string user = "root";
    unsigned timeout = 0;  // seconds; 0: none
    std::vector<std::string> command;
};

constexpr const char* kJailPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

std::optional<uint32_t> parse_id(std::string_view s) {
    uint32_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || end != s.data() + s.size() || s.empty() || v > 65535) return std::nullopt;
    return v;
}

}  // namespace

Result<ExecUser> lookup_jail_user(const std::string& passwd, const std::string& user) {
    auto numeric = parse_id(user);
    std::istringstream in(passwd);
    std::string line;
    while (std::getline(in, line)) {
        std::vector<std::string> f;
        std::stringstream fields(line);
        for (std::string x; std::getline(fields, x, ':');) f.push_back(x);
        if (f.size() < 6) continue;
        auto uid = parse_id(f[2]), gid = parse_id(f[3]);
        if (!uid || !gid) continue;
        if (f[0] == user || (numeric && *numeric == *uid))
            return ExecUser{f[0], *uid, *gid, f[5].empty() || f[5][0] != '/' ? "/" : f[5]};
    }
    if (numeric) return ExecUser{user, *numeric, *numeric, "/"};  // like jexec -U with a bare uid
    return fail_input("user", "no user '" + user + "' in the jail's /etc/passwd");
}

namespace {

std::string quote_arg(const std::string& a) {
    if (!a.empty() && a.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./=:,+@%") ==
                          std::string::npos)
        return a;
    std::string out = "'";
    for (char c : a) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

// The run's log (best effort: the audit trail must not stop an operator's command, but a
// failure to open it is said on stderr).
TaskLog open_audit_log(const Context& ctx, const std::string& domain, const std::string& verb) {
    auto log = open_task_log(ctx, domain, verb);
    if (log) return std::move(*log);
    std::cerr << "jailctl: warning: no log for this " << verb << ": " << log.error().message << "\n";
    return TaskLog();
}

pid_t g_child = -1;
void forward_signal(int sig) {
    if (g_child > 0) {
        ::kill(-g_child, sig);  // the child's own process group (it called setsid)
        ::kill(g_child, sig);
    }
}

// --timeout: SIGTERM to the command when it is reached; 5 s later, SIGKILL (sent by the wait loop:
// killing the attaching child too would leave the command's zombie to whoever adopts it).
volatile sig_atomic_t g_timed_out = 0, g_kill_due = 0;
void on_time_limit(int) {
    if (!g_timed_out) {
        g_timed_out = 1;
        forward_signal(SIGTERM);
        ::alarm(5);
    } else {
        g_kill_due = 1;  // interrupts the waitpid (no SA_RESTART)
    }
}

// SIGKILL to every process of process group `group` but its leader (the attaching child, which
// then reaps the command and exits 137).
void kill_group_members(pid_t group) {
    for (pid_t pid : group_processes(group))
        if (pid != group) ::kill(pid, SIGKILL);
}

// Runs inside the jail, as the attached process: CMD, or a line on stderr saying why not (LXC's
// own exec is silent, a bare 127). 127 when CMD is not found, 126 when it cannot run, as a shell.
int exec_in_jail(void* payload) {
    auto* argv = static_cast<char**>(payload);
    ::execvp(argv[0], argv);
    int err = errno;
    std::fprintf(stderr, "jailctl: exec: %s: %s in the jail\n", argv[0],
                 err == ENOENT ? "command not found" : std::strerror(err));
    return err == ENOENT ? 127 : 126;
}

// Runs in the forked child: attach and return the command's wait status (-1: attach failed).
// `failed_fd`: a byte written there means "attach failed" (not CMD's own status).
[[noreturn]] void attach_child(const Context& ctx, const std::string& domain, const ExecUser& user,
                               const std::vector<std::string>& command, bool terminal, int failed_fd) {
    auto attach_failed = [failed_fd]() {
        (void)!::write(failed_fd, "F", 1);
        ::_exit(255);
    };
    if (failed_fd > 3) ::close_range(3, static_cast<unsigned>(failed_fd) - 1, 0);
    ::close_range(static_cast<unsigned>(failed_fd) + 1, ~0U, 0);
    if (!terminal) {
        ::setsid();
        // The signals jailctl forwards to this process group are for the command: this process
        // outlives them to reap it and pass its status on (a handler, not SIG_IGN, which the
        // command would inherit through exec).
        struct sigaction outlive {};
        outlive.sa_handler = [](int) {};
        outlive.sa_flags = SA_RESTART;
        for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) ::sigaction(sig, &outlive, nullptr);
    }
    lxc_container* c = lxc_container_new(domain.c_str(), ctx.paths.lxcpath.c_str());
    if (!c) attach_failed();
    lxc_attach_options_t opts = LXC_ATTACH_OPTIONS_DEFAULT;
    opts.uid = user.uid;
    opts.gid = user.gid;
    opts.env_policy = LXC_ATTACH_CLEAR_ENV;
    opts.initial_cwd = const_cast<char*>(user.home.c_str());
    if (terminal) opts.attach_flags |= LXC_ATTACH_TERMINAL;
    std::vector<std::string> env = {kJailPath, "HOME=" + user.home, "USER=" + user.name, "LOGNAME=" + user.name};
    if (terminal) {
        const char* term = std::getenv("TERM");
        env.push_back(std::string("TERM=") + (term && is_terminal_type(term) ? term : "vt100"));
    }
    std::vector<char*> envp;
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    opts.extra_env_vars = envp.data();
    std::vector<char*> argv;
    for (const auto& a : command) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    pid_t pid = -1;
    if (c->attach(c, exec_in_jail, argv.data(), &opts, &pid) < 0 || pid <= 0) attach_failed();
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) attach_failed();
    if (WIFEXITED(status)) ::_exit(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) ::_exit(128 + WTERMSIG(status));
    ::_exit(255);
}

int run_attached(Context& ctx, const ExecArgs& args, bool terminal) {
    const std::string verb = terminal ? "console" : "exec";
    auto rec = find_jail(ctx, args.domain);
    if (!rec) return report_error(ctx, "validate", rec.error());
    if (args.command.empty()) return report_error(ctx, "validate", Error{ErrorKind::BadInput, "command: give the command after --"});
    if (terminal && !::isatty(STDIN_FILENO))
        return report_error(ctx, "validate", Error{ErrorKind::BadInput, "console needs a terminal on stdin; use 'jailctl exec " +
                                                                            rec->domain + " -- CMD' in scripts"});
    if (!lxc_running(ctx.paths.lxcpath, rec->domain))
        return report_error(ctx, "validate", Error{ErrorKind::Conflict, rec->domain + " is not running (jailctl start " + rec->domain + ")"});
    auto root = open_jail_root(ctx.paths.rootfs(rec->domain));
    if (!root) return report_error(ctx, "validate", root.error());
    auto passwd = read_jail_file(root->get(), "etc/passwd", 1 << 20);
    if (!passwd) return report_error(ctx, "validate", passwd.error());
    auto user = lookup_jail_user(*passwd, args.user);
    if (!user) return report_error(ctx, "validate", user.error());

    std::string argv_text;
    for (const auto& a : args.command) argv_text += (argv_text.empty() ? "" : " ") + quote_arg(a);
    TaskLog log = open_audit_log(ctx, rec->domain, verb);
    // serve names who asked (JAILCTL_EXEC_BY: its token's name), beside the host uid that runs it
    const char* by = std::getenv("JAILCTL_EXEC_BY");
    log.info(verb, verb + " as " + user->name + " (uid " + std::to_string(user->uid) + ") by host uid " +
                       std::to_string(::getuid()) + (by && *by ? std::string(" for ") + by : std::string()) + ": " +
                       argv_text);
    auto started = std::chrono::steady_clock::now();
    std::cout.flush();
    std::cerr.flush();

    int failed_pipe[2];
    if (::pipe2(failed_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
        return report_error(ctx, verb, Error{ErrorKind::StepFailed, std::string("pipe: ") + std::strerror(errno)});
    Fd failed_read(failed_pipe[0]), failed_write(failed_pipe[1]);
    pid_t child = ::fork();
    if (child < 0) return report_error(ctx, verb, Error{ErrorKind::StepFailed, std::string("fork: ") + std::strerror(errno)});
    if (child == 0) attach_child(ctx, rec->domain, *user, args.command, terminal, failed_pipe[1]);
    failed_write = Fd();
    g_child = child;
    struct sigaction sa {};
    sa.sa_handler = terminal ? SIG_IGN : forward_signal;  // a console relays ^C as a byte (raw mode)
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) ::sigaction(sig, &sa, nullptr);
    if (args.timeout > 0) {
        struct sigaction alarm_action {};
        alarm_action.sa_handler = on_time_limit;
        ::sigaction(SIGALRM, &alarm_action, nullptr);
        ::alarm(args.timeout);
    }
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
        if (g_kill_due) {
            g_kill_due = 0;
            kill_group_members(child);
        }
    }
    ::alarm(0);
    g_child = -1;
    int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    char byte = 0;
    if (::read(failed_read.get(), &byte, 1) == 1) {
        log.error(verb, verb + " failed: could not attach (see " + ctx.paths.jail_dir(rec->domain) + "/lxc.log)");
        return report_error(ctx, verb, Error{ErrorKind::StepFailed, "LXC could not attach to " + rec->domain + " (see " +
                                                                         ctx.paths.jail_dir(rec->domain) + "/lxc.log)"});
    }
    if (g_timed_out) {
        const std::string said = "the command ran past --timeout " + std::to_string(args.timeout) + " s and was stopped";
        log.warn(verb, said);
        std::cerr << "jailctl: exec: " << said << std::endl;
    }
    log.info(verb, verb + " exit status " + std::to_string(rc) + " after " + std::to_string(static_cast<int64_t>(ms)) + " ms");
    return rc;
}

}  // namespace

void add_exec(CLI::App& app, Context& ctx, Action& action) {
    auto [cmd, args] = add_command<ExecArgs>(
        app, ctx, action, "exec", "Run a command inside a running jail (stdio and exit status pass through)",
        [](Context& c, const ExecArgs& a) { return run_attached(c, a, false); });
    cmd->add_option("domain", args->domain, "The jail")->required();
    cmd->add_option("--user,-U", args->user, "User inside the jail, name or uid (default root)");
    cmd->add_option("--timeout", args->timeout,
                    "Stop the command after SECONDS (SIGTERM, SIGKILL 5 s later; its status is then 143 or 137)")
        ->check(CLI::Range(0u, 86400u));
    cmd->add_option("command", args->command, "The command and its arguments, after --")->required();

    auto cargs = std::make_shared<ExecArgs>();
    auto* con = app.add_subcommand("console", "An interactive shell (/bin/sh) in a running jail");
    con->add_option("domain", cargs->domain, "The jail")->required();
    con->add_option("--user,-U", cargs->user, "User inside the jail, name or uid (default root)");
    con->callback([&ctx, &action, cargs] {
        cargs->command = {"/bin/sh", "-l"};
        action = [&ctx, cargs] { return run_attached(ctx, *cargs, true); };
    });
}

}  // namespace jailctl
