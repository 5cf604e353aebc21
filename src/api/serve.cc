// jailctl serve: HTTPS REST API (docs/API.md) and the web console's static files.
// Reads run in-process (status, logs); every action runs as a child `jailctl <verb> --json`
// (api/tasks.h), so the API and the CLI share one engine, its locks and its journal.
#include <httplib.h>  // CPPHTTPLIB_OPENSSL_SUPPORT comes from its pkg-config flags

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <thread>

#include "api/actions.h"
#include "api/agent.h"
#include "api/assets.h"
#include "api/auth.h"
#include "api/console_relay.h"
#include "api/serve.h"
#include "api/tasks.h"
#include "cli/backup_list.h"
#include "cli/jail_ops.h"
#include "cli/metrics.h"
#include "cluster/membership.h"
#include "cluster/peer.h"
#include "console/console_assets.h"
#include "jail/byte_size.h"
#include "jail/domain.h"
#include "services/certificate.h"
#include "util/atomic_file.h"
#include "util/fd.h"
#include "util/random.h"
#include "util/text.h"

namespace jailctl {
namespace {

using api::Role;
using Clock = std::chrono::steady_clock;

constexpr size_t kMaxBody = 64 * 1024;
// POST /jails/{d}/exec (docs/API.md): the command's time limit, and how much of each output is kept.
constexpr uint64_t kExecDefaultSeconds = 300, kExecMaxSeconds = 3600;
constexpr size_t kExecOutputLimit = 1u << 20;
constexpr uint64_t kUploadMax = 4ull << 30;  // an uploaded site (import-site through the cluster)
// HTTP worker threads: every open SSE stream holds one.
constexpr size_t kWorkers = 64;

struct ServeArgs {
    std::string listen = "127.0.0.1:8443";
    std::string tls_cert, tls_key;
};

// Per request, for the request log (set by pre-routing and by authentication).
thread_local Clock::time_point t_request_start;
thread_local std::string t_token_name;

void json_error(httplib::Response& res, int status, const nlohmann::json& field, const std::string& message) {
    res.status = status;
    res.set_content(nlohmann::json{{"error", {{"field", field}, {"message", message}}}}.dump(), "application/json");
}

void json_ok(httplib::Response& res, int status, const nlohmann::json& body) {
    res.status = status;
    res.set_content(body.dump(), "application/json");
}

// systemd's readiness protocol without libsystemd: one datagram to $NOTIFY_SOCKET.
void sd_notify(const std::string& state) {
    const char* path = std::getenv("NOTIFY_SOCKET");
    if (!path || (path[0] != '/' && path[0] != '@')) return;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    size_t len = std::strlen(path);
    if (len >= sizeof addr.sun_path) return;
    std::memcpy(addr.sun_path, path, len);
    if (addr.sun_path[0] == '@') addr.sun_path[0] = '\0';  // abstract namespace
    int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return;
    (void)::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&addr),
                   static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len));
    ::close(fd);
}

// A console's window, "rows" and "cols" (1 to 1000 each) of `doc`, into `size` (each left as it
// is when absent, unless `required`): the field that is wrong, else nullptr.
const char* window_size(const nlohmann::json& doc, unsigned (&size)[2], bool required) {
    for (int i : {0, 1}) {
        const char* name = i == 0 ? "rows" : "cols";
        const bool given = doc.is_object() && doc.contains(name);
        if (!given && !required) continue;
        if (!given || !doc.at(name).is_number_unsigned() || doc.at(name).get<uint64_t>() < 1 || doc.at(name).get<uint64_t>() > 1000)
            return name;
        size[i] = doc.at(name).get<unsigned>();
    }
    return nullptr;
}

Result<std::pair<std::string, int>> parse_listen(const std::string& text) {
    auto colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0) return fail_input("listen", "'" + text + "' is not ADDRESS:PORT");
    std::string host = text.substr(0, colon), port_text = text.substr(colon + 1);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    if (port_text.empty() || port_text.size() > 5 || port_text.find_first_not_of("0123456789") != std::string::npos)
        return fail_input("listen", "port '" + port_text + "' is not a number");
    int port = std::stoi(port_text);
    if (port < 1 || port > 65535) return fail_input("listen", "port " + port_text + " is not between 1 and 65535");
    return std::pair{host, port};
}

}  // namespace

Result<std::pair<std::string, std::string>> ensure_certificate(const Context& ctx, const std::string& host) {
    std::string dir = ctx.paths.root + "/api", cert = dir + "/cert.pem", key = dir + "/key.pem";
    std::error_code ec;
    if (std::filesystem::exists(cert, ec) && std::filesystem::exists(key, ec)) return std::pair{cert, key};
    std::filesystem::create_directories(dir, ec);
    if (ec) return fail(ErrorKind::HostNotReady, "create " + dir + ": " + ec.message());
    ::chmod(dir.c_str(), 0700);
    auto made = make_certificate("localhost", host.find(':') == std::string::npos && host != "0.0.0.0" ? host : "127.0.0.1");
    if (!made) return std::unexpected(made.error());
    if (auto r = write_host_file(key, made->key_pem, 0600); !r) return std::unexpected(r.error());
    if (auto r = write_host_file(cert, made->cert_pem, 0644); !r) return std::unexpected(r.error());
    return std::pair{cert, key};
}

