// serve as this host's cluster agent (docs/FLEET.md): while serve runs on a host that joined
// a cluster, /jailctl/alive/<host> holds its capacity under a lease the agent refreshes every
// kHostRefreshSeconds; the key vanishes kHostLeaseSeconds after the agent stops refreshing
// (killed, host down, network cut), which is how the other hosts see it down. A clean stop
// revokes the lease: the host is down at once. Not in a cluster: the agent does nothing.
// The agent also publishes this host's jails (/jailctl/jails/<domain>: host, ip, size,
// registry state, and the index /jailctl/by-host/<host>/<domain>), writing only what changed,
// so the cluster still knows a dead host's jails (`cluster status` shows them "?").
#pragma once

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "cli/context.h"

namespace jailctl::api {

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
