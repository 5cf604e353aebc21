#include "init/supervisor.h"

#include <gtest/gtest.h>

#include <csignal>

#include "init/backoff.h"

namespace jailctl::init {
namespace {

TEST(Backoff, DoublesFrom100msUpTo30s) {
    const int64_t want[] = {100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 30000, 30000};
    for (int n = 1; n <= 11; ++n) EXPECT_EQ(backoff_delay_ms(n), want[n - 1]) << n;
    EXPECT_EQ(backoff_delay_ms(0), 100);
    EXPECT_EQ(backoff_delay_ms(1'000'000), 30000);
}

TEST(Backoff, ResetsAfterSixtySecondsUp) {
    EXPECT_EQ(next_failure_count(0, 0), 1);
    EXPECT_EQ(next_failure_count(5, 59'999), 6);
    EXPECT_EQ(next_failure_count(5, 60'000), 1);
    EXPECT_EQ(next_failure_count(1'000'000, 0), 1'000'000);
}

ServiceSpec spec(const char* name) { return {name, SIGTERM, {"/bin/true"}, 1}; }

// Drives a Supervisor with a fake clock, as the event loop does with the real one.
struct FakeInit {
    Supervisor sup{{spec("web"), spec("ftp")}};
    int64_t now_ms = 1'000'000;
    pid_t next_pid = 100;

    Now now() const { return {now_ms, 1'700'000'000 + now_ms / 1000}; }
    // Starts whatever is due; returns how many were started.
    std::size_t tick() {
        auto due = sup.due(now_ms);
        for (auto i : due) sup.on_started(i, next_pid++, now());
        return due.size();
    }
    const Service& web() const { return sup.services()[0]; }
};

TEST(Supervisor, StartsEverythingAtOnce) {
    FakeInit f;
    EXPECT_EQ(f.sup.next_wakeup_ms(), 0);  // due immediately
    EXPECT_EQ(f.tick(), 2u);
    EXPECT_EQ(f.web().state, ServiceState::Running);
    EXPECT_EQ(f.web().pid, 100);
    EXPECT_EQ(f.web().restarts, 0);
    EXPECT_EQ(f.web().started_unix, 1'700'001'000);
    EXPECT_FALSE(f.sup.next_wakeup_ms());  // nothing to wait for: idle
}

TEST(Supervisor, CrashLoopBacksOffExponentially) {
    FakeInit f;
    f.tick();
    const int64_t want[] = {100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 30000, 30000, 30000};
    for (int64_t delay : want) {
        f.now_ms += 5;  // crashes right after starting
        ASSERT_EQ(f.sup.on_exit(f.web().pid, f.now_ms), 0u);
        EXPECT_EQ(f.web().state, ServiceState::Backoff);
        EXPECT_EQ(f.web().pid, 0);
        EXPECT_EQ(f.sup.next_wakeup_ms(), f.now_ms + delay);
        f.now_ms += delay - 1;
        EXPECT_EQ(f.tick(), 0u) << "restarted before its delay";
        f.now_ms += 1;
        EXPECT_EQ(f.tick(), 1u);
    }
    EXPECT_EQ(f.web().restarts, 12);
}

TEST(Supervisor, BackoffResetsAfterSixtySecondsUp) {
    FakeInit f;
    f.tick();
    for (int i = 0; i < 4; ++i) {  // 100 200 400 800
        f.sup.on_exit(f.web().pid, f.now_ms);
        f.now_ms = *f.sup.next_wakeup_ms();
        f.tick();
    }
    f.now_ms += 59'999;
    f.sup.on_exit(f.web().pid, f.now_ms);
    EXPECT_EQ(*f.sup.next_wakeup_ms() - f.now_ms, 1600);  // not up long enough
    f.now_ms = *f.sup.next_wakeup_ms();
    f.tick();
    f.now_ms += 60'000;
    f.sup.on_exit(f.web().pid, f.now_ms);
    EXPECT_EQ(*f.sup.next_wakeup_ms() - f.now_ms, 100);  // healthy run: back to the start
    EXPECT_EQ(f.web().restarts, 5);                      // the count itself never resets
}

TEST(Supervisor, ForkFailureIsRetriedWithBackoff) {
    FakeInit f;
    f.sup.on_start_failed(0, f.now_ms);
    f.sup.on_start_failed(0, f.now_ms);
    EXPECT_EQ(f.web().state, ServiceState::Backoff);
    EXPECT_EQ(f.web().restart_at_ms, f.now_ms + 200);
    f.now_ms += 200;
    f.tick();
    EXPECT_EQ(f.web().restarts, 0);  // a fork that failed was no start
}

TEST(Supervisor, OrphansAreNotServices) {
    FakeInit f;
    f.tick();
    auto generation = f.sup.generation();
    EXPECT_FALSE(f.sup.on_exit(4242, f.now_ms));
    EXPECT_EQ(f.sup.generation(), generation);  // nothing to write
}

TEST(Supervisor, StopSignalsRunningAndCancelsRestarts) {
    FakeInit f;
    f.tick();
    f.sup.on_exit(f.web().pid, f.now_ms);  // web waits in backoff
    auto to_signal = f.sup.begin_stop(f.now_ms, 5000);
    EXPECT_EQ(to_signal, std::vector<std::size_t>{1});
    EXPECT_EQ(f.web().state, ServiceState::Stopped);
    EXPECT_TRUE(f.sup.begin_stop(f.now_ms, 5000).empty());  // idempotent
    EXPECT_EQ(f.sup.next_wakeup_ms(), f.now_ms + 5000);     // the end of the grace period
    f.now_ms += 10'000;
    EXPECT_TRUE(f.sup.due(f.now_ms).empty());
    EXPECT_TRUE(f.sup.grace_over(f.now_ms));
    EXPECT_FALSE(f.sup.none_running());
    ASSERT_EQ(f.sup.on_exit(101, f.now_ms), 1u);
    EXPECT_EQ(f.sup.services()[1].state, ServiceState::Stopped);
    EXPECT_TRUE(f.sup.none_running());
}

TEST(Supervisor, GenerationChangesOnVisibleChanges) {
    FakeInit f;
    auto g0 = f.sup.generation();
    f.tick();
    auto g1 = f.sup.generation();
    EXPECT_NE(g1, g0);
    f.sup.on_exit(100, f.now_ms);
    EXPECT_NE(f.sup.generation(), g1);
}

TEST(Supervisor, StateNames) {
    EXPECT_EQ(state_name(ServiceState::Running), "running");
    EXPECT_EQ(state_name(ServiceState::Backoff), "backoff");
    EXPECT_EQ(state_name(ServiceState::Stopped), "stopped");
}

ServiceSpec activated(int64_t idle_stop_ms) {
    ServiceSpec s = spec("php");
    s.socket = SocketSpec{.path = "/run/php.sock", .idle_stop_ms = idle_stop_ms};
    return s;
}

TEST(Supervisor, SocketActivatedServiceWaitsForItsFirstConnection) {
    Supervisor sup({activated(60'000), spec("web")});
    const int64_t t = 1000;
    EXPECT_EQ(sup.services()[0].state, ServiceState::Waiting);
    EXPECT_EQ(state_name(ServiceState::Waiting), "waiting");
    EXPECT_EQ(sup.due(t), (std::vector<std::size_t>{1}));  // only the ordinary one
    EXPECT_TRUE(sup.accepts_connection(0, t));
    EXPECT_FALSE(sup.accepts_connection(1, t));
    sup.on_started(1, 50, {t, 0});
    EXPECT_FALSE(sup.next_wakeup_ms(t));  // nothing timed: the socket wakes the loop
    const auto gen = sup.generation();
    sup.on_connection(0, t + 5);
    EXPECT_GT(sup.generation(), gen);
    EXPECT_EQ(sup.due(t + 5), (std::vector<std::size_t>{0}));
    sup.on_started(0, 60, {t + 5, 0});
    EXPECT_EQ(sup.services()[0].state, ServiceState::Running);
    EXPECT_FALSE(sup.accepts_connection(0, t + 5));
    sup.on_connection(0, t + 6);  // a running service is not started twice
    EXPECT_TRUE(sup.due(t + 6).empty());
}

TEST(Supervisor, IdleStopThenWaitAgainWithoutBackoff) {
    Supervisor sup({activated(60'000)});
    int64_t t = 1000;
    sup.on_connection(0, t);
    sup.on_started(0, 60, {t, 0});
    EXPECT_TRUE(sup.watches_idleness());
    EXPECT_TRUE(sup.idle_due(t + 59'999).empty());
    sup.on_busy(0, t + 30'000);  // a worker seen: idle time starts again
    EXPECT_TRUE(sup.idle_due(t + 60'000).empty());
    EXPECT_EQ(sup.idle_due(t + 90'000), (std::vector<std::size_t>{0}));
    sup.on_idle_stop(0);
    EXPECT_TRUE(sup.idle_due(t + 91'000).empty());  // told once
    EXPECT_FALSE(sup.watches_idleness());
    t += 91'000;
    ASSERT_EQ(sup.on_exit(60, t), 0u);
    EXPECT_EQ(sup.services()[0].state, ServiceState::Waiting);
    EXPECT_EQ(sup.services()[0].failures, 0);
    EXPECT_TRUE(sup.accepts_connection(0, t));  // at once: an idle stop is no failure
    sup.on_connection(0, t + 1);
    sup.on_started(0, 61, {t + 1, 0});
    EXPECT_EQ(sup.services()[0].restarts, 0);  // the next visitor of an idle site is no restart
    EXPECT_FALSE(sup.services()[0].idle_stopping);
    t += 100;
    ASSERT_EQ(sup.on_exit(61, t), 0u);  // a crash is a failure...
    EXPECT_EQ(sup.services()[0].failures, 1);
    sup.on_connection(0, t + 100);
    sup.on_started(0, 62, {t + 100, 0});
    EXPECT_EQ(sup.services()[0].restarts, 1);  // ...and its next start a restart
}

TEST(Supervisor, CrashedActivatedServiceWaitsOutItsBackoff) {
    Supervisor sup({activated(0)});
    int64_t t = 1000;
    EXPECT_FALSE(sup.watches_idleness());  // no --idle-stop
    for (int64_t delay : {100, 200, 400}) {
        sup.on_connection(0, t);
        sup.on_started(0, 70, {t, 0});
        t += 5;
        ASSERT_EQ(sup.on_exit(70, t), 0u);
        EXPECT_EQ(sup.services()[0].state, ServiceState::Waiting);
        EXPECT_FALSE(sup.accepts_connection(0, t + delay - 1));  // the socket is not watched meanwhile
        EXPECT_EQ(sup.next_wakeup_ms(t), t + delay);
        EXPECT_FALSE(sup.next_wakeup_ms(t + delay));  // over: the socket wakes the loop again
        t += delay;
        EXPECT_TRUE(sup.accepts_connection(0, t));
    }
}

TEST(Supervisor, WithoutItsSocketAnActivatedServiceIsAnOrdinaryOne) {
    Supervisor sup({activated(60'000)});
    sup.run_without_socket(0);
    EXPECT_EQ(sup.due(1000), (std::vector<std::size_t>{0}));
    sup.on_started(0, 90, {1000, 0});
    EXPECT_FALSE(sup.watches_idleness());
    ASSERT_EQ(sup.on_exit(90, 1005), 0u);
    EXPECT_EQ(sup.services()[0].state, ServiceState::Backoff);  // restarted after its delay, not on demand
    EXPECT_EQ(sup.next_wakeup_ms(1005), 1105);
}

TEST(Supervisor, StopMarksWaitingServicesStopped) {
    Supervisor sup({activated(60'000), activated(0)});
    sup.on_connection(1, 1000);
    sup.on_started(1, 80, {1000, 0});
    EXPECT_EQ(sup.begin_stop(2000, 5000), (std::vector<std::size_t>{1}));
    EXPECT_EQ(sup.services()[0].state, ServiceState::Stopped);
    EXPECT_FALSE(sup.accepts_connection(0, 2000));
    sup.on_exit(80, 2001);
    EXPECT_EQ(sup.services()[1].state, ServiceState::Stopped);
    EXPECT_TRUE(sup.none_running());
}

}  // namespace
}  // namespace jailctl::init
