#include "api/tasks.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <future>

#include "cluster/etcd.h"  // base64_encode
#include "task/log.h"

extern char** environ;

namespace jailctl::api {
namespace {

std::string now() { return rfc3339_utc(std::chrono::system_clock::now()); }

nlohmann::json null_or(const std::string& s) { return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s); }

// Reads what is there without blocking; false at end of file or error.
// Appends what `fd` has now; keeps the last `limit` bytes (a runaway child), `dropped` set when
// earlier ones went. false: end of file or an error.
bool read_available(int fd, std::string& into, size_t limit = 16u << 20, bool* dropped = nullptr) {
    char buf[16384];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n > 0) {
            into.append(buf, static_cast<size_t>(n));
            if (into.size() > limit) {
                into.erase(0, into.size() - limit);
                if (dropped) *dropped = true;
            }
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }
}

// The last "KO: <step>: <message>" line of the child's stderr (CLI parse errors print no JSON).
std::pair<std::string, std::string> ko_line(const std::string& err) {
    size_t pos = err.rfind("KO: ");
    if (pos == std::string::npos) return {"", ""};
    std::string line = err.substr(pos + 4);
    line = line.substr(0, line.find('\n'));
    auto colon = line.find(": ");
    if (colon == std::string::npos) return {"", line};
    return {line.substr(0, colon), line.substr(colon + 2)};
}

}  // namespace

struct TaskRunner::Task {
    uint64_t id = 0;
    std::string verb, domain, state = "running", started, ended, log;
    struct StepInfo {
        std::string name, status, start, end;
        int64_t ms = 0;
    };
    std::vector<StepInfo> steps;
    nlohmann::json result, error;
    std::vector<SseEvent> events;
    bool accepted = false, exited = false;
    pid_t pid = -1;  // the child, leader of its process group
    int exit_status = -1;
    std::string out, err;  // the child's stdout and stderr
    size_t output_limit = 0;
    bool output_is_result = false;
    bool truncated = false;  // an output longer than output_limit lost its beginning
    std::string owner;       // the API token that started it (ChildIo::owner)
};

namespace {

// The task object (to_json's) as `reader` may see it.
nlohmann::json for_reader(nlohmann::json task, const std::string& owner, const Reader& reader) {
    if (reader.admin || (!owner.empty() && reader.token == owner)) return task;
    auto& result = task["result"];
    if (!result.is_object()) return task;
    bool hidden = false;
    if (auto ftp = result.find("ftp"); ftp != result.end() && ftp->is_object() && ftp->contains("password"))
        (*ftp)["password"] = nullptr, hidden = true;
    for (const char* output : {"stdout_base64", "stderr_base64"})
        if (result.contains(output)) result[output] = nullptr, hidden = true;
    if (hidden) result["secrets_hidden"] = true;
    return task;
}

}  // namespace

TaskRunner::TaskRunner(std::string program, std::vector<std::string> global_args)
    : program_(std::move(program)), global_args_(std::move(global_args)) {
    std::thread([q = spawner_] {
        for (;;) {
            std::function<void()> job;
            {
                std::unique_lock lock(q->mu);
                q->cv.wait(lock, [&] { return !q->jobs.empty(); });
                job = std::move(q->jobs.front());
                q->jobs.pop_front();
            }
            if (!job) return;
            job();
        }
    }).detach();
}

TaskRunner::~TaskRunner() {
    std::lock_guard lock(spawner_->mu);
    spawner_->jobs.push_back(nullptr);
    spawner_->cv.notify_one();
}

