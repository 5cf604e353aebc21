// serve's tasks: each action runs as a child process, `jailctl <global options> --json
// <verb> <args>`, i.e. the CLI itself (same locks, journal and logs). The child reports
// its progress on a socket (JAILCTL_EVENTS_FD, see cli/context.cc); the task, its steps,
// events and result live in serve's memory only (results may hold passwords).
#pragma once

#include <nlohmann/json.hpp>

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace jailctl::api {

struct SseEvent {
    std::string event;  // "step" | "done"
    nlohmann::json data;
};

// What a task's child gets besides its arguments.
struct ChildIo {
    int data_fd = -1;              // becomes the child's fd 4 (/dev/fd/4): an archive stream
    std::vector<std::string> env;  // NAME=value added to serve's environment (secrets: not argv)
    int stdin_fd = -1;             // becomes the child's stdin (default /dev/null)
    // A terminal (a pty's other side): the child's controlling terminal, stdin and stdout, in
    // a session of its own (console). Its stderr stays serve's pipe: jailctl's own KO lines.
    int terminal_fd = -1;
    size_t output_limit = 16u << 20;  // per stream; beyond it only the last bytes are kept
    // The child's outputs and exit status are the task's result (exec: a command's), not a
    // verb's JSON report; only a KO line on its stderr makes the task KO.
    bool output_is_result = false;
    // Not the child's: the API token that started the task. The secrets of its result (an FTP
    // password, a command's output) are shown only to that token and to admins (Reader).
    std::string owner;
};

// Who reads a task: its secrets are shown to the token that started it and to admins.
struct Reader {
    std::string token;
    bool admin = false;
};

class TaskRunner {
public:
    // `program`: the jailctl executable; `global_args`: --root=..., --log-dir=... as serve got them.
    TaskRunner(std::string program, std::vector<std::string> global_args);
    ~TaskRunner();

    struct Started {
        int http_status = 202;  // 202, or 400/409/503/500 when the child refused before it began
        std::string id;         // with 202
        nlohmann::json error;   // otherwise: {"field", "message"} (field null when unknown)
        std::string message;    // the refusal's message, for error_field()
    };
    // Runs the verb and waits until it has accepted its inputs (opened its task log),
    // exited, or `accept_wait` passed (it may be waiting for the jail's lock: 202 then).
    // `io`: what the child gets besides its arguments (a data stream, the environment).
    Started start(const std::vector<std::string>& verb_args, const std::string& domain,
                  std::chrono::milliseconds accept_wait = std::chrono::seconds(15), const ChildIo& io = ChildIo());

    // GET /tasks/{id}: nullopt when unknown. For a reader other than its owner or an admin the
    // result's secrets are null: ftp.password, and a command's stdout_base64/stderr_base64
    // (`secrets_hidden`: true says so).
    std::optional<nlohmann::json> task_json(const std::string& id, const Reader& reader);
    nlohmann::json list_json();  // summaries, newest first
    // The task's events from index `next` on; waits up to `timeout` for a new one.
    // `finished` is set once the last ("done") event is among them. nullopt: unknown task.
    std::optional<std::vector<SseEvent>> events(const std::string& id, size_t next, std::chrono::milliseconds timeout,
                                                bool& finished, const Reader& reader);
    // SIGKILL to the running task's process group (a console hung up); false when it ended.
    bool kill_task(const std::string& id);
    // Refuse new tasks, wait for the running ones.
    void drain();
    bool draining() const;
    // Counts finished tasks: a reader's cache of the jails is stale once it moves.
    uint64_t finished_count() const;

private:
    struct Task;
    struct Spawned {
        pid_t pid = -1;
        int out = -1, err = -1, events = -1;
        int errnum = 0;
    };
    Spawned spawn(const std::vector<std::string>& argv, const ChildIo& io);
    void monitor(std::shared_ptr<Task> task, Spawned child);
    void handle_event(Task& task, const std::string& line);
    void finish(Task& task, int wait_status, const std::string& out, const std::string& err);
    nlohmann::json to_json(const Task& task) const;
    // The task with this id (the URL's decimal text), or null; with mu_ held.
    std::shared_ptr<Task> find(const std::string& id) const;

    std::string program_;
    std::vector<std::string> global_args_;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::map<uint64_t, std::shared_ptr<Task>> tasks_;
    uint64_t next_id_ = 1;
    int running_ = 0;
    uint64_t finished_ = 0;
    bool draining_ = false;

    // Children are forked by one long-lived thread: PR_SET_PDEATHSIG fires when the thread
    // that forked exits, and the HTTP worker threads end before running tasks do on SIGTERM.
    // An empty job ends that thread (the destructor's, after drain()).
    struct SpawnQueue {
        std::mutex mu;
        std::condition_variable cv;
        std::deque<std::function<void()>> jobs;
    };
    std::shared_ptr<SpawnQueue> spawner_ = std::make_shared<SpawnQueue>();
};

}  // namespace jailctl::api
