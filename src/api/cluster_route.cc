#include "api/cluster_route.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <cstdio>
#include <iostream>
#include <map>
#include <set>
#include <thread>

#include "api/actions.h"
#include "api/cluster_words.h"
#include "cli/backup_list.h"
#include "cluster/membership.h"
#include "cluster/peer.h"
#include "cluster/pools.h"
#include "host/archive.h"
#include "jail/byte_size.h"
#include "jail/domain.h"
#include "jail/ipv4.h"
#include "util/atomic_file.h"
#include "util/fd.h"
#include "util/random.h"
#include "util/text.h"

extern char** environ;

namespace jailctl {
namespace {

using nlohmann::json;

struct Routed {
    const api::ActionSpec* spec = nullptr;
    std::string domain;  // the jail: the path's for verbs on a jail, the new one's for create
    json body = json::object();
    std::string site;    // import-site: --from, a directory or a tarball of this machine; import, restore: FILE
    uint64_t archive_size = 0;  // import, restore: the archive's disk size (the jail's without --size)
};

// import-site's --from (a path of this machine, sent as an upload), taken out of the words.
Result<std::string> take_from(std::vector<std::string>& args) {
    for (size_t i = 0; i < args.size() && args[i] != "--"; ++i) {
        if (args[i] == "--from" && i + 1 < args.size()) {
            std::string from = args[i + 1];
            args.erase(args.begin() + static_cast<long>(i), args.begin() + static_cast<long>(i) + 2);
            return from;
        }
        if (args[i].starts_with("--from=")) {
            std::string from = args[i].substr(7);
            args.erase(args.begin() + static_cast<long>(i));
            return from;
        }
    }
    return fail_input("from", "is required (--from DIR|TARBALL)");
}

// import's and restore's FILE (an archive of this machine, sent as an upload), taken out of the
// words (the verb's, without jailctl's global options).
Result<std::string> take_archive(std::vector<std::string>& words) {
    for (size_t i = 1; i < words.size(); ++i) {
        const std::string& w = words[i];
        if (w == "--" && i + 1 < words.size()) {
            std::string file = words[i + 1];
            words.erase(words.begin() + static_cast<long>(i) + 1);
            return file;
        }
        if ((w == "--domain" || w == "--ip" || w == "--size") && w.find('=') == std::string::npos) {
            ++i;  // its value
            continue;
        }
        if (!w.starts_with("-")) {
            std::string file = w;
            words.erase(words.begin() + static_cast<long>(i));
            return file;
        }
    }
    return fail_input("file", "is required (" + words[0] + " FILE: an archive written by backup or export)");
}

// The verb and its arguments as the API's action and JSON body, through the action table.
Result<Routed> route(const std::vector<std::string>& args) {
    const std::vector<std::string> words = verb_words(args);
    if (words.empty()) return fail_input("verb", "missing");
    std::string verb = words[0];
    Routed r;
    size_t first_argument = 1;
    for (const auto& spec : api::action_table()) {
        if (spec.verb == verb) r.spec = &spec, first_argument = 1;
        else if (words.size() > 1 && spec.verb == verb + " " + words[1]) r.spec = &spec, first_argument = 2;  // alias add
    }
    if (!r.spec) return fail_input("verb", "'" + verb + "' is not an action of the cluster");
    std::vector<std::string> positionals;
    bool only_positionals = false;
    for (size_t i = first_argument; i < words.size(); ++i) {
        const std::string& w = words[i];
        if (only_positionals || !w.starts_with("--")) {
            if (w == "--") only_positionals = true;
            else positionals.push_back(w);
            continue;
        }
        if (w == "--") {
            only_positionals = true;
            continue;
        }
        std::string name = w.substr(0, w.find('='));
        auto field = std::ranges::find_if(r.spec->fields, [&](const auto& f) { return f.option == name; });
        if (field == r.spec->fields.end())
            return fail_input(name.substr(2), "is not available for " + verb + " through the cluster");
        if (field->type == api::FieldType::Bool) {
            r.body[field->name] = true;
            continue;
        }
        std::string value;
        if (w.find('=') != std::string::npos) value = w.substr(w.find('=') + 1);
        else if (i + 1 < words.size()) value = words[++i];
        else return fail_input(field->name, "needs a value");
        r.body[field->name] = value;  // the host checks types and values, as for any API call
    }
    size_t next = 0;
    if (r.spec->path_domain) {
        if (positionals.empty()) return fail_input("domain", "is required");
        r.domain = positionals[next++];
    }
    for (const auto& f : r.spec->fields) {
        if (!f.option.empty()) continue;
        if (next < positionals.size()) r.body[f.name] = positionals[next++];
    }
    if (next < positionals.size()) return fail_input("arguments", "unexpected " + quote_input(positionals[next]));
    // The cluster's keys hold the canonical forms, as the registries do.
    if (!r.spec->path_domain && !(r.body.contains("domain") && r.body["domain"].is_string()))
        return fail_input("domain", "is required");
    if (r.body.contains("ip")) {
        auto ip = Ipv4::parse(r.body["ip"].get<std::string>());
        if (!ip) return std::unexpected(ip.error());
        r.body["ip"] = ip->str();
    }
    std::string& named = r.spec->path_domain ? r.domain : r.body["domain"].get_ref<std::string&>();
    auto canonical = Domain::parse(named);
    if (!canonical) return std::unexpected(canonical.error());
    named = canonical->str();
    if (!r.spec->path_domain) r.domain = named;
    return r;
}

// What the cluster knows, read once per run.
struct ClusterView {
    json record;                          // /jailctl/cluster
    std::map<std::string, json> hosts;    // name -> hosts/ value
    std::map<std::string, json> alive;    // name -> alive/ value (up hosts only)
};

Result<ClusterView> read_cluster(Etcd& etcd) {
    ClusterView v;
    auto record = etcd.get(keys::cluster());
    if (!record) return std::unexpected(record.error());
    if (!*record) return fail(ErrorKind::HostNotReady, "no cluster record in etcd (was it wiped?)");
    v.record = json::parse((*record)->value, nullptr, false);
    for (auto [prefix, into] : {std::pair{keys::hosts(), &v.hosts}, std::pair{keys::alive_all(), &v.alive}}) {
        auto list = etcd.list(prefix);
        if (!list) return std::unexpected(list.error());
        for (const auto& kv : *list) (*into)[kv.key.substr(prefix.size())] = json::parse(kv.value, nullptr, false);
    }
    return v;
}

// Placement (docs/FLEET.md): among up hosts with room for the disk, the fewest jails, then
// the most free disk, then the name.
// `memory_bytes`: the jail's memory limit (0: unknown, as for evacuate and recover, whose etcd
// record has none; the target host's own checks still apply).
Result<std::string> place(const ClusterView& v, uint64_t size_bytes, uint64_t memory_bytes = 0) {
    std::string best;
    std::tuple<int64_t, int64_t, std::string> best_key;
    for (const auto& [name, cap] : v.alive) {
        if (!cap.is_object() || !v.hosts.contains(name)) continue;
        auto disk = cap.value("disk_free", uint64_t{0});
        if (disk < size_bytes + size_bytes / 10) continue;
        if (cap.value("memory_free", uint64_t{0}) < memory_bytes) continue;
        std::tuple<int64_t, int64_t, std::string> key{cap.value("jails", int64_t{0}), -static_cast<int64_t>(disk), name};
        if (best.empty() || key < best_key) best = name, best_key = key;
    }
    if (best.empty())
        return fail(ErrorKind::HostNotReady, v.alive.empty() ? "no host of the cluster is up (is serve running on them?)"
                                                             : "no up host has room for this disk and memory limit");
    return best;
}

Peer peer_of(const ClusterView& v, const std::string& host) {
    const json& h = v.hosts.at(host);
    return {h.value("api", ""), h.value("fingerprint", ""), v.record.value("token", "")};
}

// Follows the task on `host` until it ends, printing each step as it finishes (stderr);
// returns the task's JSON, or an error when the host stopped answering.
Result<json> await_task(const Peer& peer, const std::string& host, const std::string& task) {
    size_t printed = 0;
    for (int failures = 0;;) {
        auto got = peer_get(peer, "/api/v1/tasks/" + task);
        if (!got) {
            if (++failures >= 100)  // ~5 s without an answer: say so, the task goes on there
                return fail(got.error().message + "; task " + task + " may still be running on " + host);
        } else {
            failures = 0;
            const auto& steps = (*got)["steps"];
            while (steps.is_array() && printed < steps.size() && steps[printed].value("status", "") != "running") {
                const auto& s = steps[printed++];
                std::fprintf(stderr, "[%s] %-16s %s (%.0f ms)\n", host.c_str(), s.value("name", "").c_str(),
                             s.value("status", "").c_str(), s.value("ms", 0.0));
            }
            if (got->value("state", "running") != "running") return std::move(*got);
        }
        // Short: a move's downtime includes the moment its stop is seen to have ended.
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

// A finished task's exit status, as the verb's.
int task_status(const json& t) {
    if (t.contains("exit_status") && t["exit_status"].is_number_integer()) return t["exit_status"].get<int>();
    return t.value("state", "") == "ok" ? 0 : 5;
}

// The task's KO cause, one line.
std::string task_error(const json& t, const std::string& host) {
    const json& e = t["error"];
    return (e.is_object() ? e.value("step", "task") : "task") + ": " +
           (e.is_object() ? e.value("message", "") : "failed on " + host) + " (on host " + host + ")";
}

// Follows the task on `host` until it ends, then prints the result as the verb would;
// returns the verb's exit status.
int follow(const Context& ctx, const Peer& peer, const std::string& host, const std::string& task) {
    auto t = await_task(peer, host, task);
    if (!t) return report_error(ctx, "cluster", Error{ErrorKind::StepFailed, t.error().message});
    int status = task_status(*t);
    json result = (*t)["result"].is_object() ? (*t)["result"] : json::object();
    result["host"] = host;
    if (ctx.options.json) {
        std::cout << result.dump(2) << std::endl;
    } else if (status == 0) {
        std::cout << "OK\nhost:      " << host << "\n";
        for (const auto& [key, value] : result.items())
            if (key != "result" && key != "host" && key != "steps" && !value.is_structured())
                std::printf("%-10s %s\n", (key + ":").c_str(), value.is_string() ? value.get<std::string>().c_str() : value.dump().c_str());
            else if (value.is_object() && key == "ftp")
                for (const auto& [k, v] : value.items())
                    std::printf("ftp %-6s %s\n", (k + ":").c_str(), v.is_string() ? v.get<std::string>().c_str() : v.dump().c_str());
    }
    if (status != 0) std::cerr << "KO: " << task_error(*t, host) << std::endl;
    return status;
}

// The host refused the action before it began (400/409/503): its verdict, as the CLI's.
Error refusal(const PeerAnswer& a, const std::string& host) {
    const json& e = a.body.is_object() ? a.body["error"] : json();
    std::string field = e.is_object() && e["field"].is_string() ? e["field"].get<std::string>() + ": " : "";
    std::string message = e.is_object() ? e.value("message", "") : "HTTP " + std::to_string(a.status);
    ErrorKind kind = a.status == 400 ? ErrorKind::BadInput : a.status == 409 ? ErrorKind::Conflict
                     : a.status == 503 ? ErrorKind::HostNotReady : ErrorKind::StepFailed;
    return Error{kind, field + message + " (on host " + host + ")"};
}
int refused(const Context& ctx, const PeerAnswer& a, const std::string& host) {
    return report_error(ctx, "validate", refusal(a, host));
}

// Starts a task on `host` and follows it: its JSON when it ended OK, else its cause.
Result<json> run_task(const Peer& peer, const std::string& host, const std::string& method, const std::string& path,
                      const json& body) {
    auto started = peer_request(peer, method, path, body, std::chrono::seconds(60));
    if (!started) return std::unexpected(started.error());
    if (started->status != 202) return std::unexpected(refusal(*started, host));
    auto t = await_task(peer, host, started->body.value("task", ""));
    if (!t) return t;
    if (int status = task_status(*t); status != 0) return std::unexpected(Error{static_cast<ErrorKind>(status), task_error(*t, host)});
    return t;
}

// Sends the site at `from` (a directory: as a tar made by tar(1); a file: as it is) to the
// peer's uploads; its upload id.
Result<std::string> upload_site(const Peer& peer, const std::string& host, const std::string& from) {
    struct stat st {};
    if (::stat(from.c_str(), &st) != 0) return fail_input("from", from + ": " + std::strerror(errno));
    if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) return fail_input("from", from + " is neither a directory nor a file");
    auto made = peer_request(peer, "POST", "/api/v1/uploads", json::object(), std::chrono::seconds(10));
    if (!made) return std::unexpected(made.error());
    if (made->status != 201) return std::unexpected(refusal(*made, host));
    const std::string id = made->body.value("upload", "");
    Fd in;
    pid_t tar = -1;
    if (S_ISDIR(st.st_mode)) {  // tar(1) reads the tree: the host checks every entry as for a tarball
        int p[2];
        if (::pipe2(p, O_CLOEXEC) != 0) return fail_errno("pipe", errno);
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, p[1], STDOUT_FILENO);
        const char* argv[] = {"tar", "-C", from.c_str(), "-cf", "-", ".", nullptr};
        int rc = ::posix_spawnp(&tar, "tar", &fa, nullptr, const_cast<char* const*>(argv), environ);
        posix_spawn_file_actions_destroy(&fa);
        ::close(p[1]);
        in = Fd(p[0]);
        if (rc != 0) return fail("from: cannot run tar: " + std::string(std::strerror(rc)));
    } else {
        in = Fd(::open(from.c_str(), O_RDONLY | O_CLOEXEC));
        if (!in.valid()) return fail_input("from", from + ": " + std::strerror(errno));
    }
    std::string piece;
    auto sent = peer_upload(peer, "/api/v1/uploads/" + id, [&]() -> Result<std::string> {
        piece.assign(60000, '\0');  // under the API's 64 KiB body limit
        size_t have = 0;
        while (have < piece.size()) {
            ssize_t n = ::read(in.get(), piece.data() + have, piece.size() - have);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) return fail_errno("from: read " + from, errno);
            if (n == 0) break;
            have += static_cast<size_t>(n);
        }
        piece.resize(have);
        return piece;
    });
    in = Fd();
    if (tar > 0) {
        int status = 0;
        while (::waitpid(tar, &status, 0) < 0 && errno == EINTR) {
        }
        if (sent && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
            return fail("from: tar of " + from + " failed (exit status " + std::to_string(WEXITSTATUS(status)) + ")");
    }
    if (!sent) return std::unexpected(sent.error());
    return id;
}

// Starts the routed new-jail action on `host`: POST /api/v1/jails (create), or, after sending
// this machine's site or archive as an upload, /api/v1/import-site|import|restore.
Result<PeerAnswer> start_with_upload(const Peer& peer, const std::string& host, const Routed& r) {
    json body = r.body;
    if (!r.site.empty()) {
        std::fprintf(stderr, "cluster: sending %s to host %s\n", r.site.c_str(), host.c_str());
        auto upload = upload_site(peer, host, r.site);
        if (!upload) return std::unexpected(Error{upload.error().kind, "upload: " + upload.error().message});
        body["upload"] = *upload;
    }
    return peer_request(peer, "POST", r.spec->action == "create" ? "/api/v1/jails" : "/api/v1/" + r.spec->action, body,
                        std::chrono::seconds(60));
}

// A claim's token: its values are this run's alone (Etcd::create, remove_if).
std::string new_claim() {
    uint8_t token[8];
    random_bytes(token);
    return hex(std::span<const unsigned char>(token));
}

// A field of a read key's JSON value: "?" when unreadable, or when the key could not be read or is gone.
std::string holder_field(const Result<std::optional<KeyValue>>& kv, const char* name) {
    return kv && *kv ? value_field((*kv)->value, name, "?") : "?";
}

// The other jails that would serve one of the names `domain` serves (host_names: it and its
// www. form): www.D and www.www.D for D, D for www.D. A new jail `domain` is refused while any exists.
std::vector<std::string> neighbours_by_name(const std::string& domain) {
    std::vector<std::string> out;
    for (const auto& name : host_names(domain))
        for (auto& d : domains_serving(name))
            if (d != domain && std::ranges::find(out, d) == out.end()) out.push_back(std::move(d));
    return out;
}

// Why a create's claim of `domain` lost when neither its jails/ key nor its address did: a
// name the jail would serve (host_names) is another jail's alias or one of its own names.
// "" when none is.
std::string name_conflict(Etcd& etcd, const std::string& domain) {
    for (const auto& name : host_names(domain)) {
        auto held = etcd.get(keys::name(name));
        if (!held || !*held) continue;
        const std::string jail = holder_field(held, "domain");
        return name == domain ? "domain: " + domain + " is an alias of jail " + jail
                              : "domain: " + domain + " would also serve " + name + ", an alias of jail " + jail;
    }
    for (const auto& other : neighbours_by_name(domain)) {
        auto jail = etcd.get(keys::jail(other));
        if (!jail || !*jail) continue;
        const auto theirs = host_names(other);
        for (const auto& name : host_names(domain))
            if (std::ranges::find(theirs, name) != theirs.end())
                return "domain: " + domain + (name == domain ? " is" : " would also serve " + name + ", which is") +
                       " served by jail " + other + " on host " + holder_field(jail, "host");
    }
    return "";
}

int create_in_cluster(Context& ctx, Etcd& etcd, const ClusterView& v, const Routed& r, const std::string& wanted_host) {
    const std::string domain = r.domain;
    std::string ip = r.body.value("ip", "");
    uint64_t size_bytes = r.archive_size;  // import, restore: the archive's unless --size
    if (r.body.contains("size") || size_bytes == 0) {
        auto size = ByteSize::parse_disk(r.body.value("size", ""));
        if (!size) return report_error(ctx, "validate", size.error());
        size_bytes = size->bytes();
    }
    uint64_t memory = 256ull << 20;  // create's default limit (jail/registry.h)
    if (r.body.contains("memory")) {
        auto m = ByteSize::parse(r.body["memory"].is_string() ? r.body["memory"].get<std::string>() : r.body["memory"].dump(), "memory");
        if (!m) return report_error(ctx, "validate", m.error());
        memory = m->bytes();
    }
    std::string host = wanted_host;
    if (host.empty()) {
        auto placed = place(v, size_bytes, memory);
        if (!placed) return report_error(ctx, "placement", placed.error());
        host = *placed;
    } else if (!v.hosts.contains(host)) {
        return report_error(ctx, "validate", Error{ErrorKind::BadInput, "host: no host '" + host + "' in the cluster (see `jailctl cluster hosts`)"});
    } else if (!v.alive.contains(host)) {
        return report_error(ctx, "validate", Error{ErrorKind::HostNotReady, "host: " + host + " is down (its serve is not running)"});
    }
    // The claim: the domain and the address in one transaction, while no names/ key holds a
    // name the jail would serve (another jail's alias) and no other jail serves one (its jails/
    // key: www.D for D, D for www.D); its token makes it ours. Without --ip, the lowest free
    // address of the pools: one another create took meanwhile is skipped.
    const std::string claim = new_claim();
    std::vector<std::string> taken_if_present;
    for (const auto& name : host_names(domain)) taken_if_present.push_back(keys::name(name));
    for (const auto& other : neighbours_by_name(domain)) taken_if_present.push_back(keys::jail(other));
    std::set<Ipv4> lost;
    std::string jail_value, ip_value;
    for (const bool pooled = ip.empty();;) {
        if (pooled) {
            auto free = free_pool_address(etcd, lost);
            if (!free) return report_error(ctx, "validate", free.error());
            ip = free->str();
        }
        jail_value = json{{"host", host}, {"ip", ip}, {"size_bytes", size_bytes}, {"state", "creating"}, {"claim", claim}}.dump();
        ip_value = json{{"domain", domain}, {"host", host}, {"claim", claim}}.dump();
        auto claimed = etcd.create({{keys::jail(domain), jail_value}, {keys::ip(ip), ip_value}}, 0, {.absent = taken_if_present});
        if (!claimed) return report_error(ctx, "claim", claimed.error());
        if (*claimed) break;
        auto holder = etcd.get(keys::jail(domain));
        if (holder && *holder)
            return report_error(ctx, "validate", Error{ErrorKind::Conflict, "domain: " + domain + " is already a jail on host " +
                                                                                 holder_field(holder, "host")});
        if (std::string why = name_conflict(etcd, domain); !why.empty())
            return report_error(ctx, "validate", Error{ErrorKind::Conflict, why});
        constexpr size_t kAddressTries = 8;  // each lost to a create that claimed it meanwhile
        if (pooled && lost.size() + 1 < kAddressTries) {
            lost.insert(*Ipv4::parse_syntax(ip));
            continue;
        }
        auto ip_holder = etcd.get(keys::ip(ip));
        return report_error(ctx, "validate", Error{ErrorKind::Conflict, "ip: " + ip + " is already used by " +
                                                                             holder_field(ip_holder, "domain") + " on host " +
                                                                             holder_field(ip_holder, "host")});
    }
    auto release = [&] {
        (void)etcd.remove_if(keys::jail(domain), jail_value);
        (void)etcd.remove_if(keys::ip(ip), ip_value);
    };
    std::fprintf(stderr, "cluster: %s placed on host %s with address %s\n", domain.c_str(), host.c_str(), ip.c_str());
    Peer peer = peer_of(v, host);
    Routed placed = r;
    placed.body["ip"] = ip;  // from the pools when not given
    auto started = start_with_upload(peer, host, placed);
    if (!started) {
        release();
        return report_error(ctx, "cluster", started.error());
    }
    if (started->status != 202) {
        release();
        return refused(ctx, *started, host);
    }
    int status = follow(ctx, peer, host, started->body.value("task", ""));
    if (status != 0) release();  // a KO create left nothing there; the claim goes too
    return status;
}

// The jail's keys (jails/, ips/, by-host/) name host `to` instead of the one in `record` (its
// jails/ value): after a move or a recover, at once (the hosts' agents would at their next refresh).
Result<void> reassign(Etcd& etcd, const std::string& domain, const json& record, const std::string& to) {
    const std::string ip = record.value("ip", ""), from = record.value("host", "");
    const json jail = {{"host", to}, {"ip", ip}, {"size_bytes", record.value("size_bytes", uint64_t{0})}, {"state", "ready"}};
    for (auto r : {etcd.put(keys::jail(domain), jail.dump()), etcd.put(keys::ip(ip), json{{"domain", domain}, {"host", to}}.dump()),
                   etcd.put(keys::by_host(to) + domain, ""), etcd.remove(keys::by_host(from) + domain)})
        if (!r) return r;
    return {};
}

// Moves `domain` to host `to` (docs/FLEET.md, "move DOMAIN --to HOST"): stop on the old host (its route
// and proxy ARP go), the new host imports the old one's export stream and starts and tests it
// (its start announces the address), the keys name the new host, the old copy is destroyed.
// A failure before the new copy passed its test starts the old one again.
Result<json> move_jail(Etcd& etcd, const ClusterView& v, const std::string& domain, const std::string& to) {
    auto jail = etcd.get(keys::jail(domain));
    if (!jail) return std::unexpected(jail.error());
    if (!*jail) return fail_input("domain", "no jail " + quote_input(domain) + " in the cluster (see `jailctl cluster status`)");
    const json record = json::parse((*jail)->value, nullptr, false);
    const std::string from = record.value("host", ""), ip = record.value("ip", "");
    if (from == to) return fail_input("to", domain + " is already on host " + to);
    if (!v.hosts.contains(to)) return fail_input("to", "no host " + quote_input(to) + " in the cluster (see `jailctl cluster hosts`)");
    for (const auto& h : {from, to})
        if (!v.alive.contains(h)) return fail(ErrorKind::HostNotReady, "host " + h + " is down (its serve is not running)");
    const Peer old_host = peer_of(v, from), new_host = peer_of(v, to);
    const std::string path = "/api/v1/jails/" + domain;
    auto creds = peer_get(old_host, path + "/credentials");
    auto state = creds ? peer_get(old_host, path) : creds;
    if (!state) return std::unexpected(state.error());
    const bool running = state->value("state", "") == "running";
    std::fprintf(stderr, "cluster: moving %s (%s) from %s to %s\n", domain.c_str(), ip.c_str(), from.c_str(), to.c_str());
    const auto began = std::chrono::steady_clock::now();
    if (running)
        if (auto r = run_task(old_host, from, "POST", path + "/stop", json::object()); !r) return std::unexpected(r.error());
    auto received = run_task(new_host, to, "POST", "/api/v1/cluster/receive",
                             {{"domain", domain}, {"from", from}, {"password", creds->value("password", "")}});
    if (!received) {
        std::string back;
        if (running)
            if (auto r = run_task(old_host, from, "POST", path + "/start", json::object()); !r)
                back = "; starting it again on " + from + " failed too: " + r.error().message;
        return std::unexpected(Error{received.error().kind, received.error().message + "; " + domain + " stays on host " +
                                                                from + back});
    }
    const double switch_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - began).count();
    // The cluster's keys name the new host at once (its agent would at its next refresh).
    const json result_of_import = (*received)["result"].is_object() ? (*received)["result"] : json::object();
    if (auto r = reassign(etcd, domain, record, to); !r) return std::unexpected(r.error());
    json result = {{"domain", domain}, {"ip", ip}, {"from", from}, {"to", to}, {"switch_ms", switch_ms},
                   {"password_kept", result_of_import["ftp"].is_object() && result_of_import["ftp"].value("password_kept", false)},
                   {"warnings", json::array()}};
    if (auto r = run_task(old_host, from, "DELETE", path + "?force=true", nullptr); !r)
        result["warnings"].push_back("the old copy on " + from + " was not destroyed: " + r.error().message +
                                     " (`jailctl --root ... destroy " + domain + " --force` there)");
    if (!running)
        if (auto r = run_task(new_host, to, "POST", path + "/stop", json::object()); !r)
            result["warnings"].push_back("it was stopped before the move and could not be stopped on " + to + ": " + r.error().message);
    result["running"] = running;
    return result;
}

// The cluster for a verb of its own: membership, etcd, the view.
struct Opened {
    Etcd etcd;
    ClusterView view;
};
Result<Opened> open_cluster(const Context& ctx) {
    auto m = load_membership(ctx.paths.root);
    if (!m) return std::unexpected(m.error());
    if (!*m) return fail(ErrorKind::HostNotReady, "this host is in no cluster (`jailctl cluster init` or `join` first)");
    auto etcd = open_store(**m);
    if (!etcd) return std::unexpected(etcd.error());
    auto v = read_cluster(*etcd);
    if (!v) return std::unexpected(v.error());
    return Opened{std::move(*etcd), std::move(*v)};
}

std::vector<std::string> move_lines(const json& r) {
    std::vector<std::string> lines = {"domain:    " + r.value("domain", ""), "from:      " + r.value("from", ""),
                                      "to:        " + r.value("to", ""),
                                      "switch:    " + std::to_string(static_cast<long>(r.value("switch_ms", 0.0))) +
                                          " ms (stopped there until started and tested here)",
                                      std::string("password:  ") + (r.value("password_kept", false) ? "kept" : "NEW (see `jailctl credentials`)")};
    for (const auto& w : r["warnings"]) lines.push_back("warning:   " + w.get<std::string>());
    return lines;
}


// The up host that holds `domain`, from its jails/ key: an error naming the field otherwise.
struct JailHost {
    std::string host;
    json record;  // the jails/ value
};
Result<JailHost> jail_host(Etcd& etcd, const ClusterView& v, const std::string& domain) {
    auto jail = etcd.get(keys::jail(domain));
    if (!jail) return std::unexpected(jail.error());
    if (!*jail)
        return fail(ErrorKind::BadInput, "domain: no jail " + quote_input(domain) + " in the cluster (see `jailctl cluster status`)");
    JailHost j{"", json::parse((*jail)->value, nullptr, false)};
    if (j.record.is_object()) j.host = j.record.value("host", "");
    if (!v.hosts.contains(j.host))
        return fail(ErrorKind::HostNotReady, domain + " is on host '" + j.host + "', which left the cluster");
    if (!v.alive.contains(j.host))
        return fail(ErrorKind::HostNotReady, domain + " is on host " + j.host + ", which is down (its serve is not running)");
    return j;
}

// `credentials DOMAIN` through the cluster: the jail's host's credentials file, read over
// the API (admin: the cluster's token), printed as the verb prints it.
int credentials_in_cluster(Context& ctx, const Peer& peer, const std::string& host, const std::string& domain) {
    auto creds = peer_get(peer, "/api/v1/jails/" + domain + "/credentials");
    if (!creds) return report_error(ctx, "cluster", creds.error());
    return report_ok(ctx, {{"domain", domain}, {"host", host}, {"ftp", {{"user", creds->value("user", "")}, {"password", creds->value("password", "")}}}},
                     {"domain:    " + domain, "host:      " + host, "ftp user:  " + creds->value("user", ""),
                      "ftp pass:  " + creds->value("password", "")});
}

// `alias list DOMAIN` through the cluster: the aliases the jail's host reports
// (GET /api/v1/jails/{d}), one a line as the verb prints them.
int alias_list_in_cluster(Context& ctx, const Peer& peer, const std::string& host, const std::string& domain) {
    auto jail = peer_get(peer, "/api/v1/jails/" + domain);
    if (!jail) return report_error(ctx, "cluster", jail.error());
    const json web = jail->is_object() && (*jail)["web"].is_object() ? (*jail)["web"] : json::object();
    json aliases = web.value("aliases", json::array());
    if (!aliases.is_array()) aliases = json::array();
    std::vector<std::string> lines;
    for (const auto& a : aliases)
        if (a.is_string()) lines.push_back(a.get<std::string>());
    return report_ok(ctx, {{"domain", domain}, {"host", host}, {"aliases", lines}}, lines);
}

// `alias add DOMAIN NAME` through the cluster, before the jail's host adds it: NAME claimed in
// names/ (create-if-absent), while no jail serves it as one of its own names (its jails/ key
// absent in the same transaction). The value written, for its release on a KO; "" when nothing
// was (NAME is one of DOMAIN's own names, which its host refuses, or names/ holds it for DOMAIN).
Result<std::string> claim_name(Etcd& etcd, const std::string& domain, const std::string& name) {
    const auto own = host_names(domain);
    if (std::ranges::find(own, name) != own.end()) return std::string();
    std::vector<std::string> served;  // the jails/ keys of the domains that would serve NAME themselves
    for (const auto& d : domains_serving(name)) served.push_back(keys::jail(d));
    const std::string value = json{{"domain", domain}, {"claim", new_claim()}}.dump();
    auto claimed = etcd.create({{keys::name(name), value}}, 0, {.absent = served});
    if (!claimed) return std::unexpected(claimed.error());
    if (*claimed) return value;
    auto held = etcd.get(keys::name(name));
    if (!held) return std::unexpected(held.error());
    if (*held) {
        const std::string holder = holder_field(held, "domain");
        if (holder == domain) return std::string();  // its own already: the host says whether it serves it
        return fail(ErrorKind::Conflict, "alias: " + name + " is already served by jail " + holder + " (its alias)");
    }
    for (const auto& d : domains_serving(name))
        if (auto jail = etcd.get(keys::jail(d)); jail && *jail)
            return fail(ErrorKind::Conflict, "alias: " + name + " is already served by jail " + d + " on host " +
                                                 holder_field(jail, "host"));
    return fail(ErrorKind::Conflict, "alias: " + name + " was claimed and released meanwhile: try again");
}

// The names/ keys that hold `domain` (only `name`'s when given): removed, each only while it
// still names that jail.
void release_names(Etcd& etcd, const std::string& domain, const std::string& name) {
    std::vector<KeyValue> held;
    if (!name.empty()) {
        if (auto one = etcd.get(keys::name(name)); one && *one) held.push_back(**one);
    } else if (auto all = etcd.list(keys::names())) {
        held = std::move(*all);
    }
    for (const auto& kv : held)
        if (value_field(kv.value, "domain", "?") == domain) (void)etcd.remove_if(kv.key, kv.value);
}

// A verb that stays on one host: refused with why and where to run it instead.
int refuse_host_local(Context& ctx, const ClusterWords& w) {
    std::vector<std::string> hosts;
    if (auto c = open_cluster(ctx))
        for (const auto& [name, _] : c->view.hosts) hosts.push_back(name);
    return report_error(ctx, "validate", Error{ErrorKind::BadInput, "verb: " + host_local_refusal(w, hosts)});
}

// The jail's host and the pinned peer to call it; else the exit status of the error, reported.
struct AtJailHost {
    std::string host;
    Peer peer;
};
std::expected<AtJailHost, int> at_jail_host(Context& ctx, const std::string& domain) {
    auto c = open_cluster(ctx);
    if (!c) return std::unexpected(report_error(ctx, "cluster", c.error()));
    auto j = jail_host(c->etcd, c->view, domain);
    if (!j) return std::unexpected(report_error(ctx, "validate", j.error()));
    return AtJailHost{j->host, peer_of(c->view, j->host)};
}

// `backups [DOMAIN]` through the cluster: the archives the jail's host lists
// (GET /api/v1/jails/{d}/backups), printed as `backups` prints them; without DOMAIN, each up
// host's whole listing (GET /api/v1/backups), one table per host, an archive that several hosts
// list (a shared backup directory) only under the first ("shared_with": host -> count).
int backups_in_cluster(Context& ctx, const std::string& domain) {
    auto c = open_cluster(ctx);
    if (!c) return report_error(ctx, "cluster", c.error());
    auto listing = [&](const std::string& host, const std::string& path) -> Result<json> {
        auto got = peer_get(peer_of(c->view, host), path, std::chrono::seconds(10));
        if (!got) return std::unexpected(got.error());
        if (!got->is_object() || !(*got)["backups"].is_array()) return fail("host " + host + " answered no backup listing");
        return (*got)["backups"];
    };
    if (!domain.empty()) {
        auto j = jail_host(c->etcd, c->view, domain);
        if (!j) return report_error(ctx, "validate", j.error());
        auto rows = listing(j->host, "/api/v1/jails/" + domain + "/backups");
        if (!rows) return report_error(ctx, "cluster", rows.error());
        if (ctx.options.json) std::cout << json{{"backups", *rows}, {"host", j->host}}.dump(2) << std::endl;
        else std::cout << backups_text(*rows);
        return 0;
    }
    json hosts = json::array(), down = json::array();
    std::string text;
    std::map<std::string, std::string> listed_by;  // archive -> the host it was listed under
    for (const auto& [name, _] : c->view.hosts) {
        if (!c->view.alive.contains(name)) {
            down.push_back(name);
            continue;
        }
        auto rows = listing(name, "/api/v1/backups");
        if (!rows) return report_error(ctx, "cluster", rows.error());
        // Hosts that share one backup directory (the cluster's backup_dir) list the same
        // archives: each is shown once, under the first host that listed it.
        json own = json::array();
        std::map<std::string, size_t> shared;  // earlier host -> archives of this listing it had
        for (const auto& row : *rows) {
            std::string file = row.is_object() ? row.value("file", "") : "";
            auto seen = listed_by.find(file);
            if (!file.empty() && seen != listed_by.end()) {
                ++shared[seen->second];
                continue;
            }
            if (!file.empty()) listed_by.emplace(file, name);
            own.push_back(row);
        }
        json entry = {{"host", name}, {"backups", own}};
        text += "host " + name + ":\n" + backups_text(own);
        for (const auto& [other, n] : shared) {
            entry["shared_with"][other] = n;
            text += "  (and " + std::to_string(n) + " archive" + (n == 1 ? "" : "s") + " listed under host " + other +
                    ": a backup directory they share)\n";
        }
        hosts.push_back(std::move(entry));
    }
    for (const auto& d : down) text += "host " + d.get<std::string>() + ": down (its serve is not running): not listed\n";
    if (ctx.options.json) std::cout << json{{"hosts", hosts}, {"down", down}}.dump(2) << std::endl;
    else std::cout << text;
    return 0;
}

// `export DOMAIN FILE` through the cluster: the jail's host exports it as the answer of
// GET /api/v1/jails/{d}/export (admin: the cluster's token), written on this machine to
// FILE.part and renamed to FILE once the host's export task ended OK. FILE is refused as local
// export refuses it (it exists: exit 3); a failed transfer leaves neither FILE nor FILE.part.
int export_in_cluster(Context& ctx, const ClusterWords& w) {
    std::vector<std::string> positionals;
    bool only_positionals = false;
    for (const auto& a : w.arguments) {
        if (!only_positionals && a == "--") only_positionals = true;
        else if (!only_positionals && a.starts_with("-"))
            return report_error(ctx, "validate", Error{ErrorKind::BadInput, a.substr(0, a.find('=')).substr(2) +
                                                                                ": is not available for export through the cluster"});
        else positionals.push_back(a);
    }
    if (positionals.size() != 2)
        return report_error(ctx, "validate", Error{ErrorKind::BadInput, positionals.size() < 2 ? "file: is required (export DOMAIN FILE)"
                                                                                               : "arguments: unexpected " + quote_input(positionals[2])});
    auto domain = Domain::parse(positionals[0]);
    if (!domain) return report_error(ctx, "validate", domain.error());
    const std::string& input = positionals[1];
    if (input.empty() || std::ranges::any_of(input, [](unsigned char ch) { return ch < 0x20 || ch == 0x7f; }))
        return report_error(ctx, "validate", Error{ErrorKind::BadInput, "file: is empty or contains a control character"});
    const std::string file = std::filesystem::absolute(input).lexically_normal().string();
    const std::string parent = std::filesystem::path(file).parent_path().string(), part = file + ".part";
    struct stat st {};
    if (::stat(parent.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        return report_error(ctx, "validate", Error{ErrorKind::BadInput, "file: directory " + parent + " does not exist"});
    if (::lstat(file.c_str(), &st) == 0)
        return report_error(ctx, "validate", Error{ErrorKind::Conflict, "file: " + file + " already exists"});
    auto at = at_jail_host(ctx, domain->str());
    if (!at) return at.error();
    Fd out(::open(part.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));  // it holds the whole site
    if (!out.valid())
        return report_error(ctx, "validate", errno == EEXIST ? Error{ErrorKind::Conflict, "file: " + part + " exists (another export "
                                                                                         "to " + file + " is running, or a leftover: remove it)"}
                                                             : Error{ErrorKind::BadInput, "file: open " + part + ": " + std::strerror(errno)});
    std::string task;
    uint64_t bytes = 0;
    Result<void> written;  // a local write's failure: the cause of the stream's stop
    Result<void> done = peer_stream(
        at->peer, "/api/v1/jails/" + domain->str() + "/export",
        [&](const char* data, size_t n) {
            bytes += n;
            written = write_all(out.get(), std::string_view(data, n), part);
            return static_cast<bool>(written);
        },
        std::chrono::seconds(30), &task);
    if (!written) done = std::unexpected(written.error());
    if (done && task.empty()) done = fail("host " + at->host + " named no export task: the archive cannot be checked");
    if (done) {
        auto t = await_task(at->peer, at->host, task);
        if (!t) done = std::unexpected(t.error());
        else if (int status = task_status(*t); status != 0) done = std::unexpected(Error{static_cast<ErrorKind>(status), task_error(*t, at->host)});
    }
    if (done && ::fsync(out.get()) != 0) done = fail_errno("fsync " + part, errno);
    if (done && ::close(out.release()) != 0) done = fail_errno("close " + part, errno);
    if (done && ::renameat2(AT_FDCWD, part.c_str(), AT_FDCWD, file.c_str(), RENAME_NOREPLACE) != 0)
        done = errno == EEXIST ? fail(ErrorKind::Conflict, "file: " + file + " appeared during the export (kept; the archive is removed)")
                               : fail_errno("rename " + part + " to " + file, errno);
    if (!done) {
        ::unlink(part.c_str());
        return report_error(ctx, "export", done.error());
    }
    return report_ok(ctx, {{"domain", domain->str()}, {"host", at->host}, {"file", file}, {"size_bytes", bytes}},
                     {"domain:    " + domain->str(), "host:      " + at->host, "file:      " + file,
                      "size:      " + human_bytes(bytes)});
}

// The words of exec and console through the cluster: the jail (returned), the options in
// `options` (each takes a value; -U is --user) into `body` under their names, and the words
// after "--" (exec's command) into `command`. Any other option is bad input.
Result<Domain> attach_words(const ClusterWords& w, std::initializer_list<std::string_view> options, json& body,
                            std::vector<std::string>& command) {
    std::vector<std::string> positionals;
    for (size_t i = 0; i < w.arguments.size(); ++i) {
        const std::string& a = w.arguments[i];
        if (a == "--") {
            command.assign(w.arguments.begin() + static_cast<long>(i) + 1, w.arguments.end());
            break;
        }
        std::string name = a.substr(0, a.find('=')), value;
        if (name == "-U") name = "--user";
        if (std::ranges::find(options, name) == options.end()) {
            if (a.starts_with("-"))
                return fail_input(name.substr(name.find_first_not_of('-')), "is not available for " + w.verb + " through the cluster");
            positionals.push_back(a);
            continue;
        }
        if (a.find('=') != std::string::npos) value = a.substr(a.find('=') + 1);
        else if (i + 1 < w.arguments.size()) value = w.arguments[++i];
        else return fail_input(name.substr(2), "needs a value");
        body[name.substr(2)] = value;
    }
    if (positionals.empty()) return fail_input("domain", "is required (" + w.verb + " DOMAIN" + (w.verb == "exec" ? " -- CMD...)" : ")"));
    if (positionals.size() > 1) return fail_input("arguments", "unexpected " + quote_input(positionals[1]));
    return Domain::parse(positionals[0]);
}

// `exec DOMAIN [--user U] [--timeout S] -- CMD...` through the cluster: POST /api/v1/jails/{d}/exec
// on the jail's host (admin: the cluster's token) with this process's stdin when it is not a
// terminal (up to kExecStdinMax, text); once the command ended, its stdout and stderr are
// written here and its exit status is this one's. jailctl's own failures end with a KO line.
int exec_in_cluster(Context& ctx, const ClusterWords& w) {
    constexpr size_t kExecStdinMax = 48 * 1024;  // the API's bodies are at most 64 KiB
    json body = json::object();
    std::vector<std::string> command;
    auto domain = attach_words(w, {"--user", "--timeout"}, body, command);
    if (!domain) return report_error(ctx, "validate", domain.error());
    if (command.empty()) return report_error(ctx, "validate", Error{ErrorKind::BadInput, "command: give the command after --"});
    body["command"] = command;
    if (!::isatty(STDIN_FILENO)) {
        std::string input;
        char buf[16384];
        for (ssize_t n; (n = ::read(STDIN_FILENO, buf, sizeof buf)) != 0;) {
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && errno == EBADF) break;  // no stdin at all (closed): no input
            if (n < 0) return report_error(ctx, "validate", fail_errno("stdin: read", errno).error());
            input.append(buf, static_cast<size_t>(n));
            if (input.size() > kExecStdinMax)
                return report_error(ctx, "validate", Error{ErrorKind::BadInput, "stdin: more than 48 KiB; through the cluster exec takes a "
                                                                                "small input (run it with jailctl exec on the jail's host)"});
        }
        try {
            (void)json(input).dump();  // text only: a JSON string holds no arbitrary bytes
        } catch (const json::exception&) {
            return report_error(ctx, "validate", Error{ErrorKind::BadInput, "stdin: is not UTF-8 text (through the cluster exec takes text)"});
        }
        if (input.find('\0') != std::string::npos)
            return report_error(ctx, "validate", Error{ErrorKind::BadInput, "stdin: contains a NUL byte (through the cluster exec takes text)"});
        if (!input.empty()) body["stdin"] = input;
    }
    auto at = at_jail_host(ctx, domain->str());
    if (!at) return at.error();
    auto started = peer_request(at->peer, "POST", "/api/v1/jails/" + domain->str() + "/exec", body, std::chrono::seconds(60));
    if (!started) return report_error(ctx, "cluster", started.error());
    if (started->status != 202) return refused(ctx, *started, at->host);
    auto t = await_task(at->peer, at->host, started->body.value("task", ""));
    if (!t) return report_error(ctx, "cluster", Error{ErrorKind::StepFailed, t.error().message});
    if (t->value("state", "") != "ok") {
        if (ctx.options.json) std::cout << json{{"ok", false}, {"host", at->host}, {"error", (*t)["error"]}}.dump(2) << std::endl;
        std::cerr << "KO: " << task_error(*t, at->host) << std::endl;
        return task_status(*t);
    }
    json result = (*t)["result"].is_object() ? (*t)["result"] : json::object();
    result["host"] = at->host;
    if (ctx.options.json) {
        std::cout << result.dump(2) << std::endl;
    } else {
        auto out = base64_decode(result.value("stdout_base64", "")), err = base64_decode(result.value("stderr_base64", ""));
        std::cout << (out ? *out : "") << std::flush;
        std::cerr << (err ? *err : "");
    }
    if (result.value("truncated", false))
        std::cerr << "jailctl: the output was longer than the host keeps (1 MiB per stream): only its end is shown\n";
    return result.value("exit_status", 5);
}

// The terminal of this process in raw mode while it lives (keys go to the remote shell as they
// are typed, ^C included), restored as it was after.
class RawTerminal {
public:
    RawTerminal() {
        if (::tcgetattr(STDIN_FILENO, &saved_) != 0) return;
        termios raw = saved_;
        ::cfmakeraw(&raw);
        active_ = ::tcsetattr(STDIN_FILENO, TCSADRAIN, &raw) == 0;
    }
    ~RawTerminal() {
        if (active_) ::tcsetattr(STDIN_FILENO, TCSADRAIN, &saved_);
    }
    RawTerminal(const RawTerminal&) = delete;
    RawTerminal& operator=(const RawTerminal&) = delete;

private:
    termios saved_{};
    bool active_ = false;
};

int g_console_wake = -1;  // a byte there wakes the relay: a window change or a signal to stop
volatile sig_atomic_t g_console_winch = 0, g_console_stop = 0;

// Relays this terminal to the console `id` on the peer (api/console_relay.h) until it ends:
// one thread long-polls its output onto stdout, this one sends the keys, the window size on
// SIGWINCH and an empty input every few seconds while idle (serve hangs up a console nobody
// asked about for 30 s). SIGTERM/SIGHUP/SIGINT here hang the console up. An error: the host
// stopped answering (the console is hung up there 30 s later).
Result<void> relay_console(const Peer& peer, const std::string& id) {
    const std::string base = "/api/v1/consoles/" + id;
    auto output_conn = PeerConnection::open(peer, std::chrono::seconds(30));  // > the output poll's 20 s
    auto input_conn = PeerConnection::open(peer, std::chrono::seconds(15));
    if (!output_conn) return std::unexpected(output_conn.error());
    if (!input_conn) return std::unexpected(input_conn.error());
    int wake[2];
    if (::pipe2(wake, O_CLOEXEC | O_NONBLOCK) != 0) return fail_errno("console: pipe", errno);
    Fd wake_read(wake[0]), wake_write(wake[1]);
    g_console_wake = wake[1];
    struct sigaction on_signal {};
    on_signal.sa_handler = [](int sig) {
        (sig == SIGWINCH ? g_console_winch : g_console_stop) = 1;
        (void)!::write(g_console_wake, "w", 1);
    };
    for (int sig : {SIGWINCH, SIGTERM, SIGHUP, SIGINT}) ::sigaction(sig, &on_signal, nullptr);

    std::atomic<bool> ended = false;
    std::string output_error;  // set by the reader before `ended`
    std::thread reader([&] {
        for (;;) {
            std::string bytes;
            auto a = output_conn->send("GET", base + "/output", {}, {}, &bytes);
            if (!a) {
                output_error = a.error().message;
            } else if (a->status == 200) {
                auto written = write_all(STDOUT_FILENO, bytes, "stdout");
                if (written) continue;
                output_error = written.error().message;
            } else if (a->status == 204) {
                continue;
            } else if (a->status != 410) {  // 410: the shell ended
                output_error = "console: HTTP " + std::to_string(a->status) + " " + quote_input(bytes.substr(0, 300));
            }
            break;
        }
        ended = true;
        (void)!::write(wake[1], "e", 1);
    });
    RawTerminal raw;
    std::string failure;
    auto send = [&](const std::string& path, const std::string& body, const char* type) {
        auto a = input_conn->send("POST", base + path, body, type);
        if (!a) failure = a.error().message;
        return a && a->status == 204;  // else the console ended (410, 404): the reader says so
    };
    for (bool going = true; going && !ended && !g_console_stop;) {
        pollfd p[2] = {{STDIN_FILENO, POLLIN, 0}, {wake_read.get(), POLLIN, 0}};
        int n = ::poll(p, 2, 10000);
        if (n < 0 && errno != EINTR) break;
        if (n == 0) going = send("/input", "", "application/octet-stream");  // still here
        if (n > 0 && p[1].revents) {
            char drain[64];
            while (::read(wake_read.get(), drain, sizeof drain) > 0) {
            }
        }
        if (g_console_winch) {
            g_console_winch = 0;
            winsize ws{};
            if (::ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col)
                going = send("/resize", json{{"rows", ws.ws_row}, {"cols", ws.ws_col}}.dump(), "application/json");
        }
        if (n > 0 && p[0].revents) {
            char keys[4096];
            ssize_t got = ::read(STDIN_FILENO, keys, sizeof keys);
            if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN)) break;  // no terminal any more
            if (got > 0) going = send("/input", std::string(keys, static_cast<size_t>(got)), "application/octet-stream");
        }
    }
    if (!ended) {  // stopped here (a signal, the terminal gone) or the host stopped answering
        if (failure.empty()) (void)input_conn->send("DELETE", base);
        else output_conn->stop();
    }
    reader.join();
    g_console_wake = -1;
    for (int sig : {SIGWINCH, SIGTERM, SIGHUP, SIGINT}) ::signal(sig, SIG_DFL);
    if (!failure.empty()) return fail(failure);
    if (!output_error.empty()) return fail(output_error);
    return {};
}

