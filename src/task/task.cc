#include "task/task.h"

#include <poll.h>
#include <unistd.h>

#include <csignal>
#include <chrono>
#include <cstdlib>

#include "util/interrupt.h"

namespace jailctl {
namespace {

std::string g_current_step;

double ms_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

std::string format_ms(double ms) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f ms", ms);
    return buf;
}

void record(std::vector<StepRecord>& steps, TaskJournal* journal, StepRecord rec) {
    if (journal) journal->step_changed(rec);
    for (auto& s : steps) {
        if (s.name == rec.name) {
            s = rec;
            return;
        }
    }
    steps.push_back(std::move(rec));
}

// Test hook (JAILCTL_PAUSE_AT, JAILCTL_PAUSE_UNDO): says so on stderr, then waits up to 60 s for
// one more signal than the task has had.
void pause_until_signal(const std::string& line) {
    (void)!::write(STDERR_FILENO, line.data(), line.size());
    const int seen = interrupt_count();
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (interrupt_count() == seen && std::chrono::steady_clock::now() < until) {
        pollfd pfd{interrupt_fd(), POLLIN, 0};
        (void)::poll(&pfd, pfd.fd >= 0 ? 1 : 0, 100);
    }
}

bool test_mode() {
    const char* mode = std::getenv("JAILCTL_TEST_MODE");
    return mode && std::string(mode) == "1";
}

void undo_completed(const std::vector<Step>& steps, size_t count, TaskLog& log, TaskJournal* journal,
                    std::vector<StepRecord>& records) {
    for (size_t i = count; i-- > 0;) {
        const Step& step = steps[i];
        if (!step.undo) continue;
        if (const char* pause = std::getenv("JAILCTL_PAUSE_UNDO"); pause && step.name == pause && test_mode())
            pause_until_signal("jailctl: paused before undoing " + step.name + "\n");
        auto start = std::chrono::steady_clock::now();
        log.info(step.name, "undo");
        g_current_step = step.name;
        auto result = step.undo();
        g_current_step.clear();
        double ms = ms_since(start);
        if (result) {
            log.info(step.name, "undone in " + format_ms(ms));
            record(records, journal, {step.name, "undone", ms});
        } else {
            log.error(step.name, "undo failed: " + result.error().message);
            record(records, journal, {step.name, "undo-failed", ms});
        }
    }
}

}  // namespace

const std::string& current_step() { return g_current_step; }

Result<void> injected_fault(const std::string& step) {
    if (!test_mode()) return {};
    if (const char* kill_at = std::getenv("JAILCTL_KILL_AT"); kill_at && step == kill_at) ::raise(SIGKILL);
    if (const char* fail_at = std::getenv("JAILCTL_FAIL_AT"); fail_at && step == fail_at)
        return fail("injected failure (JAILCTL_FAIL_AT=" + step + ")");
    if (const char* pause_at = std::getenv("JAILCTL_PAUSE_AT"); pause_at && step == pause_at)
        pause_until_signal("jailctl: paused before " + step + "\n");
    return {};
}

TaskOutcome run_task(const std::vector<Step>& steps, TaskLog& log, TaskJournal* journal,
                     const TaskOptions& options) {
    TaskOutcome outcome;
    InterruptScope interrupts(options.interruptible ? InterruptMode::Cancel : InterruptMode::Finish);
    for (const auto& step : steps) outcome.steps.push_back({step.name, "not-run", 0});
    for (size_t i = 0; i < steps.size(); ++i) {
        const Step& step = steps[i];
        log.info(step.name, "start");
        g_current_step = step.name;
        record(outcome.steps, journal, {step.name, "running", 0});
        auto start = std::chrono::steady_clock::now();
        Result<void> result = injected_fault(step.name);
        if (result && !(options.interruptible && interrupt_signal())) result = step.apply();
        double ms = ms_since(start);
        g_current_step.clear();
        if (int sig = interrupt_signal(); sig && options.interruptible) {
            // A signal during this step: it fails as "interrupted" (a program it ran was
            // stopped; its own error is logged), and the task is undone like any failed step.
            if (!result) log.warn(step.name, "while interrupted: " + result.error().message);
            log.warn(step.name, std::string("interrupted by ") + signal_name(sig) + ": undoing the task");
            result = fail("interrupted");
            outcome.signal = sig;
        }
        if (result) {
            log.info(step.name, "done in " + format_ms(ms));
            record(outcome.steps, journal, {step.name, "ok", ms});
            continue;
        }
        log.error(step.name, "failed after " + format_ms(ms) + ": " + result.error().message);
        record(outcome.steps, journal, {step.name, "failed", ms});
        outcome.failed_step = step.name;
        outcome.error = result.error();
        // The failing step undoes its own partial work too: undo must be idempotent.
        // Signals from now on are only answered "undo in progress" (util/interrupt.h).
        set_interrupt_mode(InterruptMode::Undo);
        if (options.undo_on_failure)
            undo_completed(steps, i + 1, log, journal, outcome.steps);
        else
            log.warn("task", "--keep-on-failure: completed steps left in place for debugging");
        return outcome;
    }
    if (int sig = interrupt_signal(); sig)
        log.warn("task", std::string(signal_name(sig)) + " received: the task was completed first");
    outcome.ok = true;
    return outcome;
}

}  // namespace jailctl
