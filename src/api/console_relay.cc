#include "api/console_relay.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace jailctl::api {

using Clock = std::chrono::steady_clock;

struct ConsoleRelay::Session {
    Fd master;
    std::string token;
    Clock::time_point last_used = Clock::now();
    std::mutex reading;  // one output poll at a time
};

Result<Pty> open_pty(unsigned rows, unsigned cols) {
    Fd master(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK));
    char name[64];
    if (!master.valid() || ::grantpt(master.get()) != 0 || ::unlockpt(master.get()) != 0 ||
        ::ptsname_r(master.get(), name, sizeof name) != 0)
        return fail(std::string("console: a pty: ") + std::strerror(errno));
    Fd terminal(::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!terminal.valid()) return fail(std::string("console: open ") + name + ": " + std::strerror(errno));
    winsize size{};
    size.ws_row = static_cast<unsigned short>(rows);
    size.ws_col = static_cast<unsigned short>(cols);
    ::ioctl(master.get(), TIOCSWINSZ, &size);
    return Pty{std::move(master), std::move(terminal)};
}

ConsoleRelay::ConsoleRelay(std::function<void(const std::string&)> kill_task, std::chrono::milliseconds idle_limit)
    : kill_task_(std::move(kill_task)), idle_limit_(idle_limit) {
    reaper_ = std::thread([this] {
        std::unique_lock lock(mu_);
        while (!stopping_) {
            cv_.wait_for(lock, std::min<std::chrono::milliseconds>(std::chrono::seconds(5), idle_limit_ / 4));
            std::vector<std::string> idle;
            for (const auto& [id, s] : sessions_)
                if (Clock::now() - s->last_used > idle_limit_) idle.push_back(id);
            lock.unlock();
            for (const auto& id : idle) end(id);
            lock.lock();
        }
    });
}

ConsoleRelay::~ConsoleRelay() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    reaper_.join();
}

void ConsoleRelay::add(const std::string& id, Fd master, const std::string& token) {
    auto s = std::make_shared<Session>();
    s->master = std::move(master);
    s->token = token;
    std::lock_guard lock(mu_);
    sessions_[id] = std::move(s);
}

std::shared_ptr<ConsoleRelay::Session> ConsoleRelay::use(const std::string& id, const std::string& token, Answer& refusal) {
    std::lock_guard lock(mu_);
    auto it = sessions_.find(id);
    if (it == sessions_.end() || it->second->token != token) {  // another token's console is not shown to exist
        refusal = {404, "no console " + id + " of this token (it ended, or was hung up after " +
                            std::to_string(idle_limit_.count() / 1000) + " s without a request)"};
        return nullptr;
    }
    it->second->last_used = Clock::now();
    return it->second;
}

void ConsoleRelay::end(const std::string& id) {
    {
        std::lock_guard lock(mu_);
        if (sessions_.erase(id) == 0) return;
    }
    kill_task_(id);  // the terminal's other side goes with its task; a reader sees the end
}

ConsoleRelay::Answer ConsoleRelay::output(const std::string& id, const std::string& token, std::chrono::milliseconds wait) {
    Answer answer;
    auto s = use(id, token, answer);
    if (!s) return answer;
    std::unique_lock reading(s->reading, std::try_to_lock);
    if (!reading.owns_lock()) return {409, "console " + id + " already has a reader"};
    pollfd p{s->master.get(), POLLIN, 0};
    int n = ::poll(&p, 1, static_cast<int>(wait.count()));
    s->last_used = Clock::now();
    if (n == 0) return {204, ""};
    std::string bytes(64 * 1024, '\0');
    ssize_t got = ::read(s->master.get(), bytes.data(), bytes.size());
    if (got > 0) {
        bytes.resize(static_cast<size_t>(got));
        return {200, std::move(bytes)};
    }
    if (got < 0 && (errno == EAGAIN || errno == EINTR)) return {204, ""};
    end(id);  // EIO: every holder of the terminal is gone, i.e. the console's task ended
    return {410, "the console ended (its exit status: GET /api/v1/tasks/" + id + ")"};
}

ConsoleRelay::Answer ConsoleRelay::input(const std::string& id, const std::string& token, const std::string& bytes) {
    Answer answer;
    auto s = use(id, token, answer);
    if (!s) return answer;
    size_t done = 0;
    while (done < bytes.size()) {
        ssize_t n = ::write(s->master.get(), bytes.data() + done, bytes.size() - done);
        if (n > 0) {
            done += static_cast<size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) {  // the terminal's input queue is full: the shell is not reading
            pollfd p{s->master.get(), POLLOUT, 0};
            if (::poll(&p, 1, 10000) > 0) continue;
            return {503, "console " + id + ": the terminal took no input for 10 s (" + std::to_string(done) + " of " +
                             std::to_string(bytes.size()) + " bytes written)"};
        }
        return {410, "the console ended"};
    }
    return {204, ""};
}

ConsoleRelay::Answer ConsoleRelay::resize(const std::string& id, const std::string& token, unsigned rows, unsigned cols) {
    Answer answer;
    auto s = use(id, token, answer);
    if (!s) return answer;
    winsize size{};
    size.ws_row = static_cast<unsigned short>(rows);
    size.ws_col = static_cast<unsigned short>(cols);
    if (::ioctl(s->master.get(), TIOCSWINSZ, &size) != 0) return {410, "the console ended"};
    return {204, ""};
}

ConsoleRelay::Answer ConsoleRelay::hang_up(const std::string& id, const std::string& token) {
    Answer answer;
    if (!use(id, token, answer)) return answer;
    end(id);
    return {204, ""};
}

void ConsoleRelay::hang_up_all() {
    std::vector<std::string> ids;
    {
        std::lock_guard lock(mu_);
        for (const auto& [id, s] : sessions_) ids.push_back(id);
    }
    for (const auto& id : ids) end(id);
}

}  // namespace jailctl::api
