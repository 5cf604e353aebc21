// The LXC engine: renders a jail's LXC config and drives liblxc's C API.
// The container's name is the domain and its lxcpath is <root>/jails, so
// `lxc-ls -P <root>/jails` and `lxc-attach` work on jailctl's jails.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "host/limits.h"
#include "util/result.h"

namespace jailctl {

struct LxcSpec {
    std::string name;       // the domain
    std::string lxcpath;    // <root>/jails
    std::string rootfs;     // mount point of the jail's disk
    uint32_t id_base = 0;   // ids 0..65535 inside -> id_base.. on the host
    std::string ip;         // the jail's IPv4, as IP/32 inside
    std::string veth;       // host-side veth name (derived from the registry id)
    std::string uplink;     // interface that answers ARP for ip (proxy ARP)
    std::string init_path;  // host path of jailctl-init, bound read-only at /init
    std::string usr_path = "/usr";  // the shared base, bound read-only at /usr
    Limits limits;
    CgroupLayout layout = CgroupLayout::V1;
};

// The config file text (pure; unit-tested).
std::string render_lxc_config(const LxcSpec& spec);
// The uplink a jail's LXC config names (lxc.net.0.link), "" when it has none or is missing.
std::string lxc_config_uplink(const std::string& config_path);
// Publishes the installed jailctl-init as <state_root>/jailctl-init (root-owned, 0755) for
// lxc.init; returns its path. Copied again only when the installed one changed.
Result<std::string> publish_init(const std::string& installed, const std::string& state_root);
// The jail's hostname: the domain when it fits HOST_NAME_MAX, else its first 63 characters.
std::string jail_hostname(const std::string& domain);

// Starts the container from <lxcpath>/<name>/config, daemonized, closing every
// inherited file descriptor. Returns once LXC reports it RUNNING.
Result<void> lxc_start(const std::string& lxcpath, const std::string& name);
// Asks init to stop (lxc.signal.halt = SIGTERM) and waits up to timeout_s, then kills.
// Not running: OK.
Result<void> lxc_stop(const std::string& lxcpath, const std::string& name, int timeout_s);
bool lxc_running(const std::string& lxcpath, const std::string& name);
pid_t lxc_init_pid(const std::string& lxcpath, const std::string& name);  // -1 when not running

}  // namespace jailctl