// `console DOMAIN [--user U]` through the cluster: POST /api/v1/jails/{d}/console on the jail's
// host (admin: the cluster's token) with this terminal's size and TERM; the host's
// `jailctl console` runs on a pty there, relayed to this terminal; the shell's exit status is
// this one's. Like a local console it needs a terminal on stdin.
int console_in_cluster(Context& ctx, const ClusterWords& w) {
    json body = json::object();
    std::vector<std::string> command;
    auto domain = attach_words(w, {"--user"}, body, command);
    if (!domain) return report_error(ctx, "validate", domain.error());
    if (!command.empty())
        return report_error(ctx, "validate", Error{ErrorKind::BadInput, "arguments: console runs a shell; for a command: "
                                                                        "jailctl --cluster exec " + domain->str() + " -- CMD"});
    if (!::isatty(STDIN_FILENO))
        return report_error(ctx, "validate", Error{ErrorKind::BadInput, "console needs a terminal on stdin; use 'jailctl --cluster exec " +
                                                                            domain->str() + " -- CMD' in scripts"});
    winsize ws{};
    if (::ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col) body["rows"] = ws.ws_row, body["cols"] = ws.ws_col;
    const char* term = std::getenv("TERM");
    if (term && is_terminal_type(term)) body["term"] = term;
    auto at = at_jail_host(ctx, domain->str());
    if (!at) return at.error();
    auto started = peer_request(at->peer, "POST", "/api/v1/jails/" + domain->str() + "/console", body, std::chrono::seconds(60));
    if (!started) return report_error(ctx, "cluster", started.error());
    if (started->status != 202) return refused(ctx, *started, at->host);
    const std::string id = started->body.value("task", "");
    std::fprintf(stderr, "jailctl: console of %s on host %s (exit the shell to end it)\r\n", domain->str().c_str(), at->host.c_str());
    auto relayed = relay_console(at->peer, id);
    if (!relayed) return report_error(ctx, "console", Error{ErrorKind::StepFailed, relayed.error().message});
    auto t = await_task(at->peer, at->host, id);
    if (!t) return report_error(ctx, "cluster", Error{ErrorKind::StepFailed, t.error().message});
    if (t->value("state", "") != "ok") {
        std::cerr << "KO: " << task_error(*t, at->host) << std::endl;
        return task_status(*t);
    }
    const json& result = (*t)["result"];
    return result.is_object() ? result.value("exit_status", 5) : 5;
}

