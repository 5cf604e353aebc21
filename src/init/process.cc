#include "init/process.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>

namespace jailctl::init {
namespace {

constexpr int kHandledSignals[] = {SIGCHLD, SIGTERM, SIGINT, SIGPWR, SIGHUP};

// Kernels before 5.9 have no close_range: close one by one up to the limit.
void close_fds_from(int first) {
    long max = ::sysconf(_SC_OPEN_MAX);
    if (max < 0 || max > 1 << 20) max = 1 << 20;
    for (int fd = first; fd < max; ++fd) ::close(fd);
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
[[noreturn]] void exec_child(const ServiceSpec& spec, char* const* argv, std::vector<std::string> env, int output_fd,
                             int listen_fd) {
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
    int first_closed = 3;
    if (listen_fd >= 0) {
        // fd 3 is free unless listen_fd is 3 itself (then it only loses close-on-exec).
        if (listen_fd == 3) ::fcntl(3, F_SETFD, 0);
        else ::dup2(listen_fd, 3);
        first_closed = 4;
        env.push_back("LISTEN_FDS=1");
        env.push_back("LISTEN_PID=" + std::to_string(::getpid()));
        const std::string& name = spec.socket->name.empty() ? spec.socket->path : spec.socket->name;
        env.push_back("LISTEN_FDNAMES=" + name);
        env.push_back("FPM_SOCKETS=" + name + "=3");
    }
    if (::close_range(static_cast<unsigned>(first_closed), ~0U, 0) != 0) close_fds_from(first_closed);
    std::vector<char*> envp;
    for (auto& var : env) envp.push_back(var.data());
    envp.push_back(nullptr);
    if (::chdir("/") == 0) ::execve(argv[0], argv, envp.data());
    int err = errno;
    write_all_best_effort(2, "jailctl-init: " + spec.name + ": cannot execute " + spec.argv[0] + ": " +
                                 std::strerror(err) + "\n");
    ::_exit(127);
}

}  // namespace

Result<pid_t> spawn_service(const ServiceSpec& spec, int output_fd, int listen_fd) {
    if (spec.argv.empty()) return fail("start service " + spec.name + ": empty command");
    if (listen_fd >= 0 && !spec.socket) return fail("start service " + spec.name + ": a socket but no --socket");
    std::vector<char*> argv;
    for (const auto& arg : spec.argv) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    std::vector<std::string> env(std::begin(kServiceEnvironment), std::end(kServiceEnvironment));

    pid_t pid = ::fork();
    if (pid < 0) return fail_errno("start service " + spec.name + ": fork", errno);
    if (pid == 0) exec_child(spec, argv.data(), std::move(env), output_fd, listen_fd);
    return pid;
}

Result<Fd> open_listen_socket(const SocketSpec& socket) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (socket.path.size() >= sizeof addr.sun_path) return fail_input("--socket", socket.path + ": path too long");
    std::copy(socket.path.begin(), socket.path.end(), addr.sun_path);
    const std::string what = "listening socket " + socket.path;
    Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd.valid()) return fail_errno(what + ": socket", errno);
    struct stat st{};
    if (::lstat(socket.path.c_str(), &st) == 0) {  // left by the previous run of the jail
        if (!S_ISSOCK(st.st_mode)) return fail(what + ": the path exists and is not a socket");
        if (::unlink(socket.path.c_str()) != 0) return fail_errno(what + ": remove the stale one", errno);
    }
    // Created with no permission at all, then opened up: no window with the umask's bits.
    const mode_t old_umask = ::umask(0777);
    const int bound = ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
    const int bind_errno = errno;
    ::umask(old_umask);
    if (bound != 0) return fail_errno(what + ": bind", bind_errno);
    if (::chown(socket.path.c_str(), socket.uid, socket.gid) != 0) return fail_errno(what + ": chown", errno);
    if (::chmod(socket.path.c_str(), socket.mode) != 0) return fail_errno(what + ": chmod", errno);
    if (::listen(fd.get(), 511) != 0) return fail_errno(what + ": listen", errno);
    return fd;
}

std::optional<std::vector<pid_t>> children_of(pid_t pid, std::size_t limit) {
    DIR* proc = ::opendir("/proc");
    if (!proc) return std::nullopt;
    std::vector<pid_t> children;
    char buf[512];
    while (children.size() < limit) {
        const dirent* e = ::readdir(proc);
        if (!e) break;
        if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
        Fd fd(::open(("/proc/" + std::string(e->d_name) + "/stat").c_str(), O_RDONLY | O_CLOEXEC));
        if (!fd.valid()) continue;
        ssize_t n = ::read(fd.get(), buf, sizeof buf - 1);
        if (n <= 0) continue;
        buf[n] = '\0';
        // "PID (comm) S PPID ...": comm may hold spaces and parentheses, so from the last ')'.
        const char* close = std::strrchr(buf, ')');
        if (!close) continue;
        char state = 0;
        int ppid = 0;
        if (std::sscanf(close + 1, " %c %d", &state, &ppid) == 2 && ppid == pid) children.push_back(std::atoi(e->d_name));
    }
    ::closedir(proc);
    return children;
}

bool has_children(pid_t pid) {
    auto children = children_of(pid, 1);
    return !children || !children->empty();  // cannot tell: never stop it for idleness
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

std::vector<pid_t> child_pids() { return children_of(::getpid()).value_or(std::vector<pid_t>{}); }

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