namespace {

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

constexpr const char* kPlaceholder =
    "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>jailctl</title></head>"
    "<body><h1>jailctl</h1><p>The web console is not built into this jailctl. The REST API is at "
    "<a href=\"/api/v1/openapi.json\">/api/v1/openapi.json</a>.</p></body></html>";

class Server {
public:
    Server(Context& ctx, const std::string& cert, const std::string& key)
        : ctx_(ctx), http_(cert.c_str(), key.c_str()), runner_(program(), global_args(ctx)) {}

    bool valid() { return http_.is_valid(); }
    httplib::Server& http() { return http_; }
    api::TaskRunner& runner() { return runner_; }
    api::ConsoleRelay& consoles() { return consoles_; }
    void routes();

private:
    static std::string program() {
        std::error_code ec;
        auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
        return ec ? "/proc/self/exe" : exe.string();
    }
    static std::vector<std::string> global_args(const Context& ctx) {
        std::vector<std::string> args = {"--root=" + ctx.options.root, "--log-dir=" + ctx.paths.log_dir};
        if (!ctx.options.uplink.empty()) args.push_back("--uplink=" + ctx.options.uplink);
        return args;
    }
    // This HTTP worker thread's own registry connection (SQLite handles are not shared).
    Context& local() {
        thread_local std::unique_ptr<Context> mine;
        if (!mine) {
            mine = std::make_unique<Context>();
            mine->options = ctx_.options;
            mine->paths = ctx_.paths;
            mine->init_path = ctx_.init_path;
        }
        return *mine;
    }
    // Authenticates the request and checks the role; false when it answered already.
    bool allow(const httplib::Request& req, httplib::Response& res, Role need, Role* role = nullptr);
    void action(const httplib::Request& req, httplib::Response& res, const std::string& action_name,
                const std::string& domain, const std::string& body);
    // A jail moving between the cluster's hosts (docs/FLEET.md): its archive streamed out of
    // the old host, pulled in by the new one, and the customer's FTP password; uploads.
    void transfer_routes();
    // A console's terminal relayed to its client (api/console_relay.h).
    void console_routes();
    // <root>/uploads/<id> for an upload id (32 lowercase hex digits), else why not.
    Result<std::string> upload_path(const std::string& id) const;
    // The registered jail named in the URL (normalised), or false after answering 400/404.
    bool known_jail(const std::string& input, std::string& domain, httplib::Response& res);