// One host's `renew --all` through its API, as its task ended (or why it did not run).
struct HostRenewal {
    std::string host;
    json task;          // the finished task (null when it did not start or was lost)
    std::string error;  // why it is KO ("" when OK)
};

HostRenewal renew_on(const Peer& peer, const std::string& host, const json& body) {
    HostRenewal r{host, nullptr, ""};
    auto started = peer_request(peer, "POST", "/api/v1/renew", body, std::chrono::seconds(60));
    if (!started) return r.error = started.error().message, r;
    if (started->status != 202) return r.error = refusal(*started, host).message, r;
    auto t = await_task(peer, host, started->body.value("task", ""));
    if (!t) return r.error = t.error().message, r;
    r.task = std::move(*t);
    if (task_status(r.task) != 0) r.error = task_error(r.task, host);
    return r;
}

// A host's renewal as lines: the host's verdict, then each jail's as local renew prints it.
std::vector<std::string> renewal_lines(const HostRenewal& r) {
    std::vector<std::string> lines = {"host " + r.host + ": " + (r.error.empty() ? "OK" : "KO: " + r.error)};
    const json result = r.task.is_object() && r.task["result"].is_object() ? r.task["result"] : json::object();
    if (result.contains("acme") && !result.value("acme", true)) lines.push_back("  ACME is off on " + r.host + ": nothing to renew");
    for (const auto& j : result.value("jails", json::array())) {
        if (!j.is_object()) continue;
        const std::string outcome = j.value("result", "");
        std::string line = std::string(outcome == "failed" ? "  KO  " : "  OK  ") + j.value("domain", "") + ": " + outcome;
        if (outcome == "renewed") line += ", expires " + j.value("expires", "") + " (" + j.value("detail", "") + ")";
        else if (!j.value("detail", "").empty()) line += ": " + j.value("detail", "");
        lines.push_back(line);
    }
    return lines;
}