TaskRunner::Spawned TaskRunner::spawn(const std::vector<std::string>& argv, const ChildIo& io) {
    Spawned s;
    int out[2], err[2], ev[2];
    if (::pipe2(out, O_CLOEXEC) != 0) return {.errnum = errno};
    if (::pipe2(err, O_CLOEXEC) != 0) {
        s.errnum = errno;
        ::close(out[0]), ::close(out[1]);
        return s;
    }
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ev) != 0) {
        s.errnum = errno;
        for (int fd : {out[0], out[1], err[0], err[1]}) ::close(fd);
        return s;
    }
    // Everything the child needs is built before fork (only async-signal-safe calls after it).
    std::vector<char*> cargv;
    for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
    cargv.push_back(nullptr);
    std::vector<std::string> env_store = {"JAILCTL_EVENTS_FD=3"};
    env_store.insert(env_store.end(), io.env.begin(), io.env.end());
    auto replaced = [&](const char* e) {  // by io.env, or serve's own
        for (const auto& mine : env_store)
            if (auto eq = mine.find('='); std::strncmp(e, mine.c_str(), eq + 1) == 0) return true;
        return std::strncmp(e, "NOTIFY_SOCKET=", 14) == 0;
    };
    for (char** e = environ; *e; ++e)
        if (!replaced(*e)) env_store.emplace_back(*e);
    std::vector<char*> cenv;
    for (auto& e : env_store) cenv.push_back(e.data());
    cenv.push_back(nullptr);
    const pid_t parent = ::getpid();
    int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);

    pid_t pid = ::fork();
    if (pid == 0) {
        // A `kill -9` of serve kills its tasks too, exactly like a killed CLI (repair handles
        // both); a SIGTERM of serve does not reach them (own process group) and serve waits.
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) ::_exit(127);
        if (io.terminal_fd >= 0) {
            ::setsid();
            if (::ioctl(io.terminal_fd, TIOCSCTTY, 0) != 0) ::_exit(127);
        } else {
            ::setpgid(0, 0);
        }
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        ::signal(SIGPIPE, SIG_DFL);
        // Out of the way of the dup2s below first, whatever number it has in serve.
        const int data = io.data_fd >= 0 ? ::fcntl(io.data_fd, F_DUPFD_CLOEXEC, 16) : -1;
        const int input = io.terminal_fd >= 0 ? ::fcntl(io.terminal_fd, F_DUPFD_CLOEXEC, 16)
                          : io.stdin_fd >= 0  ? ::fcntl(io.stdin_fd, F_DUPFD_CLOEXEC, 16)
                                              : devnull;
        if (input >= 0) ::dup2(input, 0);
        ::dup2(io.terminal_fd >= 0 ? input : out[1], 1);
        ::dup2(err[1], 2);
        ::dup2(ev[1], 3);  // dup2 clears close-on-exec on the copies
        if (data >= 0) ::dup2(data, 4);
        const unsigned first_closed = io.data_fd >= 0 ? 5u : 4u;
        if (::syscall(SYS_close_range, first_closed, ~0u, 0u) != 0)
            for (int fd = static_cast<int>(first_closed); fd < 65536; ++fd) ::close(fd);
        ::execve(program_.c_str(), cargv.data(), cenv.data());
        ::_exit(127);
    }
    int fork_errno = errno;
    if (devnull >= 0) ::close(devnull);
    ::close(out[1]), ::close(err[1]), ::close(ev[1]);
    if (pid < 0) {
        ::close(out[0]), ::close(err[0]), ::close(ev[0]);
        s.errnum = fork_errno;
        return s;
    }
    s.pid = pid;
    s.out = out[0];
    s.err = err[0];
    s.events = ev[0];
    return s;
}

TaskRunner::Started TaskRunner::start(const std::vector<std::string>& verb_args, const std::string& domain,
                                      std::chrono::milliseconds accept_wait, const ChildIo& io) {
    Started started;
    auto task = std::make_shared<Task>();
    {
        std::lock_guard lock(mu_);
        if (draining_) {
            started.http_status = 503;
            started.message = "serve is shutting down: no new tasks";
            started.error = {{"field", nullptr}, {"message", started.message}};
            return started;
        }
        task->id = next_id_++;
        ++running_;
    }
    task->verb = verb_args.empty() ? "" : verb_args[0];
    task->output_limit = io.output_limit;
    task->output_is_result = io.output_is_result;
    task->owner = io.owner;
    task->domain = domain;
    task->started = now();
    std::vector<std::string> argv = {program_};
    argv.insert(argv.end(), global_args_.begin(), global_args_.end());
    argv.push_back("--json");
    argv.insert(argv.end(), verb_args.begin(), verb_args.end());

    std::promise<Spawned> promise;
    auto future = promise.get_future();
    {
        std::lock_guard lock(spawner_->mu);
        spawner_->jobs.push_back([&] { promise.set_value(spawn(argv, io)); });
    }
    spawner_->cv.notify_one();
    Spawned child = future.get();
    if (child.pid < 0) {
        std::lock_guard lock(mu_);
        --running_;
        cv_.notify_all();
        started.http_status = 500;
        started.message = std::string("start the task: ") + std::strerror(child.errnum);
        started.error = {{"field", nullptr}, {"message", started.message}};
        return started;
    }
    task->pid = child.pid;
    {
        std::lock_guard lock(mu_);
        tasks_[task->id] = task;
        // keep the newest 1000 finished tasks
        while (tasks_.size() > 1000) {
            auto it = std::find_if(tasks_.begin(), tasks_.end(), [](auto& kv) { return kv.second->exited; });
            if (it == tasks_.end()) break;
            tasks_.erase(it);
        }
    }
    std::thread([this, task, child] { monitor(task, child); }).detach();

    std::unique_lock lock(mu_);
    cv_.wait_for(lock, accept_wait, [&] { return task->accepted || task->exited; });
    if (task->accepted || !task->exited || task->exit_status == 0) {
        started.id = std::to_string(task->id);
        return started;
    }
    // refused before it began: bad input, a conflict, the host not ready (else 500)
    started.http_status = task->exit_status == 2 ? 400 : task->exit_status == 3 ? 409
                          : task->exit_status == 4 ? 503 : 500;
    started.message = task->error.is_object() ? task->error.value("message", "") : "";
    if (started.message.empty()) started.message = "the task failed before it began (exit status " +
                                                   std::to_string(task->exit_status) + ")";
    started.error = {{"field", nullptr}, {"message", started.message}};
    tasks_.erase(task->id);  // a refused request is no task
    return started;
}

