// The task engine: an ordered list of named steps, each with apply and undo.
// A failing step undoes the completed steps in reverse order; every event goes to
// the task's log and, when given, to the journal (the registry's task tables).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "task/log.h"
#include "util/result.h"

namespace jailctl {

struct Step {
    std::string name;
    std::function<Result<void>()> apply;
    std::function<Result<void>()> undo;  // may be empty: nothing to undo
};

struct StepRecord {
    std::string name;
    std::string status;  // "ok", "failed", "undone", "undo-failed", "not-run"
    double ms = 0;
};

// Where the engine records progress so that `repair` can find an interrupted task.
class TaskJournal {
public:
    virtual ~TaskJournal() = default;
    virtual void step_changed(const StepRecord& step) = 0;
};

struct TaskOutcome {
    bool ok = false;
    std::string failed_step;  // empty when ok
    Error error;
    std::vector<StepRecord> steps;
    int signal = 0;  // SIGINT, SIGTERM or SIGHUP interrupted the task (then undone): exit 128 + signal
};

struct TaskOptions {
    bool undo_on_failure = true;  // false: --keep-on-failure
    // A signal (SIGINT, SIGTERM, SIGHUP) fails the running step ("interrupted") and the task is
    // undone; false: the task completes anyway (stop, destroy: never left half-way).
    bool interruptible = true;
};

TaskOutcome run_task(const std::vector<Step>& steps, TaskLog& log, TaskJournal* journal,
                     const TaskOptions& options = {});

// Name of the step run_task is executing ("" outside a task): lets the command
// observer attribute an external program's log line to its step.
const std::string& current_step();

// Test-only fault injection, honoured only when JAILCTL_TEST_MODE=1:
// JAILCTL_FAIL_AT=<step> makes that step fail before it runs;
// JAILCTL_KILL_AT=<step> kills the process with SIGKILL before that step runs;
// JAILCTL_PAUSE_AT=<step> prints "jailctl: paused before <step>" on stderr and waits up to 60 s
// (until a signal arrives) before that step runs, so a test can interrupt a task at a known step;
// JAILCTL_PAUSE_UNDO=<step> likewise before that step's undo (until one more signal arrives).
Result<void> injected_fault(const std::string& step);

}  // namespace jailctl
