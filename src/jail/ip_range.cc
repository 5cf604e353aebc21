#include "jail/ip_range.h"

#include <algorithm>

#include "util/text.h"

namespace jailctl {
namespace {

// An address of the range, its errors naming the field "range" instead of "ip".
Result<Ipv4> range_address(std::string_view input) {
    auto ip = Ipv4::parse(input);
    if (!ip && ip.error().message.starts_with("ip: ")) return fail_input("range", ip.error().message.substr(4));
    return ip;
}

}  // namespace

Result<IpRange> IpRange::parse(std::string_view input) {
    const std::string expected = " (expected FIRST-LAST or a CIDR, e.g. 203.0.113.64/26)";
    Ipv4 first = Ipv4::from_host_order(0), last = first;
    if (auto slash = input.find('/'); slash != std::string_view::npos) {
        auto network = range_address(input.substr(0, slash));
        if (!network) return std::unexpected(network.error());
        std::string_view digits = input.substr(slash + 1);
        if (digits.empty() || digits.size() > 2 || digits.find_first_not_of("0123456789") != std::string_view::npos ||
            (digits.size() == 2 && digits[0] == '0') || std::stoi(std::string(digits)) > 32)
            return fail_input("range", quote_input(input) + ": the prefix length must be a number from 0 to 32" + expected);
        const int prefix = std::stoi(std::string(digits));
        const uint32_t mask = prefix_mask(prefix);
        if ((network->host_order() & ~mask) != 0)
            return fail_input("range", quote_input(input) + " is not a network: its address has host bits set (" +
                                           Ipv4::from_host_order(network->host_order() & mask).str() + "/" +
                                           std::string(digits) + "?)");
        if (prefix < 16)  // before the loop below could count 2^32 addresses
            return fail_input("range", quote_input(input) + " holds more than " + std::to_string(kMaxSize) + " addresses");
        uint32_t low = network->host_order(), high = low | ~mask;
        if (prefix <= 30) ++low, --high;  // the network and broadcast addresses are no jail's
        first = Ipv4::from_host_order(low), last = Ipv4::from_host_order(high);
    } else if (auto dash = input.find('-'); dash != std::string_view::npos) {
        auto a = range_address(input.substr(0, dash)), b = range_address(input.substr(dash + 1));
        if (!a || !b) return std::unexpected(!a ? a.error() : b.error());
        if (*b < *a) return fail_input("range", quote_input(input) + ": the first address is above the last");
        first = *a, last = *b;
    } else {
        return fail_input("range", quote_input(input) + " is neither FIRST-LAST nor a CIDR" + expected);
    }
    IpRange range(first, last);
    if (range.size() > kMaxSize)
        return fail_input("range", quote_input(input) + " holds " + std::to_string(range.size()) + " addresses, more than " +
                                       std::to_string(kMaxSize));
    // Both ends are allowed addresses, and every reserved block (Ipv4::parse) is a /16 or larger:
    // a range of at most 65,536 addresses cannot hold one whole while both its ends are outside.
    if (auto r = range_address(first.str()); !r) return std::unexpected(r.error());
    if (auto r = range_address(last.str()); !r) return std::unexpected(r.error());
    return range;
}

std::optional<Ipv4> lowest_free(const std::vector<IpRange>& pools, const std::set<Ipv4>& used) {
    std::optional<Ipv4> best;
    for (const IpRange& pool : pools) {
        for (uint64_t a = pool.first().host_order(); a <= pool.last().host_order(); ++a) {
            const Ipv4 ip = Ipv4::from_host_order(static_cast<uint32_t>(a));
            if (best && *best <= ip) break;
            if (!used.contains(ip)) {
                best = ip;
                break;
            }
        }
    }
    return best;
}

}  // namespace jailctl
