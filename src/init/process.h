// Processes and signals of jailctl-init: starting a service, reaping, killing what is left.
// The init is single-threaded, which is what makes doing real work after fork() safe.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "init/service_list.h"
#include "util/fd.h"
#include "util/result.h"

namespace jailctl::init {

// The whole environment a service gets.
inline constexpr const char* kServiceEnvironment[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"};

// Forks and executes the service: new session (its pid is its process group id), working
// directory /, stdin /dev/null, stdout and stderr on `output_fd`, the environment above,
// empty signal mask and default dispositions, and no other file descriptor (close_range).
// A failed execve is reported on output_fd by the child, which exits with status 127.
// `listen_fd` >= 0 (a socket-activated service's socket) becomes the child's fd 3, announced by
// LISTEN_FDS=1 LISTEN_PID=<pid> LISTEN_FDNAMES=<name> and FPM_SOCKETS=<name>=3 (service_list.h).
Result<pid_t> spawn_service(const ServiceSpec& spec, int output_fd, int listen_fd = -1);

// A socket-activated service's listening unix socket (SOCK_STREAM, close-on-exec): a stale
// socket file at the path is replaced; mode and owner from the spec.
Result<Fd> open_listen_socket(const SocketSpec& socket);

// The processes whose parent is `pid`, at most `limit` of them, from one pass over /proc
// (cheap in a jail's pid namespace; the /proc/PID/task/TID/children file needs
// CONFIG_PROC_CHILDREN, which not every kernel has). nullopt: /proc cannot be read.
std::optional<std::vector<pid_t>> children_of(pid_t pid, std::size_t limit = SIZE_MAX);
// Whether the process has a child (true when /proc cannot tell).
bool has_children(pid_t pid);

// Blocks SIGCHLD SIGTERM SIGINT SIGPWR SIGHUP and returns a non-blocking signalfd for them;
// ignores SIGPIPE (a closed console must not kill the init).
Result<Fd> open_signal_fd();
// Drains the signalfd: the signals received since the last call (each at most once).
std::vector<int> read_signals(int signal_fd);

// "exited with status 1", "killed by signal 9 (Killed)".
std::string describe_wait_status(int status);

// The live and zombie children of this process (children_of(getpid())).
std::vector<pid_t> child_pids();

// SIGKILLs every process that could outlive the services: as PID 1 of a pid namespace,
// every other process in it (kill(-1)); otherwise (a subreaper in tests) each child by pid.
void kill_all_other_processes(bool is_pid1);

}  // namespace jailctl::init
