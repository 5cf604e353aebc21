#include "init/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <iterator>

namespace jailctl::init {
namespace {

constexpr int kHandledSignals[] = {SIGCHLD, SIGTERM, SIGINT, SIGPWR, SIGHUP};

void close_fds_from_3() {
    if (::close_range(3, ~0U, 0) == 0) return;
    // Kernels before 5.9: close one by one up to the limit.
    long max = ::sysconf(_SC_OPEN_MAX);
    if (max < 0 || max > 1 << 20) max = 1 << 20;
    for (int fd = 3; fd < max; ++fd) ::close(fd);
}

void write_all_best_effort(int fd, const std::string& text) {
    const char* p = text.data();
    std::size_t left = text.size();
    while (left > 0) {
        ssize_t n = ::write(fd, p, left);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        p += n;
        left -= static_cast<std::size_t>(n);
    }
}

// Runs in the child after fork(); never returns.
[[noreturn]] void exec_child(const ServiceSpec& spec, char* const* argv, char* const* envp, int output_fd) {
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    ::setsid();
    int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null_fd >= 0) ::dup2(null_fd, 0);
    for (int target : {1, 2}) {
        if (output_fd == target)
            ::fcntl(target, F_SETFD, 0);  // dup2 would be a no-op: keep it open on exec
        else
            ::dup2(output_fd, target);
    }
    close_fds_from_3();
    if (::chdir("/") == 0) ::execve(argv[0], argv, envp);
    int err = errno;
    write_all_best_effort(2, "jailctl-init: " + spec.name + ": cannot execute " + spec.argv[0] + ": " +
                                 std::strerror(err) + "\n");
    ::_exit(127);
}

}  // namespace

Result<pid_t> spawn_service(const ServiceSpec& spec, int output_fd) {
    if (spec.argv.empty()) return fail("start service " + spec.name + ": empty command");
    std::vector<char*> argv;
    for (const auto& arg : spec.argv) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (const char* var : kServiceEnvironment) envp.push_back(const_cast<char*>(var));
    envp.push_back(nullptr);

    pid_t pid = ::fork();
    if (pid < 0) return fail_errno("start service " + spec.name + ": fork", errno);
    if (pid == 0) exec_child(spec, argv.data(), envp.data(), output_fd);
    return pid;
}

Result<Fd> open_signal_fd() {
    sigset_t set;
    sigemptyset(&set);
    for (int sig : kHandledSignals) sigaddset(&set, sig);
    if (::sigprocmask(SIG_BLOCK, &set, nullptr) != 0) return fail_errno("block signals", errno);
    ::signal(SIGPIPE, SIG_IGN);
    Fd fd(::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC));
    if (!fd.valid()) return fail_errno("create signalfd", errno);
    return fd;
}

std::vector<int> read_signals(int signal_fd) {
    std::vector<int> signals;
    signalfd_siginfo info;
    for (;;) {
        ssize_t n = ::read(signal_fd, &info, sizeof info);
        if (n < 0 && errno == EINTR) continue;
        if (n != static_cast<ssize_t>(sizeof info)) break;  // EAGAIN: drained
        int sig = static_cast<int>(info.ssi_signo);
        if (std::find(signals.begin(), signals.end(), sig) == signals.end()) signals.push_back(sig);
    }
    return signals;
}

std::string describe_wait_status(int status) {
    if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        std::string text = "killed by signal " + std::to_string(sig);
        if (const char* name = ::sigdescr_np(sig)) text += std::string(" (") + name + ")";
        if (WCOREDUMP(status)) text += " (core dumped)";
        return text;
    }
    return "changed state " + std::to_string(status);
}

std::vector<pid_t> child_pids() {
    std::vector<pid_t> pids;
    auto path = "/proc/self/task/" + std::to_string(::getpid()) + "/children";
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return pids;
    std::string text;
    char buf[512];
    for (ssize_t n; (n = ::read(fd.get(), buf, sizeof buf)) > 0;)
        text.append(buf, static_cast<std::size_t>(n));
    pid_t current = 0;
    for (char c : text) {
        if (c >= '0' && c <= '9') {
            current = current * 10 + (c - '0');
        } else if (current > 0) {
            pids.push_back(current);
            current = 0;
        }
    }
    if (current > 0) pids.push_back(current);
    return pids;
}

void kill_all_other_processes(bool is_pid1) {
    if (is_pid1) {
        ::kill(-1, SIGKILL);  // every process of the pid namespace but the init itself
        return;
    }
    // Never kill(-1) here: outside a pid namespace it would reach every process of the user.
    // A child's pid cannot be reused before we reap it, so killing by pid is exact.
    for (pid_t pid : child_pids()) ::kill(pid, SIGKILL);
}

}  // namespace jailctl::init
