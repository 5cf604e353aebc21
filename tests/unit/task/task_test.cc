#include "task/task.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>

namespace jailctl {
namespace {

struct Recorder : TaskJournal {
    std::vector<std::string> events;
    void step_changed(const StepRecord& s) override { events.push_back(s.name + ":" + s.status); }
};

Step step(const std::string& name, std::vector<std::string>& trace, bool fails = false) {
    return {name,
            [&trace, name, fails]() -> Result<void> {
                trace.push_back("apply " + name);
                if (fails) return fail("boom");
                return {};
            },
            [&trace, name]() -> Result<void> {
                trace.push_back("undo " + name);
                return {};
            }};
}

TEST(Task, RunsStepsInOrder) {
    std::vector<std::string> trace;
    TaskLog log;
    Recorder journal;
    auto outcome = run_task({step("a", trace), step("b", trace)}, log, &journal);
    EXPECT_TRUE(outcome.ok);
    EXPECT_EQ(trace, (std::vector<std::string>{"apply a", "apply b"}));
    EXPECT_EQ(journal.events, (std::vector<std::string>{"a:running", "a:ok", "b:running", "b:ok"}));
}

TEST(Task, FailureUndoesCompletedStepsInReverseIncludingTheFailingOne) {
    std::vector<std::string> trace;
    TaskLog log;
    auto outcome = run_task({step("a", trace), step("b", trace), step("c", trace, true), step("d", trace)}, log,
                            nullptr);
    EXPECT_FALSE(outcome.ok);
    EXPECT_EQ(outcome.failed_step, "c");
    EXPECT_EQ(outcome.error.message, "boom");
    EXPECT_EQ(trace, (std::vector<std::string>{"apply a", "apply b", "apply c", "undo c", "undo b", "undo a"}));
    EXPECT_EQ(outcome.steps[3].status, "not-run");
    EXPECT_EQ(outcome.steps[0].status, "undone");
}

TEST(Task, KeepOnFailureUndoesNothing) {
    std::vector<std::string> trace;
    TaskLog log;
    auto outcome = run_task({step("a", trace), step("b", trace, true)}, log, nullptr, {false});
    EXPECT_FALSE(outcome.ok);
    EXPECT_EQ(trace, (std::vector<std::string>{"apply a", "apply b"}));
}

TEST(Task, InjectedFailureOnlyInTestMode) {
    std::vector<std::string> trace;
    TaskLog log;
    ::setenv("JAILCTL_FAIL_AT", "b", 1);
    ::unsetenv("JAILCTL_TEST_MODE");
    EXPECT_TRUE(run_task({step("a", trace), step("b", trace)}, log, nullptr).ok);
    ::setenv("JAILCTL_TEST_MODE", "1", 1);
    trace.clear();
    auto outcome = run_task({step("a", trace), step("b", trace)}, log, nullptr);
    ::unsetenv("JAILCTL_FAIL_AT");
    ::unsetenv("JAILCTL_TEST_MODE");
    EXPECT_FALSE(outcome.ok);
    EXPECT_EQ(outcome.failed_step, "b");
    // The injected failure happens before the step runs; its undo still runs (idempotent).
    EXPECT_EQ(trace, (std::vector<std::string>{"apply a", "undo b", "undo a"}));
}

TEST(Log, LineFormatIsRfc3339UtcWithMilliseconds) {
    auto t = std::chrono::system_clock::time_point(std::chrono::milliseconds(1795688100123));  // 2026-11-26T10:15:00.123Z
    EXPECT_EQ(format_log_line(t, "INFO", "mount", "attached /dev/loop3"),
              "2026-11-26T10:15:00.123Z INFO  [mount] attached /dev/loop3");
    EXPECT_EQ(format_log_line(t, "ERROR", "", "a\nb"), "2026-11-26T10:15:00.123Z ERROR [task] a b");
    EXPECT_EQ(file_stamp_utc(t), "20261126T101500Z");
    EXPECT_EQ(rfc3339_utc(std::chrono::system_clock::time_point(std::chrono::milliseconds(5))),
              "1970-01-01T00:00:00.005Z");
}

TEST(Log, FileNameAndEveryLineTimestamped) {
    auto dir = std::filesystem::temp_directory_path() / ("jailctl-log-test-" + std::to_string(getpid()));
    {
        auto log = TaskLog::open(dir.string(), "example.com", "create");
        ASSERT_TRUE(log) << log.error().message;
        EXPECT_TRUE(std::regex_match(log->path(), std::regex(".*/example.com/[0-9]{8}T[0-9]{6}Z-create\\.log")))
            << log->path();
        log->info("disk", "one");
        log->error("disk", "two");
        auto second = TaskLog::open(dir.string(), "example.com", "create");  // same second: distinct file
        ASSERT_TRUE(second);
        EXPECT_NE(second->path(), log->path());
        std::ifstream in(log->path());
        std::string line;
        int lines = 0;
        while (std::getline(in, line)) {
            ++lines;
            EXPECT_TRUE(std::regex_search(line, std::regex("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z ")));
        }
        EXPECT_EQ(lines, 2);
    }
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace jailctl