// `renew --all [--days N]` through the cluster: every up host's own renew --all (POST
// /api/v1/renew), all at once, one task per host; each host's result is shown, and the run
// is KO when one host's is. Down hosts are named, not asked.
int renew_all_in_cluster(Context& ctx, const ClusterWords& w) {
    json body = json::object();
    for (size_t i = 0; i < w.arguments.size(); ++i) {
        const std::string& a = w.arguments[i];
        if (a == "--days" && i + 1 < w.arguments.size()) body["days"] = w.arguments[++i];
        else if (a.starts_with("--days=")) body["days"] = a.substr(7);
        else if (a == "--days") return report_error(ctx, "validate", Error{ErrorKind::BadInput, "days: needs a value"});
        else if (!a.starts_with("-"))
            return report_error(ctx, "validate", Error{ErrorKind::BadInput, "domain: name one jail, or --all for every jail"});
        else
            return report_error(ctx, "validate", Error{ErrorKind::BadInput, a.substr(0, a.find('=')).substr(2) +
                                                                                ": is not available for renew --all through the cluster"});
    }
    auto c = open_cluster(ctx);
    if (!c) return report_error(ctx, "cluster", c.error());
    std::vector<HostRenewal> runs;
    json down = json::array();
    for (const auto& [name, _] : c->view.hosts) {
        if (c->view.alive.contains(name)) runs.push_back({name, nullptr, ""});
        else down.push_back(name);
    }
    if (runs.empty()) return report_error(ctx, "cluster", Error{ErrorKind::HostNotReady, "no host of the cluster is up (is serve running on them?)"});
    std::vector<std::thread> workers;
    for (auto& r : runs) workers.emplace_back([&r, &c, &body] { r = renew_on(peer_of(c->view, r.host), r.host, body); });
    for (auto& t : workers) t.join();

    size_t failed = 0;
    json hosts = json::array();
    std::vector<std::string> lines;
    for (const auto& r : runs) {
        failed += r.error.empty() ? 0 : 1;
        const json result = r.task.is_object() && r.task["result"].is_object() ? r.task["result"] : json::object();
        json h = {{"host", r.host}, {"result", r.error.empty() ? "OK" : "KO"}, {"acme", result.value("acme", json())},
                  {"jails", result.value("jails", json::array())}, {"task", r.task.is_object() ? r.task.value("id", "") : ""}};
        if (!r.error.empty()) h["error"] = r.error;
        hosts.push_back(std::move(h));
        for (auto& l : renewal_lines(r)) lines.push_back(std::move(l));
    }
    for (const auto& d : down) lines.push_back("host " + d.get<std::string>() + ": down (its serve is not running): not renewed");
    if (failed == 0) return report_ok(ctx, {{"hosts", hosts}, {"down", down}}, lines);
    const std::string why = std::to_string(failed) + " of " + std::to_string(runs.size()) + " hosts failed";
    if (ctx.options.json)
        std::cout << json{{"result", "KO"}, {"hosts", hosts}, {"down", down}, {"error", {{"step", "renew"}, {"message", why}}}}.dump(2)
                  << std::endl;
    else for (const auto& l : lines) std::cout << l << "\n";
    std::cerr << "KO: renew: " << why << " (see above)" << std::endl;
    return static_cast<int>(ErrorKind::StepFailed);
}

