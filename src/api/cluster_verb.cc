// jailctl cluster init|join|leave|hosts: this host's membership of a cluster (docs/FLEET.md).
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <algorithm>
#include <map>
#include <memory>
#include <thread>

#include "api/auth.h"
#include "api/serve.h"
#include "api/cluster_route.h"
#include "cluster/membership.h"
#include "task/log.h"
#include "cluster/peer.h"
#include "cluster/pools.h"
#include "services/certificate.h"
#include "util/random.h"
#include "util/text.h"

namespace jailctl {
namespace {

// The local API token the peers present (its secret lives in the cluster record).
constexpr const char* kClusterToken = "cluster";

struct ClusterArgs {
    std::vector<std::string> etcd;
    std::string etcd_ca, name, api;
};

// This machine's host name, as a cluster host name: its first label, lowercased.
std::string default_host_name() {
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0) return "";
    std::string name(buf);
    name = name.substr(0, name.find('.'));
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return name;
}

Result<Membership> membership_from(ClusterArgs& args) {
    if (args.name.empty()) args.name = default_host_name();
    if (auto r = check_host_name(args.name); !r) return std::unexpected(r.error());
    if (args.api.empty()) return fail_input("api", "is required: the https://ADDRESS:PORT where the peers reach this host's serve");
    if (auto r = check_api_url(args.api); !r) return std::unexpected(r.error());
    if (args.etcd.empty()) return fail_input("etcd", "is required: the etcd members' client URLs, comma-separated");
    Membership m{.host = args.name, .api_url = args.api, .etcd = args.etcd, .etcd_ca = args.etcd_ca};
    if (auto store = open_store(m); !store) return std::unexpected(store.error());
    return m;
}

Result<void> not_yet_member(const Context& ctx) {
    auto current = load_membership(ctx.paths.root);
    if (!current) return std::unexpected(current.error());
    if (*current)
        return fail(ErrorKind::Conflict, "this host is already " + (*current)->host + " in cluster " +
                                             (*current)->cluster_id + " (`jailctl cluster leave` first)");
    return {};
}

Result<Membership> member_of(const Context& ctx) {
    auto current = load_membership(ctx.paths.root);
    if (!current) return std::unexpected(current.error());
    if (!*current)
        return fail(ErrorKind::HostNotReady, "this host is in no cluster: `jailctl cluster init` on the first host, "
                                             "`jailctl cluster join` on the others");
    return **current;
}

// Registers this host under /jailctl/hosts/, the cluster's token as a local API token, and
// member.json. Joining again with the same API URL and certificate is a no-op that succeeds.
int join(Context& ctx, Membership m, Etcd& etcd) {
    auto record = etcd.get(keys::cluster());
    if (!record) return report_error(ctx, "cluster", record.error());
    if (!*record)
        return report_error(ctx, "cluster", Error{ErrorKind::HostNotReady, "no cluster in etcd at " + etcd.endpoints().front() +
                                                                               ": run `jailctl cluster init` on the first host"});
    auto cluster = nlohmann::json::parse((*record)->value, nullptr, false);
    if (cluster.is_discarded() || !cluster.contains("id") || !cluster.contains("token"))
        return report_error(ctx, "cluster", Error{ErrorKind::HostNotReady, keys::cluster() + " in etcd is not a jailctl cluster record"});
    m.cluster_id = cluster["id"].get<std::string>();

    std::string api_host = m.api_url.substr(8, m.api_url.rfind(':') - 8);
    auto files = ensure_certificate(ctx, api_host);
    if (!files) return report_error(ctx, "certificate", files.error());
    std::ifstream in(files->first, std::ios::binary);
    auto fingerprint = certificate_fingerprint({std::istreambuf_iterator<char>(in), {}});
    if (!fingerprint) return report_error(ctx, "certificate", fingerprint.error());

    nlohmann::json host = {{"api", m.api_url}, {"fingerprint", *fingerprint}, {"joined", rfc3339_utc(std::chrono::system_clock::now())}};
    auto claimed = etcd.create({{keys::host(m.host), host.dump()}});
    if (!claimed) return report_error(ctx, "cluster", claimed.error());
    if (!*claimed) {
        auto holder = etcd.get(keys::host(m.host));
        if (!holder) return report_error(ctx, "cluster", holder.error());
        auto held = *holder ? nlohmann::json::parse((*holder)->value, nullptr, false) : nlohmann::json();
        bool same = held.is_object() && held.value("api", "") == m.api_url && held.value("fingerprint", "") == *fingerprint;
        if (!same)
            return report_error(ctx, "validate", Error{ErrorKind::Conflict, "name: host name '" + m.host + "' is taken by the host at " +
                                                                                 (held.is_object() ? held.value("api", "?") : "?") +
                                                                                 " (choose another --name, or `jailctl cluster leave` there)"});
    }
    auto undo = [&] { (void)etcd.remove_if(keys::host(m.host), host.dump()); };
    (void)ctx.registry().remove_token(kClusterToken);
    if (auto r = ctx.registry().add_token(kClusterToken, "admin", api::token_hash(cluster["token"].get<std::string>())); !r) {
        undo();
        return report_error(ctx, "token", r.error());
    }
    if (auto r = save_membership(ctx.paths.root, m); !r) {
        undo();
        (void)ctx.registry().remove_token(kClusterToken);
        return report_error(ctx, "membership", r.error());
    }
    return report_ok(ctx, {{"cluster", m.cluster_id}, {"host", m.host}, {"api", m.api_url}, {"fingerprint", *fingerprint}},
                     {"cluster:   " + m.cluster_id, "host:      " + m.host, "api:       " + m.api_url,
                      "sha256 fingerprint: " + *fingerprint,
                      "next:      run `jailctl serve --listen ADDRESS:PORT` here: it keeps this host up in the cluster"});
}

int run_init(Context& ctx, ClusterArgs args) {
    auto m = membership_from(args);
    if (!m) return report_error(ctx, "validate", m.error());
    if (auto r = not_yet_member(ctx); !r) return report_error(ctx, "validate", r.error());
    if (auto r = ctx.open(); !r) return report_error(ctx, "validate", r.error());
    auto etcd = open_store(*m);
    uint8_t id[8];
    random_bytes(id);
    auto token = api::new_token();
    if (!token) return report_error(ctx, "cluster", token.error());
    nlohmann::json cluster = {{"id", hex(std::span<const unsigned char>(id))}, {"created", rfc3339_utc(std::chrono::system_clock::now())}, {"token", *token}};
    auto created = etcd->create({{keys::cluster(), cluster.dump()}});
    if (!created) return report_error(ctx, "cluster", created.error());
    if (!*created)
        return report_error(ctx, "validate", Error{ErrorKind::Conflict, "etcd at " + m->etcd.front() +
                                                                           " already holds a cluster: `jailctl cluster join` it"});
    return join(ctx, *m, *etcd);
}

int run_join(Context& ctx, ClusterArgs args) {
    auto m = membership_from(args);
    if (!m) return report_error(ctx, "validate", m.error());
    if (auto r = not_yet_member(ctx); !r) return report_error(ctx, "validate", r.error());
    if (auto r = ctx.open(); !r) return report_error(ctx, "validate", r.error());
    auto etcd = open_store(*m);
    return join(ctx, *m, *etcd);
}

int run_leave(Context& ctx) {
    auto m = member_of(ctx);
    if (!m) return report_error(ctx, "validate", m.error());
    if (auto r = ctx.open(); !r) return report_error(ctx, "validate", r.error());
    auto etcd = open_store(*m);
    if (!etcd) return report_error(ctx, "validate", etcd.error());
    auto jails = etcd->list(keys::by_host(m->host));
    if (!jails) return report_error(ctx, "cluster", jails.error());
    if (!jails->empty())
        return report_error(ctx, "validate", Error{ErrorKind::Conflict, m->host + " still holds " + std::to_string(jails->size()) +
                                                                            " of the cluster's jails: move them to other hosts first"});
    for (const auto& key : {keys::alive(m->host), keys::host(m->host)})
        if (auto r = etcd->remove(key); !r) return report_error(ctx, "cluster", r.error());
    (void)ctx.registry().remove_token(kClusterToken);
    if (auto r = remove_membership(ctx.paths.root); !r) return report_error(ctx, "membership", r.error());
    return report_ok(ctx, {{"cluster", m->cluster_id}, {"host", m->host}},
                     {"left:      cluster " + m->cluster_id + " (this host is single again; a running serve stops announcing it)"});
}

std::string gib(const nlohmann::json& v) {
    if (!v.is_number()) return "-";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1fG", v.get<double>() / (1024.0 * 1024 * 1024));
    return buf;
}

int run_hosts(Context& ctx) {
    auto m = member_of(ctx);
    if (!m) return report_error(ctx, "validate", m.error());
    auto etcd = open_store(*m);
    if (!etcd) return report_error(ctx, "validate", etcd.error());
    auto hosts = etcd->list(keys::hosts());
    auto alive = hosts ? etcd->list(keys::alive_all()) : Result<std::vector<KeyValue>>{};
    if (!hosts || !alive) return report_error(ctx, "cluster", !hosts ? hosts.error() : alive.error());
    auto out = nlohmann::json::array();
    for (const auto& kv : *hosts) {
        std::string name = kv.key.substr(keys::hosts().size());
        auto host = nlohmann::json::parse(kv.value, nullptr, false);
        if (!host.is_object()) host = nlohmann::json::object();
        nlohmann::json row = {{"name", name}, {"api", host.value("api", "")}, {"fingerprint", host.value("fingerprint", "")},
                              {"joined", host.value("joined", "")}, {"state", "down"}};
        for (const auto& a : *alive) {
            if (a.key != keys::alive(name)) continue;
            auto cap = nlohmann::json::parse(a.value, nullptr, false);
            row["state"] = "up";
            if (cap.is_object())
                for (const char* f : {"jails", "disk_free", "memory_free", "version"})
                    if (cap.contains(f)) row[f] = cap[f];
        }
        out.push_back(row);
    }
    if (ctx.options.json) {
        std::cout << nlohmann::json{{"cluster", m->cluster_id}, {"this_host", m->host}, {"hosts", out}}.dump(2) << std::endl;
        return 0;
    }
    std::printf("cluster %s\n%-20s %-5s %-5s %-10s %-10s %s\n", m->cluster_id.c_str(), "HOST", "STATE", "JAILS", "DISK FREE",
                "MEM FREE", "API");
    for (const auto& row : out) {
        std::string name = row["name"].get<std::string>() + (row["name"] == m->host ? " *" : "");
        std::string jails = row.contains("jails") ? std::to_string(row["jails"].get<int64_t>()) : "-";
        std::printf("%-20s %-5s %-5s %-10s %-10s %s\n", name.c_str(), row["state"].get<std::string>().c_str(), jails.c_str(),
                    gib(row.value("disk_free", nlohmann::json())).c_str(), gib(row.value("memory_free", nlohmann::json())).c_str(),
                    row["api"].get<std::string>().c_str());
    }
    return 0;
}

// The cluster's store, for a verb that needs nothing else of the membership.
Result<Etcd> member_store(const Context& ctx) {
    auto m = member_of(ctx);
    if (!m) return std::unexpected(m.error());
    return open_store(*m);
}

// `cluster pool add|remove RANGE`: the pool is written to (or removed from) etcd only.
int run_pool_change(Context& ctx, const std::string& input, bool add) {
    auto pool = IpRange::parse(input);
    if (!pool) return report_error(ctx, "validate", pool.error());
    auto etcd = member_store(ctx);
    if (!etcd) return report_error(ctx, "validate", etcd.error());
    if (auto r = add ? add_pool(*etcd, *pool) : remove_pool(*etcd, *pool); !r)
        return report_error(ctx, r.error().kind == ErrorKind::BadInput || r.error().kind == ErrorKind::Conflict ? "validate" : "cluster",
                            r.error());
    return report_ok(ctx, {{"range", pool->str()}, {"size", pool->size()}},
                     {std::string(add ? "added:     " : "removed:   ") + pool->str() + " (" + std::to_string(pool->size()) +
                      " addresses)"});
}

// `cluster pool list`: each pool with its size and how many of its addresses ips/ holds.
int run_pool_list(Context& ctx) {
    auto etcd = member_store(ctx);
    if (!etcd) return report_error(ctx, "validate", etcd.error());
    auto pools = read_pools(*etcd);
    auto used = pools ? used_addresses(*etcd) : Result<std::map<Ipv4, std::string>>{};
    if (!pools || !used) return report_error(ctx, "cluster", !pools ? pools.error() : used.error());
    auto rows = nlohmann::json::array();
    for (const auto& pool : *pools) {
        const uint64_t n = used_in(*used, pool).size();
        rows.push_back({{"range", pool.str()}, {"first", pool.first().str()}, {"last", pool.last().str()},
                        {"size", pool.size()}, {"used", n}, {"free", pool.size() - n}});
    }
    if (ctx.options.json) {
        std::cout << nlohmann::json{{"pools", rows}}.dump(2) << std::endl;
        return 0;
    }
    std::printf("%-32s %6s %6s %6s\n", "POOL", "SIZE", "USED", "FREE");
    for (const auto& row : rows)
        std::printf("%-32s %6llu %6llu %6llu\n", row["range"].get<std::string>().c_str(),
                    static_cast<unsigned long long>(row["size"].get<uint64_t>()),
                    static_cast<unsigned long long>(row["used"].get<uint64_t>()),
                    static_cast<unsigned long long>(row["free"].get<uint64_t>()));
    return 0;
}

}  // namespace

