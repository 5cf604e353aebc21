// ARP on the host's interfaces, by AF_PACKET sockets. Mostly duplicate address detection before a
// jail's address is announced on the customer network (and the announcement itself, below):
// ARP probes as RFC 5227 describes them (sender IP 0.0.0.0, so no neighbour's cache learns
// anything), sent on the uplink through an AF_PACKET socket; whoever answers holds the address.
//
// The timing is ours, not the RFC's: RFC 5227 waits 1-2 s between 3 probes plus 2 s (ANNOUNCE_WAIT),
// about 7 s, sized for sleeping laptops and slow Wi-Fi. An ISP's uplink is a switched LAN whose
// hosts answer ARP within a millisecond, and `create` aims at 100 ms, so jailctl sends
// kArpProbes probes kArpProbeIntervalMs apart and listens kArpProbeWaitMs in all
// (docs/DECISIONS.md "Duplicate address detection"). A neighbour that is down or slower than that
// is not seen: the probe catches the common mistake (an address already in use), not every one.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "jail/ipv4.h"
#include "util/result.h"

namespace jailctl {

inline constexpr int kArpProbes = 3;
inline constexpr int kArpProbeIntervalMs = 15;
inline constexpr int kArpProbeWaitMs = 45;

using MacAddress = std::array<uint8_t, 6>;

// "02:00:5e:10:00:01"
std::string format_mac(const MacAddress& mac);

// The Ethernet frame of one ARP probe from `own` for `ip`: broadcast, ARP request, sender
// hardware `own`, sender IP 0.0.0.0, target hardware zero, target IP `ip` (pure; 42 bytes).
std::vector<uint8_t> build_arp_probe(const MacAddress& own, Ipv4 ip);

// When the received Ethernet frame shows that another host uses (or is probing for) `ip`, the
// MAC address that says so (RFC 5227 2.1.1: any ARP packet whose sender IP is `ip`, or an ARP
// probe for `ip` from a hardware address other than `own`); nullopt otherwise (pure).
std::optional<MacAddress> arp_conflict(std::span<const uint8_t> frame, Ipv4 ip, const MacAddress& own);

// The Ethernet frame of an ARP request from `own` (hardware) and `sender` (IP) for `target`
// (pure; 42 bytes). sender 0.0.0.0 is a probe; sender == target is a gratuitous ARP.
std::vector<uint8_t> build_arp_request(const MacAddress& own, Ipv4 sender, Ipv4 target);

// Sends one ARP request (build_arp_request with `ifname`'s MAC) on `ifname`; waits for nothing.
// A neighbour whose lookup of `sender` is pending (INCOMPLETE) takes its answer from it at once,
// and one that caches `sender` updates it: see announce_started_jail (host/network.h).
Result<void> send_arp_request(const std::string& ifname, Ipv4 sender, Ipv4 target);

// Probes `ip` on the interface `ifname`: the MAC address that answered, nullopt when nobody did.
// Errors: the interface has no Ethernet address (no ARP on it), or the socket failed.
Result<std::optional<MacAddress>> probe_ipv4_in_use(const std::string& ifname, Ipv4 ip);

}  // namespace jailctl
