// Ipv4: a validated IPv4 address, parsed strictly and printed only in canonical form.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "util/result.h"

namespace jailctl {

class Ipv4 {
public:
    // Strict dotted quad: exactly four decimal numbers 0-255 separated by single dots, no
    // leading zeros ("0" alone is fine), no sign, no whitespace, nothing before or after.
    // Our own parser: inet_aton/getaddrinfo read "010.1.1.1" as octal and accept "10.1".
    // Errors: fail_input("ip", ...).
    static Result<Ipv4> parse_syntax(std::string_view input);

    // parse_syntax, then rejects the addresses no jail can have: 0.0.0.0/8, 127.0.0.0/8,
    // 169.254.0.0/16, 224.0.0.0/4, 240.0.0.0/4, 255.255.255.255 (message names the range).
    static Result<Ipv4> parse(std::string_view input);

    static Ipv4 from_host_order(uint32_t v) { return Ipv4(v); }
    uint32_t host_order() const { return addr_; }

    // Canonical dotted form, e.g. "203.0.113.10".
    std::string str() const;

    // True if this address lies in network/prefix_len (0-32; false for any other length).
    bool in_subnet(Ipv4 network, int prefix_len) const;

    friend bool operator==(Ipv4, Ipv4) = default;
    friend std::strong_ordering operator<=>(Ipv4 a, Ipv4 b) { return a.addr_ <=> b.addr_; }

private:
    explicit Ipv4(uint32_t host_order) : addr_(host_order) {}
    uint32_t addr_ = 0;
};

// Netmask in host order for a prefix length 0-32 (0 for other values).
uint32_t prefix_mask(int prefix_len);

// Rejects the uplink's own address and, for an uplink prefix <= 30, the network and broadcast
// addresses of the uplink's subnet: proxy ARP for any of them would break the uplink's LAN.
// Errors: fail_input("ip", ...); an uplink prefix outside 0-32 is fail_input("uplink prefix", ...).
Result<void> check_not_uplink_reserved(Ipv4 ip, Ipv4 uplink_addr, int uplink_prefix);

// An address outside the uplink's subnet is reached only if the upstream router routes it to
// this host (proxy ARP answers only on the uplink's LAN): refused, fail_input("ip", ...), unless
// `routed`; then the warning to show the operator. "" when the address is on the subnet.
Result<std::string> check_in_uplink_subnet(Ipv4 ip, Ipv4 uplink_addr, int uplink_prefix, bool routed);

}  // namespace jailctl
