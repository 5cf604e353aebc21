#include "api/agent.h"

#include <sys/statvfs.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <set>

#include "cluster/membership.h"
#include "jail/registry.h"

namespace jailctl::api {
namespace {

uint64_t available_memory() {
    std::ifstream in("/proc/meminfo");
    std::string key;
    uint64_t kib = 0;
    std::string unit;
    while (in >> key >> kib >> unit)
        if (key == "MemAvailable:") return kib * 1024;
    return 0;
}

// What placement reads (docs/FLEET.md): free disk of the root, available memory, jail count.
nlohmann::json capacity(const std::string& root, const Result<std::vector<JailRecord>>& jails) {
    nlohmann::json c = {{"memory_free", available_memory()}, {"version", JAILCTL_VERSION}};
    struct statvfs fs{};
    if (::statvfs(root.c_str(), &fs) == 0) c["disk_free"] = static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
    if (jails) c["jails"] = jails->size();
    return c;
}

void say(const std::string& line) {
    std::fprintf(stderr, "cluster: %s\n", line.c_str());
    std::fflush(stderr);
}

Result<bool> as_written(const Result<void>& r) {
    if (!r) return std::unexpected(r.error());
    return true;
}

}  // namespace

Result<void> publish_jails(Etcd& etcd, const std::string& host, const std::vector<JailRecord>& jails,
                           std::optional<Published>& published, std::set<std::string>& reported) {
    if (!published) {
        auto current = etcd.list(keys::jails());
        if (!current) return std::unexpected(current.error());
        published.emplace();
        for (const auto& kv : *current) {
            if (value_field(kv.value, "host") != host) continue;
            std::string domain = kv.key.substr(keys::jails().size()), ip = value_field(kv.value, "ip");
            (*published)[domain] = {ip, kv.value, nlohmann::json{{"domain", domain}, {"host", host}}.dump()};
        }
    }
    Published wanted;
    for (const auto& j : jails)
        wanted[j.domain] = {j.ip,
                            nlohmann::json{{"host", host}, {"ip", j.ip}, {"size_bytes", j.size_bytes}, {"state", j.state}}.dump(),
                            nlohmann::json{{"domain", j.domain}, {"host", host}}.dump()};
    for (const auto& [domain, p] : wanted) {
        auto old = published->find(domain);
        if (old != published->end() && old->second == p) continue;
        Result<bool> written;
        if (old != published->end()) {
            // Compare-and-swap: a move or a recover may have given the record to another host
            // since the last refresh; it is not this host's to write back (nor, once this copy
            // is destroyed, to remove) any more.
            written = etcd.replace(keys::jail(domain), old->second.jail_value, p.jail_value);
            if (written && !*written) {
                if (auto r = etcd.remove(keys::by_host(host) + domain); !r) return std::unexpected(r.error());
                published->erase(old);
                continue;
            }
        } else {
            written = etcd.create({{keys::jail(domain), p.jail_value}, {keys::ip(p.ip), p.ip_value},
                                   {keys::by_host(host) + domain, ""}});
            if (written && !*written) {  // held: claimed for this host, or another host's
                auto holder = etcd.get(keys::jail(domain));
                auto ip_holder = holder ? etcd.get(keys::ip(p.ip)) : Result<std::optional<KeyValue>>{};
                if (!holder || !ip_holder) return std::unexpected(!holder ? holder.error() : ip_holder.error());
                auto host_of = [](const std::optional<KeyValue>& kv) { return kv ? value_field(kv->value, "host") : std::string(); };
                std::string other = !*holder || host_of(*holder) == host ? host_of(*ip_holder) : host_of(*holder);
                if (other.empty() || other == host) {
                    auto put = etcd.put(keys::jail(domain), p.jail_value);
                    if (put) put = etcd.put(keys::ip(p.ip), p.ip_value);
                    if (put) put = etcd.put(keys::by_host(host) + domain, "");
                    written = as_written(put);
                } else if (reported.insert(domain).second) {
                    say(domain + " (" + p.ip + ") is also on host " + other + ": not published from here (destroy one of them)");
                }
            }
        }
        if (!written) return std::unexpected(written.error());
        if (*written) (*published)[domain] = p;
    }
    for (auto it = published->begin(); it != published->end();) {
        if (wanted.contains(it->first)) {
            ++it;
            continue;
        }
        const auto& [domain, p] = *it;
        for (auto r : {etcd.remove_if(keys::jail(domain), p.jail_value), etcd.remove_if(keys::ip(p.ip), p.ip_value)})
            if (!r) return std::unexpected(r.error());
        if (auto r = etcd.remove(keys::by_host(host) + domain); !r) return std::unexpected(r.error());
        it = published->erase(it);
    }
    return {};
}

Result<void> publish_names(Etcd& etcd, const std::string& host, const std::vector<JailRecord>& jails, PublishedNames& names,
                           std::set<std::string>& reported) {
    std::map<std::string, std::string> wanted;  // alias -> its jail
    for (const auto& j : jails)
        for (const auto& alias : j.aliases) wanted[alias] = j.domain;
    for (const auto& [alias, domain] : wanted) {
        if (auto it = names.find(alias); it != names.end() && value_field(it->second, "domain") == domain) continue;
        const std::string value = nlohmann::json{{"domain", domain}}.dump();
        auto created = etcd.create({{keys::name(alias), value}});
        if (!created) return std::unexpected(created.error());
        if (*created) {
            names[alias] = value;
            continue;
        }
        auto held = etcd.get(keys::name(alias));
        if (!held) return std::unexpected(held.error());
        if (!*held) continue;  // removed meanwhile: the next refresh creates it
        const std::string holder = value_field((*held)->value, "domain");
        if (holder == domain) names[alias] = (*held)->value;
        else if (reported.insert("names/" + alias).second)
            say(alias + ", an alias of " + domain + " here, is already a name of jail " + holder +
                " in the cluster: not published from here (remove one of the two aliases)");
    }
    for (auto it = names.begin(); it != names.end();) {
        auto w = wanted.find(it->first);
        if (w != wanted.end() && value_field(it->second, "domain") == w->second) {
            ++it;
            continue;
        }
        auto jail = etcd.get(keys::jail(value_field(it->second, "domain")));
        if (!jail) return std::unexpected(jail.error());
        const std::string now_on = *jail ? value_field((*jail)->value, "host") : "";
        if (now_on.empty() || now_on == host)
            if (auto r = etcd.remove_if(keys::name(it->first), it->second); !r) return std::unexpected(r.error());
        it = names.erase(it);
    }
    return {};
}


HostAgent::HostAgent(const Context& ctx, std::string fingerprint)
    : root_(ctx.paths.root), db_(ctx.paths.db), fingerprint_(std::move(fingerprint)) {
    auto member = load_membership(root_);
    if (!member) {
        say("not refreshing this host's presence: " + member.error().message);
        return;
    }
    if (!*member) return;  // single-host mode
    thread_ = std::thread([this] { run(); });
}

HostAgent::~HostAgent() {
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void HostAgent::run() {
    auto registry = Registry::open(db_);
    int64_t lease = 0;
    std::string last_problem = "start";
    std::optional<Etcd> etcd;
    std::string host;
    std::optional<Published> published;
    std::set<std::string> reported;
    PublishedNames names;
    auto problem = [&](const std::string& what) {
        if (what != last_problem) say(what + " (retrying every " + std::to_string(kHostRefreshSeconds) + " s)");
        last_problem = what;
    };
    std::unique_lock lock(mutex_);
    while (!stop_) {
        lock.unlock();
        // Re-read each time: `cluster leave` removes the file while serve runs.
        auto member = load_membership(root_);
        if (member && !*member) {
            if (etcd && lease) (void)etcd->revoke(lease);
            say("this host left the cluster: no longer announcing it");
            return;
        }
        if (!member) {
            problem(member.error().message);
        } else {
            host = (*member)->host;
            if (!etcd) {
                auto opened = Etcd::open({.endpoints = (*member)->etcd, .ca_file = (*member)->etcd_ca,
                                          .deadline = std::chrono::seconds(2)});
                if (opened) etcd.emplace(std::move(*opened));
                else problem(opened.error().message);
            }
            if (etcd) {
                Result<void> ok;
                if (lease == 0) {
                    auto granted = etcd->grant_lease(std::chrono::seconds(kHostLeaseSeconds));
                    if (granted) lease = *granted;
                    else ok = std::unexpected(granted.error());
                }
                // One listing of the registry per refresh: the count, the jails and their aliases.
                auto jails = registry ? registry->list() : Result<std::vector<JailRecord>>(std::unexpected(registry.error()));
                if (ok) {
                    nlohmann::json value = capacity(root_, jails);
                    value["api"] = (*member)->api_url;
                    value["fingerprint"] = fingerprint_;
                    ok = etcd->put(keys::alive(host), value.dump(), lease);
                }
                if (ok && registry && !jails) ok = std::unexpected(jails.error());
                if (ok && registry) ok = publish_jails(*etcd, host, *jails, published, reported);
                if (ok && registry) ok = publish_names(*etcd, host, *jails, names, reported);
                if (ok) {
                    auto ttl = etcd->keep_alive(lease);
                    if (!ttl) ok = std::unexpected(ttl.error());
                    else if (*ttl == 0) lease = 0;  // expired meanwhile (etcd unreachable too long): a new one
                }
                if (ok && last_problem != "") {
                    say("host " + host + " is up in cluster " + (*member)->cluster_id + " (lease " +
                        std::to_string(kHostLeaseSeconds) + " s)");
                    last_problem = "";
                } else if (!ok) {
                    if (ok.error().message.find("lease not found") != std::string::npos) lease = 0;
                    problem(ok.error().message);
                }
            }
        }
        lock.lock();
        wake_.wait_for(lock, std::chrono::seconds(kHostRefreshSeconds), [this] { return stop_; });
    }
    lock.unlock();
    if (etcd && lease) {
        (void)etcd->revoke(lease);
        say("host " + host + " is down (serve stopped; lease revoked)");
    }
}

}  // namespace jailctl::api