// The verbs --cluster runs, for the refusal of any other word.
std::string routed_verbs() {
    std::string routed = "status, backups, export, alias list, credentials";  // exec, console: in the action table
    for (const auto& spec : api::action_table()) routed += ", " + spec.verb;
    return routed;
}

}  // namespace

int run_in_cluster(Context& ctx, const std::vector<std::string>& args, const std::string& wanted_host) {
    const ClusterWords w = classify_cluster_words(verb_words(args));
    const bool new_jail = w.verb == "create" || w.verb == "import-site" || w.verb == "import" || w.verb == "restore";
    if (!wanted_host.empty() && !new_jail)
        return report_error(ctx, "validate", Error{ErrorKind::BadInput, "host: --host chooses where a new jail goes (create, "
                                                                        "import-site, import, restore); other verbs run on the jail's host"});
    switch (w.kind) {
        case ClusterVerb::Unknown:
            return report_error(ctx, "validate", Error{ErrorKind::BadInput, "verb: '" + w.verb + "' does not run through the cluster "
                                                                            "(routed verbs: " + routed_verbs() + ")"});
        case ClusterVerb::HostLocal:
            return refuse_host_local(ctx, w);
        case ClusterVerb::Status: {
            auto domain = read_domain(w, true);
            if (!domain) return report_error(ctx, "validate", domain.error());
            return run_cluster_status(ctx, *domain);
        }
        case ClusterVerb::AliasList:
        case ClusterVerb::Credentials: {  // reads of the jail's host, not one of its tasks
            auto domain = read_domain(w, false);
            if (!domain) return report_error(ctx, "validate", domain.error());
            auto at = at_jail_host(ctx, *domain);
            if (!at) return at.error();
            return w.kind == ClusterVerb::Credentials ? credentials_in_cluster(ctx, at->peer, at->host, *domain)
                                                      : alias_list_in_cluster(ctx, at->peer, at->host, *domain);
        }
        case ClusterVerb::Backups: {
            auto domain = read_domain(w, true);
            if (!domain) return report_error(ctx, "validate", domain.error());
            return backups_in_cluster(ctx, *domain);
        }
        case ClusterVerb::Export:
            return export_in_cluster(ctx, w);
        case ClusterVerb::Exec:
            return exec_in_cluster(ctx, w);
        case ClusterVerb::Console:
            return console_in_cluster(ctx, w);
        case ClusterVerb::RenewAll:
            return renew_all_in_cluster(ctx, w);
        case ClusterVerb::Action:
            break;
    }
    std::vector<std::string> words = args;
    std::string site;
    if (w.verb == "import-site") {
        auto from = take_from(words);
        if (!from) return report_error(ctx, "validate", from.error());
        site = std::filesystem::absolute(*from).lexically_normal().string();
        struct stat st {};
        std::string bad = from->empty()                        ? "is empty"
                          : ::stat(site.c_str(), &st) != 0        ? site + ": " + std::strerror(errno)
                          : !S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode) ? site + " is neither a directory nor a file"
                                                                         : "";
        if (!bad.empty()) return report_error(ctx, "validate", Error{ErrorKind::BadInput, "from: " + bad});
    }
    uint64_t archive_size = 0;
    if (w.verb == "import" || w.verb == "restore") {  // FILE is sent; its manifest names the jail unless the words do
        words = verb_words(args);
        auto file = take_archive(words);
        if (!file) return report_error(ctx, "validate", file.error());
        site = std::filesystem::absolute(*file).lexically_normal().string();
        auto manifest = read_manifest(site);
        if (!manifest) return report_error(ctx, "validate", Error{ErrorKind::BadInput, "file: " + manifest.error().message});
        auto given = [&](const std::string& option) {
            return std::ranges::any_of(words, [&](const auto& x) { return x == option || x.starts_with(option + "="); });
        };
        if (!given("--domain")) words.push_back("--domain=" + manifest->domain);
        if (!given("--ip")) words.push_back("--ip=" + manifest->ip);
        archive_size = manifest->size_bytes;
    }
    auto r = route(words);
    if (!r) return report_error(ctx, "validate", r.error());
    r->site = site;
    r->archive_size = archive_size;
    auto m = load_membership(ctx.paths.root);
    if (!m) return report_error(ctx, "validate", m.error());
    if (!*m)
        return report_error(ctx, "validate", Error{ErrorKind::HostNotReady, "--cluster: this host is in no cluster "
                                                                            "(`jailctl cluster init` or `join` first)"});
    auto etcd = open_store(**m);
    if (!etcd) return report_error(ctx, "validate", etcd.error());
    auto v = read_cluster(*etcd);
    if (!v) return report_error(ctx, "cluster", v.error());
    if (r->spec->action == "restore" && r->body.value("replace", false)) {  // the jail's own host replaces it
        auto jail = jail_host(*etcd, *v, r->domain);
        if (!jail) return report_error(ctx, "validate", jail.error());
        if (!wanted_host.empty() && wanted_host != jail->host)
            return report_error(ctx, "validate", Error{ErrorKind::BadInput, "host: restore --replace runs on the jail's host, " + jail->host});
        Peer peer = peer_of(*v, jail->host);
        auto started = start_with_upload(peer, jail->host, *r);
        if (!started) return report_error(ctx, "cluster", started.error());
        if (started->status != 202) return refused(ctx, *started, jail->host);
        return follow(ctx, peer, jail->host, started->body.value("task", ""));
    }
    if (new_jail) return create_in_cluster(ctx, *etcd, *v, *r, wanted_host);

    auto jail = jail_host(*etcd, *v, r->domain);
    if (!jail) return report_error(ctx, "validate", jail.error());
    const std::string host = jail->host, action = r->spec->action;
    std::string name_claim;  // alias add: the names/ value this run wrote, released on a KO
    if (action == "alias-add" || action == "alias-remove") {
        auto name = parse_alias(r->body.value("name", ""));
        if (!name) return report_error(ctx, "validate", name.error());
        r->body["name"] = *name;
        if (action == "alias-add") {
            auto claimed = claim_name(*etcd, r->domain, *name);
            if (!claimed) return report_error(ctx, "validate", claimed.error());
            name_claim = *claimed;
        }
    }
    Peer peer = peer_of(*v, host);
    std::string path = "/api/v1/jails/" + r->domain;  // a domain has no character that needs escaping in a path
    const int status = [&] {
        Result<PeerAnswer> started;
        if (action == "destroy")
            started = peer_request(peer, "DELETE", path + (r->body.value("force", false) ? "?force=true" : ""), nullptr,
                                   std::chrono::seconds(60));
        else
            started = peer_request(peer, "POST", path + "/" + action, r->body, std::chrono::seconds(60));
        if (!started) return report_error(ctx, "cluster", started.error());
        if (started->status != 202) return refused(ctx, *started, host);
        return follow(ctx, peer, host, started->body.value("task", ""));
    }();
    if (status != 0 && !name_claim.empty()) (void)etcd->remove_if(keys::name(r->body["name"].get<std::string>()), name_claim);
    if (status == 0 && action == "alias-remove") release_names(*etcd, r->domain, r->body["name"].get<std::string>());
    if (status == 0 && action == "destroy") {
        // The host's agent unpublishes it too, but only at its next refresh: the name and the
        // address are free for the cluster as soon as destroy says OK; so are its aliases.
        std::string ip = jail->record.value("ip", "");
        (void)etcd->remove(keys::jail(r->domain));
        if (!ip.empty()) (void)etcd->remove(keys::ip(ip));
        (void)etcd->remove(keys::by_host(host) + r->domain);
        release_names(*etcd, r->domain, "");
    }
    return status;
}