// One listing of every host's jails: what etcd knows (host, ip, size), with the live state
// asked of each up host's serve (all at once, 2 s each); a jail whose host is down is "?".
// With `only` (a domain), that jail's row only, asked of its host only.
int run_cluster_status(Context& ctx, const std::string& only) {
    auto m = member_of(ctx);
    if (!m) return report_error(ctx, "validate", m.error());
    auto etcd = open_store(*m);
    if (!etcd) return report_error(ctx, "validate", etcd.error());
    auto record = etcd->get(keys::cluster());
    auto hosts = record ? etcd->list(keys::hosts()) : Result<std::vector<KeyValue>>{};
    auto alive = hosts ? etcd->list(keys::alive_all()) : Result<std::vector<KeyValue>>{};
    auto jails = alive ? etcd->list(keys::jails()) : Result<std::vector<KeyValue>>{};
    for (const auto* r : {&hosts, &alive, &jails})
        if (!*r) return report_error(ctx, "cluster", r->error());
    if (!only.empty()) {
        std::erase_if(*jails, [&](const KeyValue& kv) { return kv.key != keys::jail(only); });
        if (jails->empty())
            return report_error(ctx, "validate", Error{ErrorKind::BadInput, "domain: no jail " + quote_input(only) +
                                                                                " in the cluster (see `jailctl cluster status`)"});
    }
    std::string only_host;  // with `only`: the one host to ask
    if (auto held = nlohmann::json::parse(only.empty() ? "{}" : jails->front().value, nullptr, false); held.is_object())
        only_host = held.value("host", "");
    if (!record) return report_error(ctx, "cluster", record.error());
    auto cluster = *record ? nlohmann::json::parse((*record)->value, nullptr, false) : nlohmann::json();
    if (!cluster.is_object() || !cluster.contains("token"))
        return report_error(ctx, "cluster", Error{ErrorKind::HostNotReady, keys::cluster() + " in etcd is missing or not a jailctl cluster record"});

    // Each up host's live view, fetched in parallel: host -> {domain -> status object}.
    struct HostView {
        Peer peer;
        std::map<std::string, nlohmann::json> jails;
        std::string error;
    };
    std::map<std::string, HostView> views;
    for (const auto& kv : *hosts) {
        std::string name = kv.key.substr(keys::hosts().size());
        bool up = std::ranges::any_of(*alive, [&](const KeyValue& a) { return a.key == keys::alive(name); });
        auto h = nlohmann::json::parse(kv.value, nullptr, false);
        if (!up || !h.is_object()) continue;
        if (!only.empty() && name != only_host) continue;
        views[name].peer = {h.value("api", ""), h.value("fingerprint", ""), cluster["token"].get<std::string>()};
    }
    std::vector<std::thread> askers;
    for (auto& [name, view] : views) {
        askers.emplace_back([&view] {
            auto got = peer_get(view.peer, "/api/v1/jails");
            if (!got) {
                view.error = got.error().message;
                return;
            }
            for (const auto& j : got->value("jails", nlohmann::json::array()))
                if (j.is_object() && j.contains("domain")) view.jails[j["domain"].get<std::string>()] = j;
        });
    }
    for (auto& t : askers) t.join();

    auto rows = nlohmann::json::array();
    for (const auto& kv : *jails) {
        auto v = nlohmann::json::parse(kv.value, nullptr, false);
        if (!v.is_object()) continue;
        std::string domain = kv.key.substr(keys::jails().size()), host = v.value("host", "");
        nlohmann::json row = {{"domain", domain}, {"host", host}, {"ip", v.value("ip", "")},
                              {"size_bytes", v.value("size_bytes", 0)}, {"state", "unknown"}};
        auto view = views.find(host);
        if (view == views.end()) {
            row["reason"] = "host " + host + " is down (no lease)";
        } else if (!view->second.error.empty()) {
            row["reason"] = view->second.error;
        } else if (auto live = view->second.jails.find(domain); live != view->second.jails.end()) {
            row = live->second;
            row["host"] = host;
        } else {
            row["reason"] = "not on host " + host + " any more";
        }
        rows.push_back(row);
    }
    if (ctx.options.json) {
        std::cout << nlohmann::json{{"cluster", m->cluster_id}, {"jails", rows}}.dump(2) << std::endl;
        return 0;
    }
    std::printf("Jail status (*=running, !=not configured, ?=unknown: its host is down or did not answer):\n");
    for (const auto& row : rows) {
        std::string state = row.value("state", "unknown");
        char marker = state == "running" ? '*' : state == "stopped" ? ' ' : state == "unknown" ? '?' : '!';
        std::printf("%c%s (%s) on %s\n", marker, row.value("domain", "").c_str(), row.value("ip", "").c_str(),
                    row.value("host", "").c_str());
    }
    return 0;
}

