#include "init/init_loop.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <optional>

#include "init/process.h"
#include "init/state_file.h"

namespace jailctl::init {
namespace {

Now clock_now() {
    timespec mono{};
    ::clock_gettime(CLOCK_MONOTONIC, &mono);
    return {.mono_ms = int64_t{mono.tv_sec} * 1000 + mono.tv_nsec / 1'000'000, .unix_s = ::time(nullptr)};
}

class Loop {
public:
    Loop(Supervisor supervisor, const InitOptions& options, Fd signal_fd, std::vector<CappedLog> logs)
        : sup_(std::move(supervisor)), options_(options), signal_fd_(std::move(signal_fd)), logs_(std::move(logs)) {}

    int run();

private:
    void start_due_services(Now now);
    void handle_signals(Now now);
    void begin_stop(Now now);
    void enter_kill_phase(Now now);
    void reap_children(int64_t now_ms);
    void write_state_if_changed();
    void cap_logs(int64_t now_ms);
    void open_sockets();
    void check_idleness(int64_t now_ms);
    int poll_timeout_ms(int64_t now_ms) const;

    Supervisor sup_;
    const InitOptions& options_;
    Fd signal_fd_;
    bool killing_ = false;  // after the final SIGKILL: only reaping is left
    int64_t kill_deadline_ms_ = 0;
    bool children_left_ = true;
    uint64_t written_generation_ = 0;
    std::string last_write_error_;
    std::vector<CappedLog> logs_;
    int64_t next_log_check_ms_ = 0;
    std::vector<Fd> sockets_;  // per service: its held listening socket (socket-activated ones)
    int64_t next_idle_check_ms_ = 0;
};

int Loop::run() {
    next_log_check_ms_ = clock_now().mono_ms + kLogCheckMs;
    open_sockets();
    std::vector<pollfd> fds;
    std::vector<std::size_t> polled;  // fds[k + 1] is the socket of service polled[k]
    for (;;) {
        Now now = clock_now();
        start_due_services(now);
        cap_logs(now.mono_ms);
        check_idleness(now.mono_ms);
        if (sup_.stopping() && !killing_ && (sup_.none_running() || sup_.grace_over(now.mono_ms)))
            enter_kill_phase(now);
        if (killing_) {
            reap_children(now.mono_ms);
            if (!children_left_) break;
            if (now.mono_ms >= kill_deadline_ms_) {
                print_message("children still alive " + std::to_string(kKillWaitMs) +
                              " ms after SIGKILL; exiting anyway");
                break;
            }
            kill_all_other_processes(options_.is_pid1);
        }
        write_state_if_changed();

        fds.assign(1, pollfd{.fd = signal_fd_.get(), .events = POLLIN, .revents = 0});
        polled.clear();
        for (std::size_t i = 0; i < sockets_.size(); ++i) {
            if (!sockets_[i].valid() || !sup_.accepts_connection(i, now.mono_ms)) continue;
            fds.push_back(pollfd{.fd = sockets_[i].get(), .events = POLLIN, .revents = 0});
            polled.push_back(i);
        }
        int n = ::poll(fds.data(), fds.size(), poll_timeout_ms(now.mono_ms));
        if (n < 0 && errno != EINTR) {
            print_message(std::string("poll: ") + std::strerror(errno));
            return 1;
        }
        if (n <= 0) continue;
        const Now after = clock_now();
        for (std::size_t k = 0; k < polled.size(); ++k)
            if (fds[k + 1].revents != 0) sup_.on_connection(polled[k], after.mono_ms);  // started at the loop's top
        if (fds[0].revents != 0) handle_signals(after);
    }
    write_state_if_changed();
    print_message("stopped");
    return 0;
}

// Socket-activated services get their socket before anything starts. One that cannot be
// made (a path that is not a socket, say) is said once; that service then starts at once,
// as an ordinary one, and binds its address itself.
void Loop::open_sockets() {
    sockets_.resize(sup_.services().size());
    for (std::size_t i = 0; i < sockets_.size(); ++i) {
        const auto& s = sup_.services()[i];
        if (!s.spec.socket) continue;
        auto fd = open_listen_socket(*s.spec.socket);
        if (fd) {
            sockets_[i] = std::move(*fd);
            continue;
        }
        print_message(s.spec.name + ": " + fd.error().message + "; starting it now instead of on demand");
        sup_.run_without_socket(i);
    }
}

// Every kIdleCheckMs: a running socket-activated service with --idle-stop that has had no
// child and no connection waiting in its backlog for that long gets its stop signal; it waits
// on its socket again once it has exited.
void Loop::check_idleness(int64_t now_ms) {
    if (now_ms < next_idle_check_ms_ || !sup_.watches_idleness()) return;
    next_idle_check_ms_ = now_ms + kIdleCheckMs;
    for (std::size_t i = 0; i < sup_.services().size(); ++i) {
        const auto& s = sup_.services()[i];
        if (!watched_for_idleness(s)) continue;
        // Busy: a child at work, or a connection not yet accepted (it would wait for the restart).
        pollfd queued{.fd = i < sockets_.size() ? sockets_[i].get() : -1, .events = POLLIN, .revents = 0};
        if (has_children(s.pid) || (queued.fd >= 0 && ::poll(&queued, 1, 0) > 0)) sup_.on_busy(i, now_ms);
    }
    for (std::size_t i : sup_.idle_due(now_ms)) {
        const auto& s = sup_.services()[i];
        print_message(s.spec.name + ": idle for " + std::to_string(s.spec.socket->idle_stop_ms / 1000) +
                      " s; stopping it (SIG" + std::string(stop_signal_name(s.spec.stop_signal)) +
                      "), the next connection starts it again");
        sup_.on_idle_stop(i);
        if (::kill(s.pid, s.spec.stop_signal) != 0 && errno != ESRCH)
            print_message(s.spec.name + ": send stop signal: " + std::strerror(errno));
    }
}

void Loop::start_due_services(Now now) {
    for (std::size_t i : sup_.due(now.mono_ms)) {
        const auto& service = sup_.services()[i];
        const int listen_fd = i < sockets_.size() && sockets_[i].valid() ? sockets_[i].get() : -1;
        auto pid = spawn_service(service.spec, STDERR_FILENO, listen_fd);
        if (!pid) {
            print_message(pid.error().message);
            sup_.on_start_failed(i, now.mono_ms);
            continue;
        }
        sup_.on_started(i, *pid, now);
        print_message(service.spec.name + ": started" + (listen_fd >= 0 ? " on demand" : "") + ", pid " +
                      std::to_string(*pid) + (service.restarts ? ", restart " + std::to_string(service.restarts) : ""));
    }
}

void Loop::handle_signals(Now now) {
    for (int sig : read_signals(signal_fd_.get())) {
        switch (sig) {
            case SIGCHLD:
                reap_children(now.mono_ms);
                break;
            case SIGTERM:
            case SIGINT:
            case SIGPWR:
                if (sup_.stopping()) {
                    print_message(std::string("already stopping; ignoring ") + ::sigabbrev_np(sig));
                } else {
                    print_message(std::string("SIG") + ::sigabbrev_np(sig) + " received: stopping services");
                    begin_stop(now);
                }
                break;
            case SIGHUP:
                print_message("SIGHUP ignored (restart the jail to apply a new service list)");
                break;
            default:
                break;
        }
    }
}

void Loop::begin_stop(Now now) {
    for (std::size_t i : sup_.begin_stop(now.mono_ms, options_.grace_ms)) {
        const auto& s = sup_.services()[i];
        if (::kill(s.pid, s.spec.stop_signal) != 0 && errno != ESRCH)
            print_message(s.spec.name + ": send stop signal: " + std::strerror(errno));
    }
}

void Loop::enter_kill_phase(Now now) {
    killing_ = true;
    kill_deadline_ms_ = now.mono_ms + kKillWaitMs;
    for (const auto& s : sup_.services()) {
        if (s.state != ServiceState::Running) continue;
        print_message(s.spec.name + ": still running after the " + std::to_string(options_.grace_ms) +
                      " ms grace period; SIGKILL to its process group");
        ::kill(-s.pid, SIGKILL);
    }
    kill_all_other_processes(options_.is_pid1);
}

// Reaps every child that has exited. A service's main process is examined with WNOWAIT
// first: while its zombie exists the process group id cannot be reused, so SIGKILL to
// the group reaches only what the service left behind.
void Loop::reap_children(int64_t now_ms) {
    for (;;) {
        siginfo_t info{};
        if (::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
            if (errno == EINTR) continue;
            children_left_ = false;  // ECHILD
            return;
        }
        if (info.si_pid == 0) {
            children_left_ = true;
            return;
        }
        pid_t pid = info.si_pid;
        bool is_service =
            std::any_of(sup_.services().begin(), sup_.services().end(),
                        [pid](const Service& s) { return s.state == ServiceState::Running && s.pid == pid; });
        if (is_service) ::kill(-pid, SIGKILL);
        int status = 0;
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        if (auto index = sup_.on_exit(pid, now_ms)) {
            const auto& s = sup_.services()[*index];
            std::string next = s.state == ServiceState::Backoff
                                   ? "; restart in " + std::to_string(s.restart_at_ms - now_ms) + " ms"
                                   : "";
            print_message(s.spec.name + ": pid " + std::to_string(pid) + " " + describe_wait_status(status) +
                          next);
        }
    }
}

void Loop::write_state_if_changed() {
    if (sup_.generation() == written_generation_) return;
    auto written = write_state_file(options_.state_path, render_state(sup_.services()));
    if (!written) {
        // Say it once per distinct error, not on every change (a full disk would flood the console).
        if (written.error().message != last_write_error_)
            print_message("state file: " + written.error().message);
        last_write_error_ = written.error().message;
        return;
    }
    last_write_error_.clear();
    written_generation_ = sup_.generation();
}

void Loop::cap_logs(int64_t now_ms) {
    if (logs_.empty() || sup_.stopping() || now_ms < next_log_check_ms_) return;
    next_log_check_ms_ = now_ms + kLogCheckMs;
    Rotation rotation = rotate_full_logs(logs_);
    for (const auto& message : rotation.messages) print_message(message);
    for (const auto& name : rotation.services) {
        for (const auto& log : logs_) {
            if (log.service != name) continue;
            for (const auto& s : sup_.services())
                if (s.spec.name == name && s.state == ServiceState::Running && ::kill(s.pid, log.signal) != 0)
                    print_message(name + ": send log reopen signal: " + std::strerror(errno));
            break;
        }
    }
}

int Loop::poll_timeout_ms(int64_t now_ms) const {
    std::optional<int64_t> wake = killing_ ? std::optional(now_ms + kKillSweepMs) : sup_.next_wakeup_ms(now_ms);
    if (!killing_ && !sup_.stopping() && !logs_.empty())
        wake = std::min(wake.value_or(next_log_check_ms_), next_log_check_ms_);
    if (!killing_ && sup_.watches_idleness())
        wake = std::min(wake.value_or(next_idle_check_ms_), next_idle_check_ms_);
    if (!wake) return -1;  // idle: nothing to do until a signal
    int64_t delta = std::clamp<int64_t>(*wake - now_ms, 0, INT_MAX);
    return static_cast<int>(delta);
}

}  // namespace

Result<int64_t> parse_grace_ms(std::string_view text) {
    if (text.empty() || text.size() > 9 ||
        !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return fail_input("JAILCTL_INIT_GRACE_MS",
                          "'" + std::string(text) + "' is not a number of milliseconds");
    int64_t value = std::stoll(std::string(text));
    if (value > kMaxGraceMs)
        return fail_input("JAILCTL_INIT_GRACE_MS",
                          std::to_string(value) + " is above the maximum of " + std::to_string(kMaxGraceMs));
    return value;
}

Result<InitOptions> parse_options(int argc, const char* const* argv, const char* state_env,
                                  const char* grace_env) {
    InitOptions options;
    if (argc > 2) return fail_input("command line", "usage: jailctl-init [service-list]");
    if (argc == 2) {
        if (argv[1][0] == '\0') return fail_input("service list path", "empty");
        options.services_path = argv[1];
    }
    const auto slash = options.services_path.rfind('/');
    options.logs_path = (slash == std::string::npos ? std::string() : options.services_path.substr(0, slash + 1)) + "logs";
    if (state_env) {
        if (*state_env == '\0') return fail_input("JAILCTL_INIT_STATE", "empty");
        options.state_path = state_env;
    }
    if (grace_env) {
        auto grace = parse_grace_ms(grace_env);
        if (!grace) return std::unexpected(grace.error());
        options.grace_ms = *grace;
    }
    return options;
}

void print_message(std::string_view message) {
    std::string line = "jailctl-init: ";
    line.append(message);
    line.push_back('\n');
    // One write so that lines of the init and its services do not interleave mid-line.
    while (::write(STDERR_FILENO, line.data(), line.size()) < 0 && errno == EINTR) {
    }
}

int run_init(Supervisor supervisor, const InitOptions& options, Fd signal_fd, std::vector<CappedLog> logs) {
    return Loop(std::move(supervisor), options, std::move(signal_fd), std::move(logs)).run();
}

}  // namespace jailctl::init