int run_move(Context& ctx, const std::string& domain_input, const std::string& to) {
    auto domain = Domain::parse(domain_input);
    if (!domain) return report_error(ctx, "validate", domain.error());
    auto c = open_cluster(ctx);
    if (!c) return report_error(ctx, "cluster", c.error());
    auto moved = move_jail(c->etcd, c->view, domain->str(), to);
    if (!moved) return report_error(ctx, "move", moved.error());
    return report_ok(ctx, *moved, move_lines(*moved));
}

int run_evacuate(Context& ctx, const std::string& host) {
    auto c = open_cluster(ctx);
    if (!c) return report_error(ctx, "cluster", c.error());
    if (!c->view.hosts.contains(host))
        return report_error(ctx, "validate", Error{ErrorKind::BadInput, "host: no host " + quote_input(host) + " in the cluster"});
    // The jails/ keys, not by-host/: a jail created moments ago is claimed there at once,
    // while its host's agent adds by-host/ only at its next refresh.
    auto listed = c->etcd.list(keys::jails());
    if (!listed) return report_error(ctx, "cluster", listed.error());
    std::vector<std::string> domains;
    for (const auto& kv : *listed)
        if (json::parse(kv.value, nullptr, false).value("host", "") == host) domains.push_back(kv.key.substr(keys::jails().size()));
    json moved = json::array();
    std::vector<std::string> lines;
    for (const auto& domain : domains) {
        auto v = read_cluster(c->etcd);  // each move changes the capacities placement reads
        if (!v) return report_error(ctx, "cluster", v.error());
        ClusterView others = *v;  // placement among the other hosts
        others.alive.erase(host);
        auto jail = c->etcd.get(keys::jail(domain));
        auto size = jail && *jail ? json::parse((*jail)->value, nullptr, false).value("size_bytes", uint64_t{0}) : 0;
        auto to = place(others, size);
        auto r = to ? move_jail(c->etcd, *v, domain, *to) : Result<json>(std::unexpected(to.error()));
        if (!r) {
            // What moved stays moved; the rest stays here and the operator sees where it stopped.
            std::fprintf(stderr, "cluster: evacuate %s stopped at %s after %zu moved\n", host.c_str(), domain.c_str(), moved.size());
            return report_error(ctx, "move", Error{r.error().kind, domain + ": " + r.error().message});
        }
        lines.push_back(domain + " -> " + r->value("to", ""));
        moved.push_back(std::move(*r));
    }
    lines.insert(lines.begin(), "host:      " + host + " (" + std::to_string(moved.size()) + " jails moved)");
    return report_ok(ctx, {{"host", host}, {"moved", moved}}, lines);
}

