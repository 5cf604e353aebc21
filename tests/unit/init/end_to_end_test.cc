// Runs the built jailctl-init binary (next to this test binary) as a child process with
// sleep- and sh-based services. Only processes started here are signalled, by pid.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "init/process.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::string read_file(const fs::path& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

struct ServiceState {
    pid_t pid = 0;
    std::string state;
    int restarts = 0;
    long long started = 0;
};

// The value after `"key":` in `object` (a string without its quotes, or a number).
std::string field(const std::string& object, const std::string& key) {
    auto at = object.find("\"" + key + "\":");
    if (at == std::string::npos) return "";
    at += key.size() + 3;
    if (object[at] == '"') return object.substr(at + 1, object.find('"', at + 1) - at - 1);
    return object.substr(at, object.find_first_of(",}", at) - at);
}

// The state file's services by name (names in these tests need no escaping).
std::map<std::string, ServiceState> parse_state(const std::string& json) {
    std::map<std::string, ServiceState> out;
    for (auto open = json.find("{\"name\""); open != std::string::npos;
         open = json.find("{\"name\"", open + 1)) {
        auto object = json.substr(open, json.find('}', open) - open + 1);
        out[field(object, "name")] = {std::stoi(field(object, "pid")), field(object, "state"),
                                      std::stoi(field(object, "restarts")),
                                      std::stoll(field(object, "started"))};
    }
    return out;
}

bool process_exists(pid_t pid) { return ::kill(pid, 0) == 0 || errno != ESRCH; }

// Live and zombie children, from /proc (the init's own scan: /proc/PID/task/TID/children is
// not on every kernel, and where it is missing a check built on it could never fail).
std::vector<pid_t> children_of(pid_t pid) { return jailctl::init::children_of(pid).value_or(std::vector<pid_t>{}); }

char process_state(pid_t pid) {  // 'R', 'S', 'Z'...; 0 if gone
    auto stat = read_file("/proc/" + std::to_string(pid) + "/stat");
    auto paren = stat.rfind(')');
    return paren == std::string::npos || paren + 2 >= stat.size() ? 0 : stat[paren + 2];
}

// Polls `done` every 10 ms until it is true or `timeout` has passed.
template <class F>
bool wait_until(F done, milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    while (!done()) {
        if (Clock::now() >= deadline) return false;
        std::this_thread::sleep_for(milliseconds(10));
    }
    return true;
}

class InitProcess : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("jailctl_init_e2e." + std::to_string(::getpid()) + "." +
                                            ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
        binary_ = fs::read_symlink("/proc/self/exe").parent_path() / "jailctl-init";
        ASSERT_TRUE(fs::exists(binary_)) << binary_ << " missing: build the jailctl-init target";
    }

    void TearDown() override {
        if (pid_ > 0) {  // a failed test: stop our init, which stops its services; SIGKILL if it hangs
            ::kill(pid_, SIGTERM);
            if (!wait_exit(milliseconds(5000))) {
                ::kill(pid_, SIGKILL);
                ::waitpid(pid_, nullptr, 0);
            }
        }
        if (!HasFailure())
            fs::remove_all(dir_);
        else
            std::cerr << "kept " << dir_ << " (init log: " << log_path() << ")\n";
    }

    fs::path state_path() const { return dir_ / "run/jailctl/init.json"; }
    fs::path log_path() const { return dir_ / "init.log"; }
    std::map<std::string, ServiceState> state() const { return parse_state(read_file(state_path())); }

    // Starts jailctl-init with this service list; an fd without O_CLOEXEC is open in it, to
    // check that services do not inherit it.
    void start(const std::string& services, int grace_ms) {
        auto list = dir_ / "services";
        std::ofstream(list) << services;
        int leaked = ::open(list.c_str(), O_RDONLY);  // deliberately inheritable
        ASSERT_GE(leaked, 3);
        std::string state_env = "JAILCTL_INIT_STATE=" + state_path().string();
        std::string grace_env = "JAILCTL_INIT_GRACE_MS=" + std::to_string(grace_ms);
        std::string binary = binary_.string(), list_arg = list.string(), log = log_path().string();
        started_ = Clock::now();
        pid_ = ::fork();
        ASSERT_GE(pid_, 0);
        if (pid_ == 0) {
            int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (log_fd < 0 || ::dup2(log_fd, 2) < 0) ::_exit(126);
            const char* argv[] = {binary.c_str(), list_arg.c_str(), nullptr};
            const char* envp[] = {state_env.c_str(), grace_env.c_str(), nullptr};
            ::execve(argv[0], const_cast<char* const*>(argv), const_cast<char* const*>(envp));
            ::_exit(127);
        }
        ::close(leaked);
    }

    // Waits for our init to exit; the exit status, or nullopt on timeout.
    std::optional<int> wait_exit(milliseconds timeout) {
        int status = 0;
        bool exited = wait_until([&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; }, timeout);
        if (!exited) return std::nullopt;
        pid_ = 0;
        return status;
    }

    milliseconds elapsed() const { return std::chrono::duration_cast<milliseconds>(Clock::now() - started_); }

    fs::path dir_, binary_;
    pid_t pid_ = 0;
    Clock::time_point started_;
};

