// This host's membership of a cluster (docs/FLEET.md): <root>/cluster/member.json, written
// by `cluster init|join`, removed by `cluster leave`. No file: the single-host mode, where
// nothing reads etcd. And the keys every host agrees on, in one place.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cluster/etcd.h"
#include "cluster/peer.h"
#include "util/result.h"

namespace jailctl {

struct Membership {
    std::string cluster_id;
    std::string host;                 // this host's name in the cluster
    std::string api_url;              // how the peers reach this host's serve: https://ADDRESS:PORT
    std::vector<std::string> etcd;    // the members' client URLs
    std::string etcd_ca;              // optional CA of https members
};

std::string membership_path(const std::string& root);
// nullopt: not in a cluster. A file that does not parse is an error naming the file.
Result<std::optional<Membership>> load_membership(const std::string& root);
Result<void> save_membership(const std::string& root, const Membership& m);
Result<void> remove_membership(const std::string& root);

Result<Etcd> open_store(const Membership& m);
// How to call host `host` of the cluster: its API and pinned fingerprint, the cluster's token.
Result<Peer> peer_of_host(Etcd& etcd, const std::string& host);

// A host's name in the cluster: 1-63 of [a-z0-9-], not starting or ending with '-'
// (a DNS label, so it can also name the host in URLs and logs).
Result<void> check_host_name(const std::string& name);
// The API URL peers use: https://HOST:PORT (serve speaks HTTPS only).
Result<void> check_api_url(const std::string& url);

namespace keys {
inline constexpr const char* kPrefix = "/jailctl/";
inline std::string cluster() { return "/jailctl/cluster"; }
inline std::string host(const std::string& name) { return "/jailctl/hosts/" + name; }
inline std::string hosts() { return "/jailctl/hosts/"; }
inline std::string alive(const std::string& name) { return "/jailctl/alive/" + name; }
inline std::string alive_all() { return "/jailctl/alive/"; }
inline std::string by_host(const std::string& name) { return "/jailctl/by-host/" + name + "/"; }
inline std::string jail(const std::string& domain) { return "/jailctl/jails/" + domain; }
inline std::string jails() { return "/jailctl/jails/"; }
inline std::string ip(const std::string& address) { return "/jailctl/ips/" + address; }
inline std::string ips() { return "/jailctl/ips/"; }
inline std::string pool(const std::string& first_last) { return "/jailctl/pools/" + first_last; }
inline std::string pools() { return "/jailctl/pools/"; }
// A name a jail serves besides its own (an alias), cluster-wide: {domain, claim}.
inline std::string name(const std::string& alias) { return "/jailctl/names/" + alias; }
inline std::string names() { return "/jailctl/names/"; }
}  // namespace keys

// How long a host stays "up" after its agent last refreshed its lease, and how often the
// agent refreshes it.
inline constexpr int kHostLeaseSeconds = 10;
inline constexpr int kHostRefreshSeconds = 3;

}  // namespace jailctl