    Context& ctx_;
    httplib::SSLServer http_;
    api::TaskRunner runner_;
    api::ConsoleRelay consoles_{[this](const std::string& task) { runner_.kill_task(task); }};
    api::FailureLimiter limiter_;
    // GET /jails, computed at most once a second (and again as soon as a task of serve ends):
    // a thousand clients polling the listing cost one status pass per second, not one each.
    // Past 1 s one request recomputes while the others keep the previous snapshot (no stall for
    // them); past 3 s, or once a task ended, every request waits for a fresh one.
    std::shared_ptr<const std::string> jails_body();
    std::mutex jails_mu_;       // guards the three fields below (held for a pointer copy only)
    std::mutex jails_compute_;  // one status pass at a time
    std::shared_ptr<const std::string> jails_cache_;
    Clock::time_point jails_at_{};
    uint64_t jails_tasks_ = ~0ull;
    std::mutex used_mu_;
    std::map<std::string, Clock::time_point> last_used_;  // token name -> last registry update
};

bool Server::allow(const httplib::Request& req, httplib::Response& res, Role need, Role* role_out) {
    if (auto wait = limiter_.blocked_for(req.remote_addr); wait > 0) {
        res.set_header("Retry-After", std::to_string(wait));
        json_error(res, 429, nullptr, "too many failed authentications from " + req.remote_addr + "; retry in " +
                                          std::to_string(wait) + " s");
        return false;
    }
    std::string presented;
    auto auth = req.get_header_value("Authorization");
    if (auth.starts_with("Bearer ")) presented = auth.substr(7);
    else if (auth.empty() && req.path.ends_with("/events") && req.has_param("token"))  // EventSource cannot set headers
        presented = req.get_param_value("token");
    if (presented.empty() || presented.size() > 256) {
        limiter_.failed(req.remote_addr);
        res.set_header("WWW-Authenticate", "Bearer");
        json_error(res, 401, nullptr, "authentication required: send 'Authorization: Bearer <token>' (jailctl token add)");
        return false;
    }
    Context& ctx = local();
    if (auto r = ctx.open(); !r) {
        json_error(res, 503, nullptr, r.error().message);
        return false;
    }
    auto tokens = ctx.registry().list_tokens();
    if (!tokens) {
        json_error(res, 503, nullptr, tokens.error().message);
        return false;
    }
    auto token = api::match_token(*tokens, presented);
    if (!token) {
        limiter_.failed(req.remote_addr);
        res.set_header("WWW-Authenticate", "Bearer error=\"invalid_token\"");
        json_error(res, 401, nullptr, "the token is not valid (revoked, or mistyped)");
        return false;
    }
    t_token_name = token->name;
    auto role = api::parse_role(token->role).value_or(Role::Viewer);
    if (role_out) *role_out = role;
    {
        std::lock_guard lock(used_mu_);
        auto now = Clock::now();
        auto& last = last_used_[token->name];
        if (last == Clock::time_point{} || now - last > std::chrono::seconds(60)) {
            last = now;
            (void)ctx.registry().token_used(token->name);  // best effort, at most once a minute
        }
    }
    if (!api::role_allows(role, need)) {
        json_error(res, 403, nullptr, "token '" + token->name + "' (role " + api::role_name(role) +
                                          ") may not do this; it needs role " + api::role_name(need));
        return false;
    }
    return true;
}

std::shared_ptr<const std::string> Server::jails_body() {
    using std::chrono::seconds;
    auto snapshot = [this](Clock::time_point& at, uint64_t& tasks) {
        std::lock_guard lock(jails_mu_);
        at = jails_at_;
        tasks = jails_tasks_;
        return jails_cache_;
    };
    Clock::time_point at;
    uint64_t tasks;
    auto cached = snapshot(at, tasks);
    uint64_t finished = runner_.finished_count();
    auto age = Clock::now() - at;
    if (cached && tasks == finished && age < seconds(1)) return cached;
    std::unique_lock compute(jails_compute_, std::defer_lock);
    if (cached && tasks == finished && age < seconds(3)) {
        if (!compute.try_lock()) return cached;  // another request is refreshing it
    } else {
        compute.lock();
    }
    cached = snapshot(at, tasks);  // refreshed while this one waited?
    finished = runner_.finished_count();
    if (cached && tasks == finished && Clock::now() - at < seconds(1)) return cached;
    auto started = Clock::now();
    auto jails = status_objects(local(), {});
    if (!jails) throw std::runtime_error(jails.error().message);
    auto body = std::make_shared<const std::string>(nlohmann::json{{"jails", *jails}}.dump());
    std::lock_guard lock(jails_mu_);
    jails_cache_ = body;
    jails_at_ = started;
    jails_tasks_ = finished;
    return body;
}

Result<std::string> Server::upload_path(const std::string& id) const {
    if (id.size() != 32 || id.find_first_not_of("0123456789abcdef") != std::string::npos)
        return fail_input("upload", "is not an upload id (POST /api/v1/uploads gives one)");
    return ctx_.paths.root + "/uploads/" + id;
}

bool Server::known_jail(const std::string& input, std::string& domain, httplib::Response& res) {
    auto d = Domain::parse(input);
    if (!d) {
        json_error(res, 400, "domain", d.error().message);
        return false;
    }
    domain = d->str();
    Context& ctx = local();
    auto rec = ctx.registry().find(domain);
    if (!rec) {
        json_error(res, 503, nullptr, rec.error().message);
        return false;
    }
    if (!*rec) {
        json_error(res, 404, "domain", domain + " is not a jail on this host");
        return false;
    }
    return true;
}

void Server::action(const httplib::Request& req, httplib::Response& res, const std::string& action_name,
                    const std::string& path_domain, const std::string& body) {
    const api::ActionSpec* spec = api::find_action(action_name);
    if (!spec) {
        json_error(res, 404, nullptr, "no action '" + action_name + "'");
        return;
    }
    if (!allow(req, res, spec->role)) return;
    std::string domain;
    if (spec->path_domain && !known_jail(path_domain, domain, res)) return;
    auto args = api::action_args(*spec, domain, body);
    if (!args) {
        auto colon = args.error().message.find(": ");
        json_error(res, 400, args.error().message.substr(0, colon), args.error().message);
        return;
    }
    if (!spec->path_domain)  // the new jail's (create, import-site: a positional; import, restore: --domain)
        if (auto doc = nlohmann::json::parse(body, nullptr, false); doc.is_object() && doc["domain"].is_string())
            domain = doc["domain"].get<std::string>();
    api::ChildIo io;
    Fd input;
    if (spec->action == "exec") {  // its stdin as given (else empty), a time limit always, a smaller output cap
        auto doc = nlohmann::json::parse(body, nullptr, false);
        if (!doc.contains("timeout")) doc["timeout"] = kExecDefaultSeconds;
        const auto& t = doc["timeout"];
        const std::string text = t.is_string() ? t.get<std::string>() : t.is_number_unsigned() ? t.dump() : "";
        uint64_t seconds = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
        if (ec != std::errc() || end != text.data() + text.size() || seconds < 1 || seconds > kExecMaxSeconds)
            return json_error(res, 400, "timeout", "timeout: must be 1 to " + std::to_string(kExecMaxSeconds) + " seconds");
        args = api::action_args(*spec, domain, doc);
        if (!args) return json_error(res, 400, nullptr, args.error().message);
        input = Fd(::memfd_create("exec-stdin", MFD_CLOEXEC));
        const std::string given = doc.value("stdin", "");
        if (!input.valid() || !write_all(input.get(), given, "exec stdin") || ::lseek(input.get(), 0, SEEK_SET) != 0)
            return json_error(res, 500, nullptr, std::string("exec stdin: ") + std::strerror(errno));
        io = {.env = {"JAILCTL_EXEC_BY=API token " + t_token_name},  // for the run's audit log
              .stdin_fd = input.get(),
              .output_limit = kExecOutputLimit,
              .output_is_result = true};
    }
    api::Pty pty;
    if (spec->action == "console") {  // a pty of serve's is its terminal; its window and TERM as the client's
        auto doc = nlohmann::json::parse(body, nullptr, false);
        unsigned size[2] = {24, 80};
        if (const char* bad = window_size(doc, size, false))
            return json_error(res, 400, bad, std::string(bad) + ": must be a number from 1 to 1000");
        const std::string term = doc.value("term", "vt100");
        if (!is_terminal_type(term))
            return json_error(res, 400, "term", "term: is not a terminal type (like xterm-256color)");
        auto opened = api::open_pty(size[0], size[1]);
        if (!opened) return json_error(res, 500, nullptr, opened.error().message);
        pty = std::move(*opened);
        io = {.env = {"JAILCTL_EXEC_BY=API token " + t_token_name, "TERM=" + term},
              .terminal_fd = pty.terminal.get(),
              .output_limit = 64 * 1024,
              .output_is_result = true};
    }
    if (std::ranges::any_of(spec->fields, [](const auto& f) { return f.name == "upload"; })) {
        // the upload, opened and unlinked, is the task's /dev/fd/4: import-site's --from, the archive of import and restore
        auto doc = nlohmann::json::parse(body, nullptr, false);
        auto file = upload_path(doc.value("upload", ""));
        if (!file) return json_error(res, 400, "upload", file.error().message);
        input = Fd(::open(file->c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
        if (const int err = errno; !input.valid())
            return json_error(res, err == ENOENT ? 400 : 500, "upload",
                              "upload: " + (err == ENOENT ? std::string("no such upload (expired after an hour, or used)")
                                                          : std::string(std::strerror(err))));
        ::unlink(file->c_str());  // used once; gone with the task's descriptor
        if (spec->action == "import-site") args->insert(std::find(args->begin(), args->end(), "--"), "--from=/dev/fd/4");
        else args->push_back("/dev/fd/4");
        io.data_fd = input.get();
    }
    io.owner = t_token_name;
    auto started = runner_.start(*args, domain, std::chrono::seconds(15), io);
    if (started.http_status == 202) {
        res.set_header("Location", "/api/v1/tasks/" + started.id);
        if (pty.master.valid()) {
            consoles_.add(started.id, std::move(pty.master), t_token_name);
            return json_ok(res, 202, {{"task", started.id}, {"console", "/api/v1/consoles/" + started.id}});
        }
        json_ok(res, 202, {{"task", started.id}});
        return;
    }
    auto field = api::error_field(*spec, started.message);
    json_error(res, started.http_status, field ? nlohmann::json(*field) : nlohmann::json(nullptr), started.message);
}

void Server::console_routes() {
    auto& s = http_;
    auto answer = [](httplib::Response& res, const api::ConsoleRelay::Answer& a) {
        if (a.status == 200) return res.set_content(a.body, "application/octet-stream");
        if (a.status == 204) {
            res.status = 204;
            return;
        }
        json_error(res, a.status, nullptr, a.body);
    };
    s.Get(R"(/api/v1/consoles/([0-9]{1,18})/output)", [this, answer](const httplib::Request& req, httplib::Response& res) {
        if (!allow(req, res, Role::Admin)) return;
        answer(res, consoles_.output(req.matches[1], t_token_name, api::kConsolePoll));
    });
    s.Post(R"(/api/v1/consoles/([0-9]{1,18})/input)", [this, answer](const httplib::Request& req, httplib::Response& res) {
        if (!allow(req, res, Role::Admin)) return;
        answer(res, consoles_.input(req.matches[1], t_token_name, req.body));
    });
    s.Post(R"(/api/v1/consoles/([0-9]{1,18})/resize)", [this, answer](const httplib::Request& req, httplib::Response& res) {
        if (!allow(req, res, Role::Admin)) return;
        unsigned size[2] = {0, 0};
        if (const char* bad = window_size(nlohmann::json::parse(req.body, nullptr, false), size, true))
            return json_error(res, 400, bad, std::string(bad) + ": must be a number from 1 to 1000");
        answer(res, consoles_.resize(req.matches[1], t_token_name, size[0], size[1]));
    });
    s.Delete(R"(/api/v1/consoles/([0-9]{1,18}))", [this, answer](const httplib::Request& req, httplib::Response& res) {
        if (!allow(req, res, Role::Admin)) return;
        answer(res, consoles_.hang_up(req.matches[1], t_token_name));
    });
}

void Server::transfer_routes() {
    auto& s = http_;
    // Uploads (admin): a file sent in pieces of at most the body limit, kept an hour at most,
    // used once by POST /api/v1/import-site ("upload"). <root>/uploads/<id>, 0600.
    s.Post("/api/v1/uploads", [this](const httplib::Request& req, httplib::Response& res) {
        if (!allow(req, res, Role::Admin)) return;
        const std::string dir = ctx_.paths.root + "/uploads";
        ::mkdir(dir.c_str(), 0700);
        std::error_code ec;
        const auto now = std::filesystem::file_time_type::clock::now();
        for (const auto& e : std::filesystem::directory_iterator(dir, ec))  // forgotten ones
            if (auto t = e.last_write_time(ec); !ec && now - t > std::chrono::hours(1)) std::filesystem::remove(e.path(), ec);
        uint8_t id[16];
        random_bytes(id);
        const std::string name = hex(std::span<const unsigned char>(id));
        Fd created(::open((dir + "/" + name).c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
        if (!created.valid()) return json_error(res, 500, nullptr, "uploads: " + dir + ": " + std::strerror(errno));
        json_ok(res, 201, {{"upload", name}});
    });
    s.Post(R"(/api/v1/uploads/([0-9a-f]+))", [this](const httplib::Request& req, httplib::Response& res) {
        if (!allow(req, res, Role::Admin)) return;
        auto file = upload_path(req.matches[1]);
        if (!file) return json_error(res, 404, nullptr, file.error().message);
        Fd out(::open(file->c_str(), O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW));
        struct stat st {};
        if (!out.valid() || ::fstat(out.get(), &st) != 0) return json_error(res, 404, nullptr, "no such upload");
        if (static_cast<uint64_t>(st.st_size) + req.body.size() > kUploadMax)
            return json_error(res, 413, "body", "the upload would pass " + human_bytes(kUploadMax));
        if (auto w = write_all(out.get(), req.body, *file); !w) return json_error(res, 500, nullptr, w.error().message);
        json_ok(res, 200, {{"size", static_cast<uint64_t>(st.st_size) + req.body.size()}});
    });
    // The jail's archive as a stream (export to /dev/fd/4 of the task), for the host a
    // cluster move takes it to. Admin: it holds the whole site.
    s.Get(R"(/api/v1/jails/([^/]+)/export)", [this](const httplib::Request& req, httplib::Response& res) {
        if (!allow(req, res, Role::Admin)) return;
        std::string domain;
        if (!known_jail(req.matches[1], domain, res)) return;
        int p[2];
        if (::pipe2(p, O_CLOEXEC) != 0) return json_error(res, 500, nullptr, std::string("pipe: ") + std::strerror(errno));
        auto out = std::make_shared<Fd>(p[0]);
        auto started = runner_.start({"export", domain, "/dev/fd/4"}, domain, std::chrono::seconds(15),
                                     {.data_fd = p[1], .owner = t_token_name});
        ::close(p[1]);  // the child's copy is the only writer: its exit ends the stream
        if (started.http_status != 202) return json_error(res, started.http_status, nullptr, started.message);
        res.set_header("X-Jailctl-Task", started.id);
        res.set_chunked_content_provider("application/zstd", [out](size_t, httplib::DataSink& sink) {
            char buf[1 << 16];
            ssize_t n;
            while ((n = ::read(out->get(), buf, sizeof buf)) < 0 && errno == EINTR) {
            }
            if (n > 0) return sink.write(buf, static_cast<size_t>(n));
            sink.done();  // the export's end (a failed one is a truncated stream: its reader fails)
            return true;
        });
    });
    // The customer's FTP account, for the host a cluster move takes the jail to (admin only).
    s.Get(R"(/api/v1/jails/([^/]+)/credentials)", [this](const httplib::Request& req, httplib::Response& res) {
        if (!allow(req, res, Role::Admin)) return;
        std::string domain;
        if (!known_jail(req.matches[1], domain, res)) return;
        auto creds = read_credentials(local().paths, domain);
        if (!creds) return json_error(res, 503, nullptr, creds.error().message);
        res.set_header("Cache-Control", "no-store");
        json_ok(res, 200, {{"user", creds->user}, {"password", creds->password}});
    });
    // {"domain", "file"}: restore a jail from an archive of this host's backup directory (a
    // cluster's recover: a dead host's jail from the directory all hosts share).
    s.Post("/api/v1/cluster/restore", [this](const httplib::Request& req, httplib::Response& res) {
        if (!allow(req, res, Role::Admin)) return;
        auto body = nlohmann::json::parse(req.body, nullptr, false);
        for (const char* field : {"domain", "file"})
            if (!body.is_object() || !body.contains(field) || !body[field].is_string())
                return json_error(res, 400, field, std::string(field) + ": a string is required");
        auto domain = Domain::parse(body["domain"].get<std::string>());
        if (!domain) return json_error(res, 400, "domain", domain.error().message);
        const std::string file = std::filesystem::path(body["file"].get<std::string>()).lexically_normal().string();
        const std::string dir = ctx_.paths.backups + "/" + domain->str() + "/";
        if (!file.starts_with(dir) || file.find('/', dir.size()) != std::string::npos)
            return json_error(res, 400, "file", "file: not an archive of " + dir);
        auto started = runner_.start({"restore", file, "--domain", domain->str()}, domain->str(), std::chrono::seconds(15),
                                     {.owner = t_token_name});
        if (started.http_status != 202) return json_error(res, started.http_status, nullptr, started.message);
        res.set_header("Location", "/api/v1/tasks/" + started.id);
        json_ok(res, 202, {{"task", started.id}});
    });
    // {"domain", "from", "password"}: import the jail that host `from` streams (its export
    // above), keeping the customer's password. The task is this host's import.
    s.Post("/api/v1/cluster/receive", [this](const httplib::Request& req, httplib::Response& res) {
        if (!allow(req, res, Role::Admin)) return;
        auto body = nlohmann::json::parse(req.body, nullptr, false);
        for (const char* field : {"domain", "from", "password"})
            if (!body.is_object() || !body.contains(field) || !body[field].is_string())
                return json_error(res, 400, field, std::string(field) + ": a string is required");
        auto domain = Domain::parse(body["domain"].get<std::string>());
        if (!domain) return json_error(res, 400, "domain", domain.error().message);
        auto member = load_membership(ctx_.paths.root);
        if (!member || !*member)
            return json_error(res, 503, nullptr, member ? "this host is in no cluster" : member.error().message);
        auto etcd = open_store(**member);
        auto peer = etcd ? peer_of_host(*etcd, body["from"].get<std::string>()) : Result<Peer>(std::unexpected(etcd.error()));
        if (!peer) return json_error(res, peer.error().kind == ErrorKind::BadInput ? 400 : 503, "from", peer.error().message);
        int p[2];
        if (::pipe2(p, O_CLOEXEC) != 0) return json_error(res, 500, nullptr, std::string("pipe: ") + std::strerror(errno));
        auto in = std::make_shared<Fd>(p[1]);
        // The pump: the old host's stream into the import's /dev/fd/4, until its end or the
        // import's (a write then fails: EPIPE, SIGPIPE is ignored here).
        std::thread([in, peer = *peer, path = "/api/v1/jails/" + domain->str() + "/export"] {
            auto r = peer_stream(peer, path, [&](const char* data, size_t n) {
                return static_cast<bool>(write_all(in->get(), std::string_view(data, n), "the import's stream"));
            });
            if (!r) std::fprintf(stderr, "serve: receive: %s\n", r.error().message.c_str());
        }).detach();
        auto started = runner_.start({"import", "/dev/fd/4", "--domain", domain->str()}, domain->str(), std::chrono::seconds(15),
                                     {.data_fd = p[0], .env = {"JAILCTL_FTP_PASSWORD=" + body["password"].get<std::string>()},
                                      .owner = t_token_name});
        ::close(p[0]);
        if (started.http_status != 202) return json_error(res, started.http_status, nullptr, started.message);
        res.set_header("Location", "/api/v1/tasks/" + started.id);
        json_ok(res, 202, {{"task", started.id}});
    });
}

void Server::routes() {
    auto& s = http_;
    s.set_payload_max_length(kMaxBody);
    s.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
        t_request_start = Clock::now();
        t_token_name.clear();
        // A body with neither a length nor chunks ends only when the client closes its side:
        // the server would wait for the read timeout (30 s) before answering. Answered at once.
        if ((req.method == "POST" || req.method == "PUT" || req.method == "PATCH") && !req.has_header("Content-Length") &&
            !req.has_header("Transfer-Encoding")) {
            json_error(res, 411, "body", "body: a " + req.method + " needs a Content-Length header (curl: -d '{}')");
            res.set_header("Connection", "close");
            return httplib::Server::HandlerResponse::Handled;
        }
        return httplib::Server::HandlerResponse::Unhandled;
    });
    s.set_logger([](const httplib::Request& req, const httplib::Response& res) {
        // A console's keys and output polls (one a keystroke): its start, end and errors are logged.
        if (req.path.starts_with("/api/v1/consoles/") && (req.path.ends_with("/input") || req.path.ends_with("/output")) &&
            res.status < 300)
            return;
        double ms = std::chrono::duration<double, std::milli>(Clock::now() - t_request_start).count();
        char ms_text[32];
        std::snprintf(ms_text, sizeof ms_text, "%.1fms", ms);
        // the path only: a query string may carry a token (?token= of the SSE endpoint)
        std::string line = rfc3339_utc(std::chrono::system_clock::now()) + " " + req.remote_addr + " " + req.method +
                           " " + req.path + " " + std::to_string(res.status) + " " + ms_text +
                           " token=" + (t_token_name.empty() ? "-" : t_token_name) + "\n";
        std::fwrite(line.data(), 1, line.size(), stdout);
        std::fflush(stdout);
    });
    s.set_error_handler([](const httplib::Request&, httplib::Response& res) {
        if (!res.body.empty()) return;
        if (res.status == 413) json_error(res, 413, "body", "is larger than 64 KiB");
        else if (res.status == 404) json_error(res, 404, nullptr, "no such path");
        else if (res.status == 400) json_error(res, 400, "body", "body: malformed HTTP request");
        else json_error(res, res.status, nullptr, "HTTP error " + std::to_string(res.status));
    });
    s.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "internal error";
        try {
            std::rethrow_exception(ep);
        } catch (const std::exception& e) {
            what += std::string(": ") + e.what();
        } catch (...) {
        }
        json_error(res, 500, nullptr, what);
    });

    s.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
        json_ok(res, 200, {{"ok", true}, {"version", JAILCTL_VERSION}});
    });
    s.Get("/api/v1/openapi.json", [](const httplib::Request&, httplib::Response& res) {
        res.set_content(std::string(api::openapi_json), "application/json");
    });
    s.Get("/api/v1/whoami", [this](const httplib::Request& req, httplib::Response& res) {
        Role role;
        if (!allow(req, res, Role::Viewer, &role)) return;
        json_ok(res, 200, {{"name", t_token_name}, {"role", api::role_name(role)}});
    });
    s.Get("/api/v1/jails", [this](const httplib::Request& req, httplib::Response& res) {
        if (!allow(req, res, Role::Viewer)) return;
        try {
            res.set_content(*jails_body(), "application/json");
        } catch (const std::runtime_error& e) {
            json_error(res, 503, nullptr, e.what());
        }
    });
    s.Get(R"(/api/v1/jails/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
        if (!allow(req, res, Role::Viewer)) return;
        std::string domain;
        if (!known_jail(req.matches[1], domain, res)) return;
        auto jails = status_objects(local(), {domain});
        if (!jails || jails->empty()) return json_error(res, 404, "domain", domain + " is not a jail on this host");
        json_ok(res, 200, (*jails)[0]);
    });
    // What `backups [DOMAIN] --json` lists: this host's archives (its backup directory).
    s.Get(R"(/api/v1/jails/([^/]+)/backups)", [this](const httplib::Request& req, httplib::Response& res) {
        if (!allow(req, res, Role::Viewer)) return;
        std::string domain;
        if (!known_jail(req.matches[1], domain, res)) return;
        json_ok(res, 200, {{"backups", backup_objects(local().paths, domain)}});
    });
    s.Get("/api/v1/backups", [this](const httplib::Request& req, httplib::Response& res) {
        if (!allow(req, res, Role::Viewer)) return;
        json_ok(res, 200, {{"backups", backup_objects(local().paths, "")}});
    });
    s.Post("/api/v1/jails", [this](const httplib::Request& req, httplib::Response& res) {
        action(req, res, "create", "", req.body);
    });
    // import-site: create's fields and "upload", the site sent before (POST /api/v1/uploads).
    s.Post("/api/v1/(import-site|import|restore)", [this](const httplib::Request& req, httplib::Response& res) {
        action(req, res, req.matches[1], "", req.body);
    });
    // renew --all: every jail of this host whose ACME certificate is due (operator).
    s.Post("/api/v1/renew", [this](const httplib::Request& req, httplib::Response& res) {
        action(req, res, "renew-all", "", req.body);
    });
    s.Post(R"(/api/v1/jails/([^/]+)/([a-z-]+))", [this](const httplib::Request& req, httplib::Response& res) {
        // create, renew-all: not a jail's (POST /jails, POST /renew); destroy: DELETE
        const api::ActionSpec* spec = api::find_action(req.matches[2]);
        if ((spec && !spec->path_domain) || std::string(req.matches[2]) == "destroy")
            return json_error(res, 404, nullptr, "no action '" + std::string(req.matches[2]) + "' here");
        action(req, res, req.matches[2], req.matches[1], req.body);
    });
    s.Delete(R"(/api/v1/jails/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
        nlohmann::json body = nlohmann::json::object();
        for (const auto& [key, value] : req.params) {
            if (key != "force") return json_error(res, 400, key, key + ": unknown parameter (allowed: force)");
            if (value != "true" && value != "false") return json_error(res, 400, "force", "force: must be true or false");
            body["force"] = value == "true";
        }
        if (!req.body.empty()) return json_error(res, 400, "body", "body: DELETE takes no body (use ?force=true)");
        action(req, res, "destroy", req.matches[1], body.dump());
    });
    transfer_routes();
    console_routes();
    s.Get("/api/v1/tasks", [this](const httplib::Request& req, httplib::Response& res) {
        if (!allow(req, res, Role::Viewer)) return;
        json_ok(res, 200, {{"tasks", runner_.list_json()}});
    });
    s.Get(R"(/api/v1/tasks/([0-9]{1,18}))", [this](const httplib::Request& req, httplib::Response& res) {
        Role role;
        if (!allow(req, res, Role::Viewer, &role)) return;
        auto task = runner_.task_json(req.matches[1], {t_token_name, role == Role::Admin});
        if (!task) return json_error(res, 404, nullptr, "no task " + std::string(req.matches[1]));
        json_ok(res, 200, *task);
    });
    s.Get(R"(/api/v1/tasks/([0-9]{1,18})/events)", [this](const httplib::Request& req, httplib::Response& res) {
        Role role;
        if (!allow(req, res, Role::Viewer, &role)) return;
        std::string id = req.matches[1];
        const api::Reader reader{t_token_name, role == Role::Admin};
        if (!runner_.task_json(id, reader)) return json_error(res, 404, nullptr, "no task " + id);
        res.set_header("Cache-Control", "no-store");
        res.set_header("X-Accel-Buffering", "no");
        auto next = std::make_shared<size_t>(0);
        res.set_chunked_content_provider("text/event-stream", [this, id, next, reader](size_t, httplib::DataSink& sink) {
            bool finished = false;
            auto events = runner_.events(id, *next, std::chrono::seconds(15), finished, reader);
            if (!events) {
                sink.done();
                return true;
            }
            if (events->empty()) {
                static const std::string ping = ": keep-alive\n\n";
                return sink.write(ping.data(), ping.size());
            }
            for (const auto& ev : *events) {
                std::string text = "event: " + ev.event + "\ndata: " + ev.data.dump() + "\n\n";
                if (!sink.write(text.data(), text.size())) return false;
                ++*next;
            }
            if (finished) sink.done();
            return true;
        });
    });
    s.Get(R"(/api/v1/jails/([^/]+)/logs)", [this](const httplib::Request& req, httplib::Response& res) {
        if (!allow(req, res, Role::Viewer)) return;
        auto d = Domain::parse(std::string(req.matches[1]));
        if (!d) return json_error(res, 400, "domain", d.error().message);
        std::string dir = ctx_.paths.log_dir + "/" + d->str();
        std::error_code ec;
        if (!std::filesystem::is_directory(dir, ec))
            return json_error(res, 404, "domain", d->str() + " has no logs on this host");
        auto logs = nlohmann::json::array();
        std::vector<std::filesystem::directory_entry> entries;
        for (const auto& e : std::filesystem::directory_iterator(dir, ec))
            if (e.is_regular_file(ec) && !e.is_symlink(ec)) entries.push_back(e);
        std::sort(entries.begin(), entries.end(), [](auto& a, auto& b) { return a.path().filename() > b.path().filename(); });
        for (const auto& e : entries) {
            struct stat st{};
            if (::lstat(e.path().c_str(), &st) != 0) continue;
            logs.push_back({{"name", e.path().filename().string()}, {"size", static_cast<uint64_t>(st.st_size)},
                            {"modified", rfc3339_utc(std::chrono::system_clock::from_time_t(st.st_mtime))}});
        }
        json_ok(res, 200, {{"logs", logs}});
    });
    s.Get(R"(/api/v1/jails/([^/]+)/logs/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
        if (!allow(req, res, Role::Viewer)) return;
        auto d = Domain::parse(std::string(req.matches[1]));
        if (!d) return json_error(res, 400, "domain", d.error().message);
        std::string name = req.matches[2];
        if (name.empty() || name[0] == '.' || name.find('/') != std::string::npos || name.find('\0') != std::string::npos)
            return json_error(res, 404, nullptr, "no log '" + name + "'");
        std::string path = ctx_.paths.log_dir + "/" + d->str() + "/" + name;
        int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
        struct stat st{};
        if (fd < 0 || ::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
            if (fd >= 0) ::close(fd);
            return json_error(res, 404, nullptr, "no log '" + name + "' for " + d->str());
        }
        std::string text;
        text.resize(static_cast<size_t>(std::min<off_t>(st.st_size, 64 << 20)));
        ssize_t n = ::read(fd, text.data(), text.size());
        ::close(fd);
        text.resize(n > 0 ? static_cast<size_t>(n) : 0);
        res.set_content(text, "text/plain; charset=utf-8");
    });
    // Prometheus text, the same as `jailctl metrics` prints.
    s.Get("/metrics", [this](const httplib::Request& req, httplib::Response& res) {
        if (!allow(req, res, Role::Viewer)) return;
        auto text = metrics_text(local());
        if (!text) return json_error(res, 503, nullptr, text.error().message);
        res.set_content(*text, "text/plain; version=0.0.4; charset=utf-8");
    });
    // The web console: public static files (they hold no secret; the console asks for a token).
    s.Get(R"(/(.*))", [](const httplib::Request& req, httplib::Response& res) {
        if (const Asset* asset = find_console_asset(req.path)) {
            res.set_header("Cache-Control", std::string(kConsoleCacheControl));
            res.set_header("Content-Security-Policy", std::string(kConsoleCsp));
            res.set_header("X-Content-Type-Options", "nosniff");
            res.set_header("Referrer-Policy", "no-referrer");
            res.set_content(std::string(asset->body), std::string(asset->content_type));
            return;
        }
        if (req.path == "/") return res.set_content(kPlaceholder, "text/html; charset=utf-8");
        json_error(res, 404, nullptr, "no such path");
    });
}