void TaskRunner::handle_event(Task& task, const std::string& line) {
    auto ev = nlohmann::json::parse(line, nullptr, false);
    if (!ev.is_object()) return;
    std::string t = ev.value("t", now());
    if (ev.contains("accepted")) {
        task.accepted = true;
        if (ev["log"].is_string()) task.log = ev["log"].get<std::string>();
        return;
    }
    if (!ev["step"].is_string() || !ev["status"].is_string()) return;
    std::string name = ev["step"].get<std::string>(), status = ev["status"].get<std::string>();
    auto it = std::find_if(task.steps.begin(), task.steps.end(), [&](auto& s) { return s.name == name; });
    if (it == task.steps.end()) {
        task.steps.push_back({name, status, t, "", 0});
        it = task.steps.end() - 1;
    }
    it->status = status;
    if (status == "running") {
        it->start = t;
        it->end.clear();
    } else {
        it->end = t;
        if (it->start.empty()) it->start = t;
        it->ms = ev.value("ms", int64_t{0});
    }
    task.events.push_back({"step", {{"name", it->name}, {"status", it->status}, {"start", it->start},
                                    {"end", null_or(it->end)}, {"ms", it->ms}}});
}

void TaskRunner::monitor(std::shared_ptr<Task> task, Spawned child) {
    int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, child.pid, 0));
    for (int fd : {child.out, child.err, child.events}) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    std::string out, err, evbuf;
    bool out_open = true, err_open = true, ev_open = true;
    int wait_status = 0;
    auto take_events = [&] {
        size_t nl;
        std::lock_guard lock(mu_);
        bool any = false;
        while ((nl = evbuf.find('\n')) != std::string::npos) {
            handle_event(*task, evbuf.substr(0, nl));
            evbuf.erase(0, nl + 1);
            any = true;
        }
        if (any) cv_.notify_all();
    };
    bool dropped = false;
    for (;;) {
        pollfd fds[4] = {{out_open ? child.out : -1, POLLIN, 0},
                         {err_open ? child.err : -1, POLLIN, 0},
                         {ev_open ? child.events : -1, POLLIN, 0},
                         {pidfd, POLLIN, 0}};
        int n = ::poll(fds, 4, pidfd >= 0 ? -1 : 200);
        if (n < 0 && errno != EINTR) break;
        if (out_open && fds[0].revents) out_open = read_available(child.out, out, task->output_limit, &dropped);
        if (err_open && fds[1].revents) err_open = read_available(child.err, err, task->output_limit, &dropped);
        if (ev_open && fds[2].revents) {
            ev_open = read_available(child.events, evbuf);
            take_events();
        }
        bool exited = pidfd >= 0 ? (fds[3].revents != 0) : false;
        if (exited || pidfd < 0) {
            pid_t r = ::waitpid(child.pid, &wait_status, exited ? 0 : WNOHANG);
            if (r == child.pid) break;
        }
    }
    // The child is gone: what it wrote is in the buffers (programs it started may still
    // hold the pipes open, so no waiting for end of file).
    read_available(child.out, out, task->output_limit, &dropped);
    read_available(child.err, err, task->output_limit, &dropped);
    read_available(child.events, evbuf);
    take_events();
    for (int fd : {child.out, child.err, child.events, pidfd})
        if (fd >= 0) ::close(fd);
    std::lock_guard lock(mu_);
    task->truncated = dropped;
    finish(*task, wait_status, out, err);
    --running_;
    ++finished_;
    cv_.notify_all();
}