void add_cluster(CLI::App& app, Context& ctx, Action& action) {
    auto* cluster = app.add_subcommand("cluster", "Many hosts as one: membership of an etcd-backed cluster (docs/FLEET.md)");
    cluster->require_subcommand(1);
    auto args = std::make_shared<ClusterArgs>();
    auto membership_options = [args](CLI::App* cmd) {
        cmd->add_option("--etcd", args->etcd, "The etcd members' client URLs, comma-separated (http(s)://HOST:PORT)")
            ->delimiter(',')
            ->required();
        cmd->add_option("--etcd-ca", args->etcd_ca, "CA certificate of https etcd members");
        cmd->add_option("--api", args->api, "https://ADDRESS:PORT where the other hosts reach this host's serve")->required();
        cmd->add_option("--name", args->name, "This host's name in the cluster (default: its host name's first label)");
    };
    auto* init = cluster->add_subcommand("init", "Make a new cluster in etcd and join it as its first host");
    membership_options(init);
    init->callback([&ctx, &action, args] { action = [&ctx, args] { return run_init(ctx, *args); }; });
    auto* join = cluster->add_subcommand("join", "Join the cluster held by etcd");
    membership_options(join);
    join->callback([&ctx, &action, args] { action = [&ctx, args] { return run_join(ctx, *args); }; });
    cluster->add_subcommand("leave", "Leave the cluster (refused while this host holds cluster jails)")->callback([&] {
        action = [&ctx] { return run_leave(ctx); };
    });
    cluster->add_subcommand("status", "Every host's jails in one listing; ? for jails whose host is down")->callback([&] {
        action = [&ctx] { return run_cluster_status(ctx, ""); };
    });
    // Cluster verbs on jails: always through the cluster (--cluster is implied).
    auto move_domain = std::make_shared<std::string>(), move_to = std::make_shared<std::string>();
    auto* move = app.add_subcommand("move", "Move a jail to another host of the cluster (docs/FLEET.md)");
    move->add_option("domain", *move_domain, "The jail")->required();
    move->add_option("--to", *move_to, "The host it goes to")->required();
    move->callback([&ctx, &action, move_domain, move_to] {
        ctx.options.cluster = false;
        action = [&ctx, move_domain, move_to] { return run_move(ctx, *move_domain, *move_to); };
    });
    auto evacuate_host = std::make_shared<std::string>();
    auto* evacuate = app.add_subcommand("evacuate", "Move every jail off a host of the cluster (e.g. before maintenance)");
    evacuate->add_option("host", *evacuate_host, "The host to empty")->required();
    evacuate->callback([&ctx, &action, evacuate_host] {
        ctx.options.cluster = false;
        action = [&ctx, evacuate_host] { return run_evacuate(ctx, *evacuate_host); };
    });
    auto recover_host = std::make_shared<std::string>();
    auto* recover = app.add_subcommand("recover", "Restore a dead host's jails on the others from their latest backups");
    recover->add_option("host", *recover_host, "The dead host (its lease expired)")->required();
    recover->callback([&ctx, &action, recover_host] {
        ctx.options.cluster = false;
        action = [&ctx, recover_host] { return run_recover(ctx, *recover_host); };
    });
    auto* pool = cluster->add_subcommand("pool", "The public address pools a --cluster create without --ip takes from");
    pool->require_subcommand(1);
    auto range = std::make_shared<std::string>();
    for (bool adding : {true, false}) {
        auto* change = pool->add_subcommand(adding ? "add" : "remove",
                                            adding ? "Add a pool (refused when it overlaps one)"
                                                   : "Remove a pool (refused while one of its addresses is in use)");
        change->add_option("range", *range, "FIRST-LAST, or a CIDR (its network and broadcast addresses left out)")->required();
        change->callback([&ctx, &action, range, adding] {
            action = [&ctx, range, adding] { return run_pool_change(ctx, *range, adding); };
        });
    }
    pool->add_subcommand("list", "The pools: size, used and free addresses")->callback([&] {
        action = [&ctx] { return run_pool_list(ctx); };
    });
    cluster->add_subcommand("hosts", "The cluster's hosts: up or down (lease), jails, free disk and memory")->callback([&] {
        action = [&ctx] { return run_hosts(ctx); };
    });
}

}  // namespace jailctl
