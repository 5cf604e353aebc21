// IpRange: a public address pool of the cluster (docs/FLEET.md), the addresses a create
// without --ip takes from. Written FIRST-LAST (both ends included) or as a CIDR, which
// excludes its network and broadcast addresses (below /31, as on the uplink).
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "jail/ipv4.h"
#include "util/result.h"

namespace jailctl {

class IpRange {
public:
    // More addresses than a /16 holds is a typing error rather than a pool.
    static constexpr uint64_t kMaxSize = 65536;

    // "203.0.113.64/26" (the network's own address, prefix 0-32) or "203.0.113.70-203.0.113.90"
    // (first <= last). Every address must be one a jail may have (Ipv4::parse) and there may be
    // at most kMaxSize. Errors: fail_input("range", ...) with the reason.
    static Result<IpRange> parse(std::string_view input);

    Ipv4 first() const { return first_; }
    Ipv4 last() const { return last_; }
    uint64_t size() const { return uint64_t{last_.host_order()} - first_.host_order() + 1; }
    bool contains(Ipv4 ip) const { return first_ <= ip && ip <= last_; }
    bool overlaps(const IpRange& o) const { return first_ <= o.last_ && o.first_ <= last_; }
    // "FIRST-LAST": the pool's name, and its key under /jailctl/pools/.
    std::string str() const { return first_.str() + "-" + last_.str(); }

private:
    IpRange(Ipv4 first, Ipv4 last) : first_(first), last_(last) {}
    Ipv4 first_, last_;
};

// The lowest address of the pools that is not in `used`; nullopt when they are all used.
std::optional<Ipv4> lowest_free(const std::vector<IpRange>& pools, const std::set<Ipv4>& used);

}  // namespace jailctl
