#include "util/interrupt.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iterator>

namespace jailctl {
namespace {

constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP};

volatile sig_atomic_t g_signal = 0;
volatile sig_atomic_t g_count = 0;
volatile sig_atomic_t g_mode = static_cast<int>(InterruptMode::Cancel);
int g_pipe[2] = {-1, -1};
struct sigaction g_previous[3];

void say(const char* text) { (void)!::write(STDERR_FILENO, text, std::strlen(text)); }

extern "C" void on_signal(int sig) {
    int saved_errno = errno;
    bool first = g_signal == 0;
    if (first) g_signal = sig;
    g_count = g_count + 1;
    if (g_pipe[1] >= 0) (void)!::write(g_pipe[1], "!", 1);
    if (g_mode == static_cast<int>(InterruptMode::Finish))
        say("jailctl: this task is finished before jailctl exits, please wait\n");
    else if (!first || g_mode == static_cast<int>(InterruptMode::Undo))
        say("jailctl: undo in progress, please wait (the signal is ignored until it is done)\n");
    else
        say("jailctl: interrupted: undoing what this task did, please wait\n");
    errno = saved_errno;
}

}  // namespace

InterruptScope::InterruptScope(InterruptMode mode) {
    if (g_pipe[0] >= 0) return;  // the outer scope holds the handlers
    outer_ = true;
    g_signal = 0;
    g_count = 0;
    g_mode = static_cast<int>(mode);
    if (::pipe2(g_pipe, O_CLOEXEC | O_NONBLOCK) != 0) g_pipe[0] = g_pipe[1] = -1;
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    for (int s : kSignals) sigaddset(&sa.sa_mask, s);
    sa.sa_flags = 0;  // no SA_RESTART: a blocking wait returns EINTR and looks at the flag
    for (size_t i = 0; i < std::size(kSignals); ++i) ::sigaction(kSignals[i], &sa, &g_previous[i]);
}

InterruptScope::~InterruptScope() {
    if (!outer_) return;
    for (size_t i = 0; i < std::size(kSignals); ++i) ::sigaction(kSignals[i], &g_previous[i], nullptr);
    for (int& fd : g_pipe) {
        if (fd >= 0) ::close(fd);
        fd = -1;
    }
}

int interrupt_signal() { return g_signal; }
int interrupt_count() { return g_count; }
void set_interrupt_mode(InterruptMode mode) { g_mode = static_cast<int>(mode); }
bool cancel_requested() { return g_signal != 0 && g_mode == static_cast<int>(InterruptMode::Cancel); }
int interrupt_fd() { return g_pipe[0]; }

const char* signal_name(int sig) {
    switch (sig) {
        case SIGINT: return "SIGINT";
        case SIGTERM: return "SIGTERM";
        case SIGHUP: return "SIGHUP";
        default: return "signal";
    }
}

}  // namespace jailctl