int run_serve(Context& ctx, const ServeArgs& args) {
    auto listen = parse_listen(args.listen);
    if (!listen) return report_error(ctx, "validate", listen.error());
    if (args.tls_cert.empty() != args.tls_key.empty())
        return report_error(ctx, "validate", Error{ErrorKind::BadInput, "tls-key: --tls-cert and --tls-key go together"});
    if (auto r = ctx.open(); !r) return report_error(ctx, "validate", r.error());
    std::pair<std::string, std::string> files{args.tls_cert, args.tls_key};
    if (files.first.empty()) {
        auto made = ensure_certificate(ctx, listen->first);
        if (!made) return report_error(ctx, "certificate", made.error());
        files = *made;
    }
    auto fingerprint = certificate_fingerprint(read_file(files.first));
    if (!fingerprint) return report_error(ctx, "certificate", fingerprint.error());

    // SIGTERM/SIGINT are taken by one thread (sigwait): block them before any thread starts.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    ::pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    ::signal(SIGPIPE, SIG_IGN);

    Server server(ctx, files.first, files.second);
    if (!server.valid())
        return report_error(ctx, "certificate", Error{ErrorKind::BadInput, "tls-cert: cannot load " + files.first + " / " + files.second});
    server.routes();
    server.http().new_task_queue = [] { return new httplib::ThreadPool(kWorkers); };
    server.http().set_keep_alive_timeout(5);
    // Headers and body leave in separate TLS records: with Nagle on, a keep-alive client's delayed
    // ACK holds the body back 40 ms (wrk at 1 client: p50 40 ms; 3 ms with it off).
    server.http().set_tcp_nodelay(true);
    server.http().set_read_timeout(30);
    if (!server.http().bind_to_port(listen->first, listen->second))
        return report_error(ctx, "listen", Error{ErrorKind::HostNotReady, "listen: cannot listen on " + args.listen +
                                                                             " (address not here, or port in use)"});
    std::printf("serve: https://%s (jailctl %s)\ncertificate: %s\nsha256 fingerprint: %s\n", args.listen.c_str(),
                JAILCTL_VERSION, files.first.c_str(), fingerprint->c_str());
    std::fflush(stdout);

    std::atomic<bool> stopping = false;
    std::thread signals([&] {
        int sig = 0;
        sigwait(&stop_signals, &sig);
        stopping = true;
        std::printf("serve: %s: no new connections; waiting for running tasks\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        std::fflush(stdout);
        sd_notify("STOPPING=1");
        server.consoles().hang_up_all();  // an interactive shell is not a task to wait for
        server.http().stop();  // returns at once; listen_after_bind() returns once the open requests end
    });
    api::HostAgent agent(ctx, *fingerprint);  // in a cluster: keeps this host up (docs/FLEET.md)
    sd_notify("READY=1\nSTATUS=listening on " + args.listen);
    bool ok = server.http().listen_after_bind();
    if (!stopping) {  // the listener failed on its own
        std::fprintf(stderr, "KO: listen: the server stopped unexpectedly\n");
        ::kill(::getpid(), SIGTERM);  // lets the signal thread finish
    }
    signals.join();
    server.runner().drain();  // refuses new tasks, waits for the running ones (they are not cut short)
    std::printf("serve: stopped\n");
    return ok || stopping ? 0 : static_cast<int>(ErrorKind::HostNotReady);
}

}  // namespace

void add_serve(CLI::App& app, Context& ctx, Action& action) {
    auto args = std::make_shared<ServeArgs>();
    auto* cmd = app.add_subcommand("serve", "HTTPS REST API and web console (runs in the foreground)");
    cmd->add_option("--listen", args->listen, "ADDRESS:PORT to listen on (default 127.0.0.1:8443)");
    cmd->add_option("--tls-cert", args->tls_cert, "PEM certificate (default: made under ROOT/api/ on first start)");
    cmd->add_option("--tls-key", args->tls_key, "PEM private key of --tls-cert");
    cmd->callback([&ctx, &action, args] { action = [&ctx, args] { return run_serve(ctx, *args); }; });
}

}  // namespace jailctl
