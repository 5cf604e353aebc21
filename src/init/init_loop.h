// The event loop of jailctl-init: one signalfd, the held sockets of socket-activated services
// that wait for a connection (service_list.h, --socket), and poll() timeouts; no signal
// handlers, no threads. Idle means blocked in poll() with either no timeout or the next
// restart time (or, while a service with --idle-stop runs, the next idleness check each second).
//
// Stop semantics (SIGTERM, SIGINT or SIGPWR; repeated stop signals are ignored):
//  1. no more restarts; services waiting in backoff are marked stopped;
//  2. each running service gets its stop signal, on its main process only (the service's own
//     shutdown protocol, e.g. nginx QUIT lets the master drain its workers);
//  3. when every main process has exited, or the grace period ends, SIGKILL goes to each
//     remaining service's process group and to every other process (as PID 1: kill(-1));
//  4. children are reaped until none is left (at most kKillWaitMs), the state file is
//     written with every service stopped, and run_init returns 0.
// Every kLogCheckMs the capped logs (log_cap.h) are checked and full ones rotated; their
// writers get their reopen signal. SIGHUP is logged and otherwise ignored. A service whose main process exits takes its
// process group with it: the rest of the group is SIGKILLed before the zombie is reaped.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "init/log_cap.h"
#include "init/service_list.h"
#include "init/state_file.h"
#include "init/supervisor.h"
#include "util/fd.h"
#include "util/result.h"

namespace jailctl::init {

inline constexpr const char* kDefaultServicesPath = "/etc/jailctl/services";
inline constexpr int64_t kDefaultGraceMs = 5000;
inline constexpr int64_t kMaxGraceMs = 600'000;
// After the final SIGKILL: how long to wait for children to be reaped before exiting anyway
// (a process stuck in uninterruptible sleep must not keep the jail from stopping).
inline constexpr int64_t kKillWaitMs = 2000;
// While waiting after SIGKILL, the sweep is repeated at this period: orphans re-parented
// to the init after the first sweep are caught too.
inline constexpr int64_t kKillSweepMs = 50;
// How often a running socket-activated service with --idle-stop is checked for children.
inline constexpr int64_t kIdleCheckMs = 1000;

struct InitOptions {
    std::string services_path = kDefaultServicesPath;
    std::string logs_path;  // capped logs (log_cap.h): "logs" beside the service list
    std::string state_path = kDefaultStatePath;
    int64_t grace_ms = kDefaultGraceMs;
    bool is_pid1 = false;
};

// A grace period in milliseconds: decimal digits, 0..kMaxGraceMs.
Result<int64_t> parse_grace_ms(std::string_view text);

// Options from the command line (`jailctl-init [service-list]`) and the environment values
// of JAILCTL_INIT_STATE and JAILCTL_INIT_GRACE_MS (nullptr when unset).
Result<InitOptions> parse_options(int argc, const char* const* argv, const char* state_env,
                                  const char* grace_env);

// Writes "jailctl-init: <message>\n" to stderr in one write().
void print_message(std::string_view message);

// Runs the services until a stop signal; returns the exit status (0 after a stop, 1 if the
// loop itself failed). `signal_fd` comes from open_signal_fd(), opened before anything else.
// `logs`: the capped logs (load_log_list(options.logs_path)).
int run_init(Supervisor supervisor, const InitOptions& options, Fd signal_fd, std::vector<CappedLog> logs = {});

}  // namespace jailctl::init
