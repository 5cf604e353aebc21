// The relay of a console's terminal (api/console_relay.h): a real pty, the task a callback.
#include "api/console_relay.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <thread>

namespace jailctl::api {
namespace {

using namespace std::chrono_literals;

struct Relay {
    std::vector<std::string> killed;
    std::mutex mu;
    ConsoleRelay relay{[this](const std::string& id) {
                           std::lock_guard lock(mu);
                           killed.push_back(id);
                       },
                       1000ms};
    std::vector<std::string> kills() {
        std::lock_guard lock(mu);
        return killed;
    }
};

// The terminal side in raw mode: bytes pass as they are (no echo, no line editing).
Fd raw_terminal(Pty& pty) {
    termios t{};
    ::tcgetattr(pty.terminal.get(), &t);
    ::cfmakeraw(&t);
    ::tcsetattr(pty.terminal.get(), TCSANOW, &t);
    return std::move(pty.terminal);
}

std::string read_some(int fd) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 2000) != 1) return "";
    char buf[256];
    ssize_t n = ::read(fd, buf, sizeof buf);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

TEST(ConsoleRelay, OutputInputAndSizeGoThroughForItsTokenOnly) {
    Relay r;
    auto pty = open_pty(33, 101);
    ASSERT_TRUE(pty) << pty.error().message;
    Fd terminal = raw_terminal(*pty);
    winsize ws{};
    ASSERT_EQ(::ioctl(terminal.get(), TIOCGWINSZ, &ws), 0);
    EXPECT_EQ(ws.ws_row, 33);
    EXPECT_EQ(ws.ws_col, 101);
    r.relay.add("7", std::move(pty->master), "adm");

    EXPECT_EQ(r.relay.output("7", "adm", 50ms).status, 204) << "nothing written yet";
    ASSERT_EQ(::write(terminal.get(), "prompt$ ", 8), 8);
    auto out = r.relay.output("7", "adm", 2000ms);
    EXPECT_EQ(out.status, 200);
    EXPECT_EQ(out.body, "prompt$ ");

    EXPECT_EQ(r.relay.input("7", "adm", "ls\r").status, 204);
    EXPECT_EQ(read_some(terminal.get()), "ls\r");
    EXPECT_EQ(r.relay.resize("7", "adm", 40, 120).status, 204);
    ASSERT_EQ(::ioctl(terminal.get(), TIOCGWINSZ, &ws), 0);
    EXPECT_EQ(ws.ws_row, 40);
    EXPECT_EQ(ws.ws_col, 120);

    EXPECT_EQ(r.relay.output("7", "other", 50ms).status, 404) << "another token's console";
    EXPECT_EQ(r.relay.input("7", "other", "x").status, 404);
    EXPECT_EQ(r.relay.input("8", "adm", "x").status, 404) << "no such console";

    terminal.reset();  // the task's side is gone: the console ended
    auto ended = r.relay.output("7", "adm", 2000ms);
    EXPECT_EQ(ended.status, 410) << ended.body;
    EXPECT_EQ(r.kills(), std::vector<std::string>{"7"});
    EXPECT_EQ(r.relay.output("7", "adm", 50ms).status, 404) << "an ended console is forgotten";
}

TEST(ConsoleRelay, OneReaderAtATime) {
    Relay r;
    auto pty = open_pty(24, 80);
    ASSERT_TRUE(pty);
    Fd terminal = raw_terminal(*pty);
    r.relay.add("1", std::move(pty->master), "adm");
    std::thread first([&] { EXPECT_EQ(r.relay.output("1", "adm", 1500ms).status, 204); });
    std::this_thread::sleep_for(300ms);
    EXPECT_EQ(r.relay.output("1", "adm", 50ms).status, 409);
    first.join();
}

TEST(ConsoleRelay, HangUpAndIdleSessionsEndTheirTasks) {
    Relay r;
    auto a = open_pty(24, 80), b = open_pty(24, 80);
    ASSERT_TRUE(a && b);
    r.relay.add("1", std::move(a->master), "adm");
    r.relay.add("2", std::move(b->master), "adm");
    EXPECT_EQ(r.relay.hang_up("1", "other").status, 404);
    EXPECT_EQ(r.relay.hang_up("1", "adm").status, 204);
    EXPECT_EQ(r.kills(), std::vector<std::string>{"1"});
    // "2" is not asked about: past the idle limit (1 s here) it is hung up
    for (int i = 0; i < 40 && r.kills().size() < 2; ++i) std::this_thread::sleep_for(100ms);
    EXPECT_EQ(r.kills(), (std::vector<std::string>{"1", "2"}));
    EXPECT_EQ(r.relay.input("2", "adm", "").status, 404);
}

TEST(ConsoleRelay, ARequestKeepsASessionAlive) {
    Relay r;
    auto pty = open_pty(24, 80);
    ASSERT_TRUE(pty);
    r.relay.add("3", std::move(pty->master), "adm");
    for (int i = 0; i < 8; ++i) {  // 2 s of heartbeats, twice the idle limit
        EXPECT_EQ(r.relay.input("3", "adm", "").status, 204);
        std::this_thread::sleep_for(250ms);
    }
    EXPECT_TRUE(r.kills().empty());
}

}  // namespace
}  // namespace jailctl::api
