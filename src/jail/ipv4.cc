#include "jail/ipv4.h"

#include <array>

#include "util/text.h"

namespace jailctl {
namespace {

constexpr const char* kField = "ip";

Result<Ipv4> invalid_address(std::string_view input, const std::string& why) {
    return fail_input(kField,
                      quote_input(input) + " is not an IPv4 address (" + why + "; expected e.g. 203.0.113.10)");
}

struct ReservedRange {
    uint32_t network;
    int prefix_len;
    const char* cidr;
    const char* what;
};

constexpr uint32_t quad(uint32_t a, uint32_t b, uint32_t c, uint32_t d) {
    return a << 24 | b << 16 | c << 8 | d;
}

// Checked in order: the /32 before the /4 that contains it, for the more precise message.
constexpr std::array<ReservedRange, 6> kReserved = {{
    {quad(0, 0, 0, 0), 8, "0.0.0.0/8", "\"this network\""},
    {quad(127, 0, 0, 0), 8, "127.0.0.0/8", "loopback"},
    {quad(169, 254, 0, 0), 16, "169.254.0.0/16", "link-local"},
    {quad(224, 0, 0, 0), 4, "224.0.0.0/4", "multicast"},
    {quad(255, 255, 255, 255), 32, "255.255.255.255/32", "limited broadcast"},
    {quad(240, 0, 0, 0), 4, "240.0.0.0/4", "reserved"},
}};

}  // namespace

uint32_t prefix_mask(int prefix_len) {
    if (prefix_len <= 0 || prefix_len > 32) return 0;
    return ~uint32_t{0} << (32 - prefix_len);
}

Result<Ipv4> Ipv4::parse_syntax(std::string_view input) {
    if (input.empty()) return fail_input(kField, "empty (expected e.g. 203.0.113.10)");
    if (input.size() > 15) return invalid_address(input, "longer than 15 characters");
    uint32_t addr = 0;
    size_t pos = 0;
    for (int part = 0; part < 4; ++part) {
        if (part > 0) {
            if (pos >= input.size())
                return invalid_address(input, "only " + std::to_string(part) + " of 4 numbers");
            if (input[pos] != '.')
                return invalid_address(input, "unexpected " + quote_input(input.substr(pos, 1)) +
                                                  " after part " + std::to_string(part));
            ++pos;
        }
        size_t start = pos;
        uint32_t value = 0;
        while (pos < input.size() && input[pos] >= '0' && input[pos] <= '9' && pos - start < 3) {
            value = value * 10 + static_cast<uint32_t>(input[pos] - '0');
            ++pos;
        }
        if (pos == start)
            return invalid_address(input, "part " + std::to_string(part + 1) + " is not a decimal number");
        if (pos < input.size() && input[pos] >= '0' && input[pos] <= '9')
            return invalid_address(input, "part " + std::to_string(part + 1) + " has more than 3 digits");
        if (pos - start > 1 && input[start] == '0')
            return invalid_address(input, "part " + std::to_string(part + 1) + " has a leading zero");
        if (value > 255) return invalid_address(input, "part " + std::to_string(part + 1) + " is above 255");
        addr = addr << 8 | value;
    }
    if (pos != input.size()) return invalid_address(input, "unexpected text after the fourth number");
    return Ipv4(addr);
}

Result<Ipv4> Ipv4::parse(std::string_view input) {
    auto ip = parse_syntax(input);
    if (!ip) return ip;
    for (const ReservedRange& r : kReserved)
        if (ip->in_subnet(Ipv4(r.network), r.prefix_len))
            return fail_input(kField, ip->str() + " is in " + r.cidr + " (" + r.what + ")");
    return ip;
}

std::string Ipv4::str() const {
    return std::to_string(addr_ >> 24) + "." + std::to_string(addr_ >> 16 & 0xff) + "." +
           std::to_string(addr_ >> 8 & 0xff) + "." + std::to_string(addr_ & 0xff);
}

bool Ipv4::in_subnet(Ipv4 network, int prefix_len) const {
    if (prefix_len < 0 || prefix_len > 32) return false;
    uint32_t mask = prefix_mask(prefix_len);
    return (addr_ & mask) == (network.addr_ & mask);
}

Result<void> check_not_uplink_reserved(Ipv4 ip, Ipv4 uplink_addr, int uplink_prefix) {
    if (uplink_prefix < 0 || uplink_prefix > 32)
        return fail_input("uplink prefix", std::to_string(uplink_prefix) + " is outside 0-32");
    if (ip == uplink_addr) return fail_input(kField, ip.str() + " is the uplink's own address");
    // /31 (RFC 3021) and /32 have no network or broadcast address.
    if (uplink_prefix <= 30) {
        uint32_t mask = prefix_mask(uplink_prefix);
        Ipv4 network = Ipv4::from_host_order(uplink_addr.host_order() & mask);
        Ipv4 broadcast = Ipv4::from_host_order(network.host_order() | ~mask);
        std::string subnet = network.str() + "/" + std::to_string(uplink_prefix);
        if (ip == network)
            return fail_input(kField, ip.str() + " is the network address of the uplink subnet " + subnet);
        if (ip == broadcast)
            return fail_input(kField, ip.str() + " is the broadcast address of the uplink subnet " + subnet);
    }
    return {};
}

Result<std::string> check_in_uplink_subnet(Ipv4 ip, Ipv4 uplink_addr, int uplink_prefix, bool routed) {
    if (ip.in_subnet(uplink_addr, uplink_prefix)) return std::string();
    Ipv4 network = Ipv4::from_host_order(uplink_addr.host_order() & prefix_mask(uplink_prefix));
    std::string where = ip.str() + " is outside the uplink's subnet " + network.str() + "/" +
                        std::to_string(uplink_prefix);
    if (!routed)
        return fail_input(kField, where + ": it works only if the upstream router routes it to this host; "
                                          "if it does, give --routed");
    return where + ": it works only if the upstream router routes it to this host (--routed)";
}

}  // namespace jailctl