TEST_F(InitProcess, RestartsWithBackoffReapsOrphansAndStopsOnSigterm) {
    start(
        "sleeper TERM /bin/sleep 1000\n"
        "crasher TERM /bin/sh -c 'exit 1'\n"
        "leaver TERM /bin/sh -c 'sleep 1000 & echo $! >> " +
            (dir_ / "left").string() +
            "; exit 3'\n"
            "orphaner TERM /bin/sh -c '(sleep 0.2 &); exec sleep 1000'\n",
        3000);

    // Restarts 1, 2, 3 come after 100 + 200 + 400 ms of backoff, the 4th 800 ms later.
    ASSERT_TRUE(wait_until([&] { return state()["crasher"].restarts >= 3; }, milliseconds(5000)))
        << read_file(state_path());
    EXPECT_GE(elapsed(), milliseconds(700));
    EXPECT_EQ(state()["crasher"].restarts, 3);
    ASSERT_TRUE(wait_until([&] { return state()["crasher"].restarts >= 4; }, milliseconds(3000)));
    EXPECT_GE(elapsed(), milliseconds(1500));
    EXPECT_LE(state()["crasher"].restarts, 5);

    auto s = state();
    ASSERT_EQ(s.size(), 4u) << read_file(state_path());
    const ServiceState sleeper = s["sleeper"];
    EXPECT_EQ(sleeper.state, "running");
    EXPECT_EQ(sleeper.restarts, 0);
    EXPECT_GT(sleeper.started, 1'600'000'000);
    ASSERT_GT(sleeper.pid, 0);
    EXPECT_NE(s["crasher"].state, "stopped");

    // The service's process: own session, stdin /dev/null, only fds 0-2, minimal environment.
    auto proc = "/proc/" + std::to_string(sleeper.pid);
    EXPECT_EQ(::getsid(sleeper.pid), sleeper.pid);
    std::set<std::string> fds;
    for (const auto& e : fs::directory_iterator(proc + "/fd")) fds.insert(e.path().filename().string());
    EXPECT_EQ(fds, (std::set<std::string>{"0", "1", "2"}));
    EXPECT_EQ(fs::read_symlink(proc + "/fd/0"), "/dev/null");
    EXPECT_EQ(read_file(proc + "/environ"),
              std::string("PATH=/usr/sbin:/usr/bin:/sbin:/bin\0LANG=C.UTF-8\0", 48));

    // What a crashed service left in its process group is killed with it.
    std::istringstream left(read_file(dir_ / "left"));
    std::vector<pid_t> left_pids;
    for (pid_t p; left >> p;) left_pids.push_back(p);
    EXPECT_GE(left_pids.size(), 2u);
    for (pid_t p : left_pids)
        EXPECT_TRUE(wait_until([&] { return !process_exists(p); }, milliseconds(1000))) << "leftover " << p;

    // Orphans re-parented to the init are reaped: no zombie child stays.
    EXPECT_TRUE(wait_until(
        [&] {
            for (pid_t child : children_of(pid_)) {
                if (process_state(child) == 'Z') return false;
            }
            return true;
        },
        milliseconds(2000)));

    // SIGTERM: everything stops on its stop signal, well within the 3 s grace period.
    auto before_stop = Clock::now();
    ASSERT_EQ(::kill(pid_, SIGTERM), 0);
    auto status = wait_exit(milliseconds(2500));
    ASSERT_TRUE(status) << "init did not exit";
    EXPECT_LT(Clock::now() - before_stop, milliseconds(1500));
    EXPECT_TRUE(WIFEXITED(*status));
    EXPECT_EQ(WEXITSTATUS(*status), 0);
    EXPECT_FALSE(process_exists(sleeper.pid));
    for (const auto& [name, service] : state()) {
        EXPECT_EQ(service.state, "stopped") << name;
        EXPECT_EQ(service.pid, 0) << name;
    }
    auto log = read_file(log_path());
    EXPECT_NE(log.find("crasher: pid"), std::string::npos) << log;
    EXPECT_NE(log.find("exited with status 1; restart in 100 ms"), std::string::npos) << log;
    EXPECT_NE(log.find("exited with status 1; restart in 400 ms"), std::string::npos) << log;
    EXPECT_NE(log.find("jailctl-init: stopped"), std::string::npos) << log;
}

TEST_F(InitProcess, ServiceIgnoringItsStopSignalIsKilledAfterGrace) {
    start("stubborn TERM /bin/sh -c 'trap \"\" TERM; sleep 1000'\n", 300);
    ASSERT_TRUE(wait_until([&] { return state()["stubborn"].state == "running"; }, milliseconds(3000)));
    pid_t sh = state()["stubborn"].pid;
    // dash may fork sleep or exec it; find its process either way.
    std::vector<pid_t> group{sh};
    wait_until(
        [&] {
            return !children_of(sh).empty() ||
                   read_file("/proc/" + std::to_string(sh) + "/comm") == "sleep\n";
        },
        milliseconds(2000));
    for (pid_t child : children_of(sh)) group.push_back(child);

    auto before_stop = Clock::now();
    ASSERT_EQ(::kill(pid_, SIGTERM), 0);
    auto status = wait_exit(milliseconds(3000));
    ASSERT_TRUE(status) << "init did not exit";
    auto took = Clock::now() - before_stop;
    EXPECT_GE(took, milliseconds(300));
    EXPECT_LT(took, milliseconds(2000));
    EXPECT_TRUE(WIFEXITED(*status));
    EXPECT_EQ(WEXITSTATUS(*status), 0);
    for (pid_t p : group) EXPECT_FALSE(process_exists(p)) << p;
    EXPECT_EQ(state()["stubborn"].state, "stopped");
    auto log = read_file(log_path());
    EXPECT_NE(log.find("stubborn: still running after the 300 ms grace period; SIGKILL"), std::string::npos)
        << log;
}

TEST_F(InitProcess, MalformedServiceListExits1WithoutStartingAnything) {
    start("# ok\nweb TERM nginx -g 'daemon off;'\n", 100);
    auto status = wait_exit(milliseconds(3000));
    ASSERT_TRUE(status);
    EXPECT_TRUE(WIFEXITED(*status));
    EXPECT_EQ(WEXITSTATUS(*status), 1);
    auto log = read_file(log_path());
    EXPECT_NE(log.find((dir_ / "services").string() + ":2: program 'nginx' is not an absolute path"),
              std::string::npos)
        << log;
    EXPECT_FALSE(fs::exists(state_path()));
}

TEST_F(InitProcess, EmptyListJustWaitsForTheStopSignal) {
    start("# no services\n", 100);
    ASSERT_TRUE(wait_until([&] { return fs::exists(state_path()); }, milliseconds(3000)));
    EXPECT_EQ(read_file(state_path()), "{\"services\":[]}\n");
    ASSERT_EQ(::kill(pid_, SIGINT), 0);
    auto status = wait_exit(milliseconds(2000));
    ASSERT_TRUE(status);
    EXPECT_EQ(WEXITSTATUS(*status), 0);
}

// Connects to the unix socket and reads until the peer closes; "" if it cannot connect.
std::string ask(const fs::path& path) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    std::string out;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
        char buf[256];
        for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return out;
}

