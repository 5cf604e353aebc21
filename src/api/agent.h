// serve as this host's cluster agent (docs/FLEET.md): while serve runs on a host that joined
// a cluster, /jailctl/alive/<host> holds its capacity under a lease the agent refreshes every
// kHostRefreshSeconds; the key vanishes kHostLeaseSeconds after the agent stops refreshing
// (killed, host down, network cut), which is how the other hosts see it down. A clean stop
// revokes the lease: the host is down at once. Not in a cluster: the agent does nothing.
// The agent also publishes this host's jails (/jailctl/jails/<domain>: host, ip, size,
// registry state, and the index /jailctl/by-host/<host>/<domain>), writing only what changed,
// so the cluster still knows a dead host's jails (`cluster status` shows them "?"), and their
// aliases (/jailctl/names/<alias>).
#pragma once

#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "cli/context.h"
#include "cluster/etcd.h"
#include "jail/registry.h"

namespace jailctl::api {

// This host's jails as the cluster sees them: domain -> {the jails/ value, the ips/ value}.
struct Publication {
    std::string ip, jail_value, ip_value;
    bool operator==(const Publication&) const = default;
};
using Published = std::map<std::string, Publication>;

// Writes to etcd what changed in this host's registry (`jails`: its listing) since the last
// call (`published` holds what etcd has; loaded from etcd on the first call): jails/<domain>, ips/<ip> and
// by-host/<host>/<domain>. A jail claimed by `--cluster create` for this host is taken over
// (its claim values replaced); a domain or address another host publishes is not, and is
// reported once, as the operator must resolve it. A record is updated and removed only while
// it still holds what this host wrote (compare-and-swap): after a move or a recover the new
// host's record stays, whatever the old host's registry says until its copy is destroyed.
Result<void> publish_jails(Etcd& etcd, const std::string& host, const std::vector<JailRecord>& jails,
                           std::optional<Published>& published, std::set<std::string>& reported);

// alias -> the names/ value this host wrote or took over for it.
using PublishedNames = std::map<std::string, std::string>;

// The aliases of this host's jails (`jails`: its registry's) in /jailctl/names/<alias>, the
// cluster-wide uniqueness of names (docs/FLEET.md), for aliases added on this host without
// --cluster: an absent key is created ({"domain"}), one that names the same jail is taken over
// (a `--cluster alias add` claimed it), one held for another jail is left and reported once.
// A name this host published is removed (compare-and-swap) once its alias is gone, unless
// jails/<domain> now names another host (a move: the new host publishes it).
Result<void> publish_names(Etcd& etcd, const std::string& host, const std::vector<JailRecord>& jails, PublishedNames& names,
                           std::set<std::string>& reported);

class HostAgent {
public:
    // Starts the refresh thread if <root>/cluster/member.json exists. `fingerprint`: the
    // certificate serve presents, published so peers can check the one they pinned.
    HostAgent(const Context& ctx, std::string fingerprint);
    ~HostAgent();  // stops and revokes the lease
    HostAgent(const HostAgent&) = delete;
    HostAgent& operator=(const HostAgent&) = delete;

private:
    void run();
    std::string root_, db_, fingerprint_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stop_ = false;
    std::thread thread_;
};

}  // namespace jailctl::api
