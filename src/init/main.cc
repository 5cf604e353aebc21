// jailctl-init: PID 1 inside every jail (lxc.init.cmd = /init).
//
//   jailctl-init [service-list]        default /etc/jailctl/services (format: service_list.h)
//   env JAILCTL_INIT_STATE=<path>      state file, default /run/jailctl/init.json (state_file.h)
//   env JAILCTL_INIT_GRACE_MS=<ms>     grace period of a stop, default 5000
//   <dir of the service list>/logs     the logs it caps (log_cap.h), optional
//
// Exit status: 0 after a stop signal (SIGTERM, SIGINT, SIGPWR; see init_loop.h), 1 when it
// cannot start (bad command line or environment, unreadable or malformed service list,
// signal setup failed) — then nothing has been started. Messages go to stderr, prefixed
// "jailctl-init: "; the services' stdout and stderr go there too (the container console).
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "init/init_loop.h"
#include "init/process.h"
#include "init/service_list.h"
#include "init/supervisor.h"

namespace {

using namespace jailctl::init;

// A closed stdin/stdout/stderr would let the next open() take its number and leak into
// services as their output: put /dev/null there instead.
void ensure_standard_fds() {
    for (int fd = 0; fd <= 2; ++fd) {
        if (::fcntl(fd, F_GETFD) >= 0) continue;
        int null_fd = ::open("/dev/null", O_RDWR);
        if (null_fd >= 0 && null_fd != fd) {
            ::dup2(null_fd, fd);
            ::close(null_fd);
        }
    }
}

int start(int argc, char** argv) {
    ::umask(022);
    ensure_standard_fds();
    auto options =
        parse_options(argc, argv, std::getenv("JAILCTL_INIT_STATE"), std::getenv("JAILCTL_INIT_GRACE_MS"));
    if (!options) {
        print_message(options.error().message);
        return 1;
    }
    options->is_pid1 = ::getpid() == 1;
    // Outside a pid namespace (tests), become the reaper of our descendants as PID 1 would be.
    if (!options->is_pid1 && ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
        print_message(std::string("prctl(PR_SET_CHILD_SUBREAPER): ") + std::strerror(errno));
        return 1;
    }
    // Signals are blocked before anything is started, so that none is lost or kills us early.
    auto signal_fd = open_signal_fd();
    if (!signal_fd) {
        print_message(signal_fd.error().message);
        return 1;
    }
    auto services = load_service_list(options->services_path);
    if (!services) {
        print_message(services.error().message);
        return 1;
    }
    // A bad log list only costs the capping, never the services.
    auto logs = load_log_list(options->logs_path);
    if (!logs) print_message(logs.error().message + " (logs are not capped)");
    print_message("starting " + std::to_string(services->size()) + " service(s) from " +
                  options->services_path);
    return run_init(Supervisor(std::move(*services)), *options, std::move(*signal_fd),
                    logs ? std::move(*logs) : std::vector<CappedLog>{});
}

}  // namespace

int main(int argc, char** argv) { return start(argc, argv); }
