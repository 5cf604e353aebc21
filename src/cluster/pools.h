// The cluster's public address pools (docs/FLEET.md): /jailctl/pools/FIRST-LAST, the addresses
// a `--cluster create` without --ip takes from, lowest free first. "Free" is "no ips/ key":
// the claim of an address is the create's own (jails/ and ips/ in one transaction).
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "cluster/etcd.h"
#include "jail/ip_range.h"
#include "util/result.h"

namespace jailctl {

// The pools, lowest first; `revision`: as Etcd::list.
Result<std::vector<IpRange>> read_pools(Etcd& etcd, int64_t* revision = nullptr);
// Every claimed address (ips/, in a pool or not) and the jail that holds it.
Result<std::map<Ipv4, std::string>> used_addresses(Etcd& etcd);
// Those of `used` in `pool`, lowest first.
std::vector<std::pair<Ipv4, std::string>> used_in(const std::map<Ipv4, std::string>& used, const IpRange& pool);

// Adds the pool unless it overlaps one (Conflict naming it); of two overlapping pools added
// at once only one is (the other's transaction sees pools/ changed since its listing).
Result<void> add_pool(Etcd& etcd, const IpRange& pool);
// Removes the pool: BadInput when there is no such pool, Conflict while one of its addresses
// is claimed (naming how many, and one with its jail).
Result<void> remove_pool(Etcd& etcd, const IpRange& pool);

// The address a create without --ip claims: the lowest of the pools that ips/ does not hold,
// nor `lost` (the addresses this create lost to another claim meanwhile). No pool: BadInput
// naming `ip`; every address used: HostNotReady (no room, as placement says of disks).
Result<Ipv4> free_pool_address(Etcd& etcd, const std::set<Ipv4>& lost);

}  // namespace jailctl