int run_recover(Context& ctx, const std::string& host) {
    auto c = open_cluster(ctx);
    if (!c) return report_error(ctx, "cluster", c.error());
    if (!c->view.hosts.contains(host))
        return report_error(ctx, "validate", Error{ErrorKind::BadInput, "host: no host " + quote_input(host) + " in the cluster"});
    if (c->view.alive.contains(host))
        return report_error(ctx, "validate", Error{ErrorKind::Conflict, "host: " + host + " is up (its lease is alive): "
                                                                        "`jailctl evacuate " + host + "` moves its jails"});
    auto listed = c->etcd.list(keys::jails());
    if (!listed) return report_error(ctx, "cluster", listed.error());
    json recovered = json::array(), failed = json::array();
    std::vector<std::string> lines;
    for (const auto& kv : *listed) {
        const json record = json::parse(kv.value, nullptr, false);
        if (record.value("host", "") != host) continue;
        const std::string domain = kv.key.substr(keys::jails().size()), ip = record.value("ip", "");
        auto attempt = [&]() -> Result<json> {
            // Its latest backup in the shared directory (names are UTC stamps: the last sorts last).
            std::string latest;
            std::error_code ec;
            for (const auto& e : std::filesystem::directory_iterator(ctx.paths.backups + "/" + domain, ec)) {
                const std::string name = e.path().filename().string();
                if (!name.starts_with(".") && name.ends_with(".tar.zst") && e.is_regular_file(ec) && e.path().string() > latest)
                    latest = e.path().string();
            }
            if (latest.empty())
                return fail(ErrorKind::HostNotReady, "no backup of " + domain + " in " + ctx.paths.backups + "/" + domain +
                                                         " (host.conf backup_dir: a directory every host shares)");
            auto v = read_cluster(c->etcd);
            if (!v) return std::unexpected(v.error());
            auto to = place(*v, record.value("size_bytes", uint64_t{0}));
            if (!to) return std::unexpected(to.error());
            std::fprintf(stderr, "cluster: recovering %s on %s from %s\n", domain.c_str(), to->c_str(), latest.c_str());
            auto t = run_task(peer_of(*v, *to), *to, "POST", "/api/v1/cluster/restore", {{"domain", domain}, {"file", latest}});
            if (!t) return std::unexpected(t.error());
            if (auto r = reassign(c->etcd, domain, record, *to); !r) return std::unexpected(r.error());
            json result = (*t)["result"].is_object() ? (*t)["result"] : json::object();
            return json{{"domain", domain}, {"host", *to}, {"backup", latest}, {"ftp", result["ftp"]}};
        };
        auto r = attempt();
        if (r) {
            lines.push_back(domain + " -> " + r->value("host", "") + " (from " + r->value("backup", "") + ")");
            recovered.push_back(std::move(*r));
        } else {  // the others are still recovered; the exit status says one was not
            lines.push_back(domain + ": NOT recovered: " + r.error().message);
            failed.push_back({{"domain", domain}, {"error", r.error().message}});
        }
    }
    lines.insert(lines.begin(), "host:      " + host + " (" + std::to_string(recovered.size()) + " jails recovered, " +
                                    std::to_string(failed.size()) + " not)");
    json fields = {{"host", host}, {"recovered", recovered}, {"failed", failed}};
    if (!failed.empty()) {
        if (ctx.options.json) std::cout << json{{"result", "KO"}, {"host", host}, {"recovered", recovered}, {"failed", failed}}.dump(2) << std::endl;
        else for (const auto& l : lines) std::cout << l << "\n";
        std::cerr << "KO: recover: " << failed.size() << " of " << failed.size() + recovered.size() << " jails of " << host
                  << " not recovered (see above)" << std::endl;
        return static_cast<int>(ErrorKind::StepFailed);
    }
    return report_ok(ctx, fields, lines);
}

}  // namespace jailctl