// --socket: the init holds the socket, starts the service on the first connection with the
// socket as fd 3, and after --idle-stop without a child stops it; the next connection starts
// it again, and a connection made while it was stopped is not lost.
TEST_F(InitProcess, SocketActivatedServiceStartsOnDemandAndStopsWhenIdle) {
    const fs::path sock = dir_ / "svc.sock", script = dir_ / "svc.py";
    // Answers each connection with what it was given, then leaves a "worker" for 1.5 s; on its
    // stop signal removes the file of its socket's name, as php-fpm does.
    std::ofstream(script) << "import os, signal, socket, sys, time\n"
                             "signal.signal(signal.SIGCHLD, signal.SIG_IGN)\n"
                             "def stop(*_):\n"
                             "    try:\n"
                             "        os.unlink(os.environ['LISTEN_FDNAMES'])\n"
                             "    except OSError:\n"
                             "        pass\n"
                             "    sys.exit(0)\n"
                             "signal.signal(signal.SIGTERM, stop)\n"
                             "def is_open(fd):\n"
                             "    try:\n"
                             "        return os.fstat(fd) is not None\n"
                             "    except OSError:\n"
                             "        return False\n"
                             "fds = [fd for fd in range(16) if is_open(fd)]\n"
                             "s = socket.socket(fileno=3)\n"
                             "while True:\n"
                             "    c, _ = s.accept()\n"
                             "    e = os.environ\n"
                             "    c.sendall(f\"{e['FPM_SOCKETS']} {e['LISTEN_FDS']} {e['LISTEN_PID'] == str(os.getpid())} "
                             "{fds}\".encode())\n"
                             "    c.close()\n"
                             "    if os.fork() == 0:\n"
                             "        time.sleep(1.5)\n"
                             "        os._exit(0)\n";
    const fs::path name = dir_ / "pool.sock";  // a name that is not the held path
    std::ofstream(name) << "the service removes its name's file";
    start("svc TERM --socket=" + sock.string() + " --socket-name=" + name.string() +
              " --socket-mode=0640 --idle-stop=2 /usr/bin/python3 " +
              script.string() + "\n",
          2000);
    ASSERT_TRUE(wait_until([&] { return state()["svc"].state == "waiting"; }, milliseconds(3000)))
        << read_file(state_path());
    struct stat st{};
    ASSERT_EQ(::lstat(sock.c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 07777, 0640u);
    EXPECT_EQ(state()["svc"].pid, 0);

    // The first connection waits in the backlog while the service starts.
    const std::string want = name.string() + "=3 1 True [0, 1, 2, 3]";
    EXPECT_EQ(ask(sock), want);
    const auto answered = Clock::now();
    auto s = state()["svc"];
    EXPECT_EQ(s.state, "running");
    EXPECT_EQ(s.restarts, 0);
    // Its worker keeps it busy: not stopped 1.2 s later, then stopped within 2-3 s of the
    // worker's end (--idle-stop 2 s, checks a second apart).
    std::this_thread::sleep_for(milliseconds(1200));
    EXPECT_EQ(state()["svc"].state, "running");
    ASSERT_TRUE(wait_until([&] { return state()["svc"].state == "waiting"; }, milliseconds(8000)))
        << read_file(log_path());
    // Not before its worker left and the idle time passed (checks a second apart).
    EXPECT_GE(Clock::now() - answered, milliseconds(2500));
    EXPECT_FALSE(process_exists(s.pid));
    EXPECT_FALSE(fs::exists(name)) << "the service did not get its stop signal";
    EXPECT_TRUE(fs::exists(sock));

    // Started again by the next connection: an idle stop is no failure (no backoff, no restart).
    EXPECT_EQ(ask(sock), want);
    EXPECT_EQ(state()["svc"].state, "running");
    EXPECT_EQ(state()["svc"].restarts, 0);
    auto log = read_file(log_path());
    EXPECT_NE(log.find("svc: started on demand, pid"), std::string::npos) << log;
    EXPECT_NE(log.find("svc: idle for 2 s; stopping it (SIGTERM), the next connection starts it again"),
              std::string::npos)
        << log;

    ASSERT_EQ(::kill(pid_, SIGTERM), 0);
    auto status = wait_exit(milliseconds(3000));
    ASSERT_TRUE(status);
    EXPECT_EQ(WEXITSTATUS(*status), 0);
    EXPECT_EQ(state()["svc"].state, "stopped");
}

// A socket path taken by something else: said once, and the service runs as an ordinary one.
TEST_F(InitProcess, SocketThatCannotBeMadeFallsBackToAnOrdinaryStart) {
    const fs::path taken = dir_ / "taken";
    std::ofstream(taken) << "not a socket";
    start("svc TERM --socket=" + taken.string() + " --idle-stop=1 /bin/sleep 1000\n", 1000);
    ASSERT_TRUE(wait_until([&] { return state()["svc"].state == "running"; }, milliseconds(3000)))
        << read_file(log_path());
    EXPECT_EQ(read_file(taken), "not a socket");
    auto log = read_file(log_path());
    EXPECT_NE(log.find("svc: listening socket " + taken.string() +
                       ": the path exists and is not a socket; starting it now instead of on demand"),
              std::string::npos)
        << log;
    std::this_thread::sleep_for(milliseconds(2500));  // no idle stop without its socket
    EXPECT_EQ(state()["svc"].restarts, 0);
    EXPECT_EQ(state()["svc"].state, "running");
}

}  // namespace

