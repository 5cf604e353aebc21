#include "util/command.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>

#include "util/fd.h"
#include "util/interrupt.h"
#include "util/text.h"

extern char** environ;

namespace jailctl {
namespace {

CommandObserver& observer() {
    static CommandObserver instance;
    return instance;
}

constexpr size_t kMaxOutput = 64 * 1024;

}  // namespace

void set_command_observer(CommandObserver o) { observer() = std::move(o); }

Result<CommandResult> run_command(const std::vector<std::string>& argv) {
    auto started = std::chrono::steady_clock::now();
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) != 0) return fail_errno("pipe", errno);
    Fd read_end(pipe_fds[0]), write_end(pipe_fds[1]);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, write_end.get(), 1);
    posix_spawn_file_actions_adddup2(&actions, write_end.get(), 2);

    std::vector<char*> args;
    for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);

    // Its own process group: a terminal's Ctrl-C reaches jailctl only, which decides (util/interrupt.h)
    // whether the program is stopped (the task goes forward) or left to finish (an undo).
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);
    pid_t pid = -1;
    int rc = posix_spawnp(&pid, args[0], &actions, &attr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) return fail_errno("run " + argv[0], rc);
    write_end.reset();

    CommandResult result;
    char buf[4096];
    bool stopped = false;
    for (;;) {
        if (!stopped && cancel_requested()) {  // interrupted: stop the program, read what it wrote
            ::kill(-pid, SIGTERM);
            stopped = true;
        }
        pollfd fds[2] = {{read_end.get(), POLLIN, 0}, {interrupt_fd(), POLLIN, 0}};
        if (::poll(fds, stopped || fds[1].fd < 0 ? 1 : 2, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (fds[1].revents & POLLIN) {
            char drain[16];
            while (::read(fds[1].fd, drain, sizeof drain) > 0) {
            }
        }
        if (!(fds[0].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        ssize_t n = read(read_end.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        if (result.output.size() < kMaxOutput) result.output.append(buf, static_cast<size_t>(n));
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    result.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    if (observer()) observer()(argv, result, ms);
    return result;
}

Result<CommandResult> run_checked(const std::vector<std::string>& argv) {
    auto result = run_command(argv);
    if (!result) return result;
    if (result->exit_status != 0) return fail(exit_message(argv[0], *result));
    return result;
}

std::string exit_message(const std::string& program, const CommandResult& result) {
    std::string msg = program + " exited with status " + std::to_string(result.exit_status);
    if (auto line = last_line(result.output); !line.empty()) msg += ": " + line;
    return msg;
}

}  // namespace jailctl
