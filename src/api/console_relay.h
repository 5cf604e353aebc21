// Consoles relayed over the API (docs/API.md, "Consoles"): POST /api/v1/jails/{d}/console
// runs the task `jailctl console DOMAIN` with a pty of serve's as its controlling terminal;
// this class owns the pty's master side. The client long-polls the terminal's output
// (GET /consoles/{id}/output: what is there, 204 after a quiet spell, 410 once it ended) and
// sends its keys and window size (POST .../input, .../resize). Long polls rather than one
// endless stream: every request ends within seconds, so a dead client or server is noticed
// by the other side's timeouts, and serve's workers are never held for the session's life.
// A session that no request touched for kIdleLimit is hung up (its task killed): an idle
// client sends an empty input every few seconds. Only the token that opened it may use it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "util/fd.h"
#include "util/result.h"

namespace jailctl::api {

inline constexpr std::chrono::seconds kConsoleIdleLimit{30};
inline constexpr std::chrono::seconds kConsolePoll{20};  // an output poll's wait at most

// A new pty: its master (non-blocking, the relay's) and its other side (the task's terminal),
// with the given window size.
struct Pty {
    Fd master, terminal;
};
Result<Pty> open_pty(unsigned rows, unsigned cols);

class ConsoleRelay {
public:
    // `kill_task`: ends a session's task (TaskRunner::kill_task); `idle_limit`: see above.
    explicit ConsoleRelay(std::function<void(const std::string&)> kill_task,
                          std::chrono::milliseconds idle_limit = kConsoleIdleLimit);
    ~ConsoleRelay();

    void add(const std::string& id, Fd master, const std::string& token);

    // An HTTP status and, for 200, the bytes; else a message.
    struct Answer {
        int status = 200;
        std::string body;
    };
    Answer output(const std::string& id, const std::string& token, std::chrono::milliseconds wait);
    Answer input(const std::string& id, const std::string& token, const std::string& bytes);
    Answer resize(const std::string& id, const std::string& token, unsigned rows, unsigned cols);
    Answer hang_up(const std::string& id, const std::string& token);
    void hang_up_all();  // serve stopping: a console is not a task to wait for

private:
    struct Session;
    // The session `id` if `token` opened it (its last use now), else the answer to give.
    std::shared_ptr<Session> use(const std::string& id, const std::string& token, Answer& refusal);
    void end(const std::string& id);

    std::function<void(const std::string&)> kill_task_;
    std::chrono::milliseconds idle_limit_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::map<std::string, std::shared_ptr<Session>> sessions_;
    bool stopping_ = false;
    std::thread reaper_;
};

}  // namespace jailctl::api
