// Host-side networking of a jail, by netlink (libmnl) and /proc/sys — never `ip`.
//
// A jail's address is routed, not bridged (DESIGN.md): LXC's router-mode veth adds
// the route IP/32 -> veth and the proxy ARP entry for IP on the uplink; jailctl adds
// the link-local gateway 169.254.0.1 on the host side of the veth (the jail's default
// gateway), and removes the proxy entry and route itself on stop, since LXC leaves
// the proxy entry behind.
#pragma once

#include <optional>
#include <string>

#include "util/result.h"

namespace jailctl {

inline constexpr const char* kJailGateway = "169.254.0.1";

struct Uplink {
    std::string name;
    int index = 0;
    std::string address;  // first IPv4 address, "" when it has none
    int prefix_len = 0;
};

// The uplink named `name`, or the interface of the IPv4 default route when empty.
Result<Uplink> find_uplink(const std::string& name);

// Host-side veth of the jail with registry id `id`: "jc<id>" (fits IFNAMSIZ).
std::string veth_name(int64_t id);

bool link_exists(const std::string& name);
Result<void> add_gateway_address(const std::string& veth);
// Right after a jail started, with its gateway address in place: settles the neighbour lookups
// that traffic arriving during the start left pending, each of which the kernel would retry only
// after retrans_time (1 s) — the measured ~1 s before a restarted jail under load answered. On
// the veth, an ARP request from the gateway for the jail's address: the jail learns its gateway,
// and its answer resolves the host's lookup of the jail. On the uplink, a gratuitous ARP for
// the jail's address (the MAC proxy ARP answers with), so that neighbours still holding a failed
// entry from while the jail was down update it. Best effort: a failure only leaves the retry.
Result<void> announce_started_jail(const std::string& veth, const std::string& uplink, const std::string& ip);
Result<void> delete_link(const std::string& name);                    // absent: OK
Result<void> delete_route(const std::string& ip);                     // IP/32; absent: OK
Result<void> delete_proxy_neighbour(const std::string& ip, const std::string& uplink);  // absent: OK
Result<bool> proxy_neighbour_exists(const std::string& ip, const std::string& uplink);
Result<bool> route_exists(const std::string& ip);
// The device of the IP/32 route in the main table ("" when it has none); nullopt: no route.
Result<std::optional<std::string>> route_device(const std::string& ip);

// Anti-spoofing on the host side of a jail's veth: strict reverse-path filtering
// (a packet whose source address is not routed back through this veth — i.e. is not
// the jail's own IP/32 — is dropped), and no proxy ARP on it.
Result<void> restrict_to_own_address(const std::string& veth);

Result<bool> ipv4_forwarding_enabled();
Result<void> enable_ipv4_forwarding();

}  // namespace jailctl
