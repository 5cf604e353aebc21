// SIGINT, SIGTERM and SIGHUP while a task runs (issue 14): the program is not killed half-way.
// An InterruptScope catches them; the task engine looks at interrupt_signal() after each step
// and undoes like a failed step. An external program running when the signal arrives is stopped
// (SIGTERM to its own process group: run_command starts each in one, so a terminal's Ctrl-C
// reaches only jailctl) — except during the undo, which must finish: then a further signal only
// prints "undo in progress, please wait" on stderr.
#pragma once

namespace jailctl {

// What a signal does while the scope is active.
enum class InterruptMode {
    Cancel,  // record it, stop the running external program: the task will undo
    Undo,    // record it, stop nothing: the undo must finish ("undo in progress, please wait")
    Finish,  // record it, stop nothing: a task that always completes (stop, destroy)
};

// Installs the handlers for its lifetime (nested scopes share the outer one's), restoring the
// previous dispositions on exit. Not thread-safe: one per process, as one task runs at a time.
class InterruptScope {
public:
    explicit InterruptScope(InterruptMode mode = InterruptMode::Cancel);
    ~InterruptScope();
    InterruptScope(const InterruptScope&) = delete;
    InterruptScope& operator=(const InterruptScope&) = delete;

private:
    bool outer_ = false;
};

// The first signal caught in the active scope, 0 when none (or outside a scope).
int interrupt_signal();
// How many signals the active scope caught.
int interrupt_count();
void set_interrupt_mode(InterruptMode mode);
// In Cancel mode once a signal was caught: the external program should be stopped.
bool cancel_requested();
// A descriptor that becomes readable when a signal is caught (self-pipe; -1 outside a scope):
// run_command polls it beside the program's output.
int interrupt_fd();

// "SIGINT", "SIGTERM", "SIGHUP", else "signal".
const char* signal_name(int sig);

}  // namespace jailctl