void TaskRunner::finish(Task& task, int wait_status, const std::string& out, const std::string& err) {
    task.exited = true;
    task.exit_status = WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 128 + WTERMSIG(wait_status);
    task.ended = now();
    task.out = out;
    task.err = err;
    if (task.output_is_result && ko_line(err).second.empty()) {
        // The command ran: its output and exit status are the result, whatever that status
        // (jailctl's own failures end with a KO line and are a KO task like any other).
        task.result = {{"exit_status", task.exit_status}, {"stdout_base64", base64_encode(out)},
                       {"stderr_base64", base64_encode(err)}, {"truncated", task.truncated}};
        task.state = "ok";
        for (auto& s : task.steps)
            if (s.status == "running") s.status = "ok", s.end = task.ended;
        task.events.push_back({"done", to_json(task)});
        return;
    }
    auto result = nlohmann::json::parse(out, nullptr, false);
    if (!result.is_object()) {  // several lines: the last object
        auto pos = out.rfind("\n{");
        result = pos == std::string::npos ? nlohmann::json() : nlohmann::json::parse(out.substr(pos + 1), nullptr, false);
    }
    task.result = result.is_object() ? result : nlohmann::json(nullptr);
    task.state = task.exit_status == 0 ? "ok" : "ko";
    if (task.result.is_object() && task.result["log"].is_string() && task.log.empty())
        task.log = task.result["log"].get<std::string>();
    if (task.exit_status != 0) {
        if (task.result.is_object() && task.result["error"].is_object())
            task.error = task.result["error"];
        else {
            auto [step, message] = ko_line(err);
            if (message.empty())
                message = WIFSIGNALED(wait_status) ? "the task was killed by signal " + std::to_string(WTERMSIG(wait_status))
                                                   : "the task exited with status " + std::to_string(task.exit_status);
            task.error = {{"step", step.empty() ? "task" : step}, {"message", message}};
        }
    }
    // steps still shown running when the process died are not finished
    for (auto& s : task.steps)
        if (s.status == "running" && task.exit_status != 0) s.status = "failed", s.end = task.ended;
    task.events.push_back({"done", to_json(task)});
}

nlohmann::json TaskRunner::to_json(const Task& task) const {
    auto steps = nlohmann::json::array();
    for (const auto& s : task.steps)
        steps.push_back({{"name", s.name}, {"status", s.status}, {"start", s.start}, {"end", null_or(s.end)}, {"ms", s.ms}});
    return {{"id", std::to_string(task.id)}, {"verb", task.verb}, {"domain", task.domain}, {"state", task.state},
            {"started", task.started}, {"ended", null_or(task.ended)}, {"steps", steps},
            {"result", task.result}, {"error", task.error}, {"log", null_or(task.log)},
            {"exit_status", task.exited ? nlohmann::json(task.exit_status) : nlohmann::json(nullptr)}};
}

std::shared_ptr<TaskRunner::Task> TaskRunner::find(const std::string& id) const {
    uint64_t key = 0;
    auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), key);
    if (ec != std::errc() || end != id.data() + id.size()) return nullptr;
    auto it = tasks_.find(key);
    return it == tasks_.end() ? nullptr : it->second;
}

std::optional<nlohmann::json> TaskRunner::task_json(const std::string& id, const Reader& reader) {
    std::lock_guard lock(mu_);
    if (auto task = find(id)) return for_reader(to_json(*task), task->owner, reader);
    return std::nullopt;
}

nlohmann::json TaskRunner::list_json() {
    std::lock_guard lock(mu_);
    auto arr = nlohmann::json::array();
    for (auto it = tasks_.rbegin(); it != tasks_.rend(); ++it) {
        const Task& t = *it->second;
        arr.push_back({{"id", std::to_string(t.id)}, {"verb", t.verb}, {"domain", t.domain}, {"state", t.state},
                       {"started", t.started}, {"ended", null_or(t.ended)}});
    }
    return arr;
}

std::optional<std::vector<SseEvent>> TaskRunner::events(const std::string& id, size_t next,
                                                        std::chrono::milliseconds timeout, bool& finished,
                                                        const Reader& reader) {
    std::unique_lock lock(mu_);
    std::shared_ptr<Task> task = find(id);
    if (!task) return std::nullopt;
    cv_.wait_for(lock, timeout, [&] { return task->events.size() > next; });
    std::vector<SseEvent> out;
    for (size_t i = next; i < task->events.size(); ++i) {
        out.push_back(task->events[i]);
        if (out.back().event == "done") out.back().data = for_reader(std::move(out.back().data), task->owner, reader);
    }
    finished = task->exited && !task->events.empty() && task->events.back().event == "done" &&
               next + out.size() == task->events.size();
    return out;
}

bool TaskRunner::kill_task(const std::string& id) {
    std::lock_guard lock(mu_);
    auto task = find(id);
    if (!task || task->exited) return false;
    return ::kill(-task->pid, SIGKILL) == 0;  // the whole group: LXC's attach helpers too
}

void TaskRunner::drain() {
    std::unique_lock lock(mu_);
    draining_ = true;
    cv_.wait(lock, [&] { return running_ == 0; });
}

uint64_t TaskRunner::finished_count() const {
    std::lock_guard lock(mu_);
    return finished_;
}

bool TaskRunner::draining() const {
    std::lock_guard lock(mu_);
    return draining_;
}

}  // namespace jailctl::api
