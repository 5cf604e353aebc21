// Supervisor: the state machine of the services, free of system calls so that tests drive it
// with a fake clock. The event loop (init_loop.h) performs what it decides: fork/exec, signals.
//
//   Backoff --(due)--> Running --(main process exits)--> Backoff (restart after a delay)
//      |                  |
//      +---(stop)--> Stopped <--(exits while stopping)--+
//
// A service starts in Backoff with its restart due at once. Restarts are counted; the
// backoff delay grows with consecutive failures (backoff.h).
//
// A socket-activated service (--socket) starts in Waiting instead: the init holds its socket;
// the first connection makes it due. When it exits it waits again (after the backoff delay if
// it failed); an idle stop (--idle-stop, the loop decides idleness) is no failure.
//
//   Waiting --(connection)--> Backoff (due at once) --> Running --(exits)--> Waiting
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "init/service_list.h"

namespace jailctl::init {

enum class ServiceState { Running, Backoff, Stopped, Waiting };

// "running", "backoff", "stopped", "waiting": the words of the state file.
std::string_view state_name(ServiceState state);

// A point in time: monotonic milliseconds for decisions, wall-clock seconds for display.
struct Now {
    int64_t mono_ms = 0;
    int64_t unix_s = 0;
};

struct Service {
    ServiceSpec spec;
    ServiceState state = ServiceState::Backoff;
    pid_t pid = 0;                // main process (and process group) while Running, else 0
    int restarts = 0;             // starts after the first one (not a socket-activated one's after an idle stop)
    int64_t started_unix = 0;     // wall clock of the last start; 0 before the first start
    int64_t started_mono_ms = 0;  // monotonic time of the last start
    int failures = 0;             // consecutive failures, drives the backoff
    int64_t restart_at_ms = 0;    // in Backoff (and Waiting): earliest monotonic time of the next start
    bool ever_started = false;
    int64_t busy_mono_ms = 0;     // socket-activated: when it was last seen with a child (or started)
    bool idle_stopping = false;   // socket-activated: sent its stop signal for idleness
    bool idle_stopped = false;    // socket-activated: its last run ended by an idle stop
};

// A running socket-activated service with --idle-stop, not yet told to stop: the loop checks
// it for work each second, and idle_due() stops it after its idle time.
inline bool watched_for_idleness(const Service& s) {
    return s.state == ServiceState::Running && s.spec.socket && s.spec.socket->idle_stop_ms > 0 && !s.idle_stopping;
}

class Supervisor {
public:
    explicit Supervisor(std::vector<ServiceSpec> specs);

    const std::vector<Service>& services() const { return services_; }

    // Services in Backoff whose restart time has come; none while stopping.
    std::vector<std::size_t> due(int64_t now_ms) const;

    // The service's process was forked with `pid`.
    void on_started(std::size_t index, pid_t pid, Now now);
    // Forking failed: counts as a failure with no uptime, the start is retried after a backoff.
    void on_start_failed(std::size_t index, int64_t now_ms);

    // A child was reaped. If it was a service's main process, returns the service: it goes to
    // Backoff (restart after a delay) or, while stopping, to Stopped. Orphans give nullopt.
    std::optional<std::size_t> on_exit(pid_t pid, int64_t now_ms);

    // Begins the stop: services in Backoff become Stopped and are never restarted; returns the
    // Running services, which the caller sends their stop signal. Idempotent: a second call
    // returns nothing and keeps the first deadline.
    std::vector<std::size_t> begin_stop(int64_t now_ms, int64_t grace_ms);

    // Socket-activated services: is the init to watch its socket now (Waiting, no backoff left)?
    bool accepts_connection(std::size_t index, int64_t now_ms) const;
    // Its socket could not be made: from now on an ordinary service, due at once.
    void run_without_socket(std::size_t index);
    // A connection waits on the socket: the service becomes due at once.
    void on_connection(std::size_t index, int64_t now_ms);
    // The running service has a child now (work in progress): its idle time starts again.
    void on_busy(std::size_t index, int64_t now_ms);
    // Running socket-activated services idle for their --idle-stop time, not yet told to stop.
    std::vector<std::size_t> idle_due(int64_t now_ms) const;
    // Its stop signal was sent for idleness: its exit is no failure.
    void on_idle_stop(std::size_t index);
    // Whether any running service is watched for idleness (the loop checks them periodically).
    bool watches_idleness() const;

    bool stopping() const { return stopping_; }
    // True when no service has a running main process.
    bool none_running() const;
    // While stopping: true once the grace period has ended.
    bool grace_over(int64_t now_ms) const { return stopping_ && now_ms >= grace_deadline_ms_; }

    // The earliest monotonic time at which the loop has something to do without an event:
    // the next restart, the end of a waiting service's backoff (after now_ms), or the end of
    // the grace period while stopping. nullopt: nothing.
    std::optional<int64_t> next_wakeup_ms(int64_t now_ms = 0) const;

    // Changes on every change visible in the state file, so it is written only when needed.
    uint64_t generation() const { return generation_; }

private:
    std::vector<Service> services_;
    bool stopping_ = false;
    int64_t grace_deadline_ms_ = 0;
    uint64_t generation_ = 1;
};

}  // namespace jailctl::init
