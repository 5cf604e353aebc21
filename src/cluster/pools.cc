#include "cluster/pools.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "cluster/membership.h"

namespace jailctl {

Result<std::vector<IpRange>> read_pools(Etcd& etcd, int64_t* revision) {
    auto listed = etcd.list(keys::pools(), revision);
    if (!listed) return std::unexpected(listed.error());
    std::vector<IpRange> pools;
    for (const auto& kv : *listed) {
        auto pool = IpRange::parse(kv.key.substr(keys::pools().size()));
        if (!pool) return fail(ErrorKind::HostNotReady, kv.key + " in etcd is not a pool: " + pool.error().message);
        pools.push_back(*pool);
    }
    std::ranges::sort(pools, {}, &IpRange::first);
    return pools;
}

Result<std::map<Ipv4, std::string>> used_addresses(Etcd& etcd) {
    auto listed = etcd.list(keys::ips());
    if (!listed) return std::unexpected(listed.error());
    std::map<Ipv4, std::string> used;
    for (const auto& kv : *listed) {
        auto ip = Ipv4::parse_syntax(kv.key.substr(keys::ips().size()));
        if (!ip) continue;  // not an address: nothing a pool could hand out
        used[*ip] = value_field(kv.value, "domain", "?");
    }
    return used;
}

std::vector<std::pair<Ipv4, std::string>> used_in(const std::map<Ipv4, std::string>& used, const IpRange& pool) {
    return {used.lower_bound(pool.first()), used.upper_bound(pool.last())};
}

Result<void> add_pool(Etcd& etcd, const IpRange& pool) {
    int64_t seen = 0;
    auto pools = read_pools(etcd, &seen);
    if (!pools) return std::unexpected(pools.error());
    for (const auto& other : *pools)
        if (other.overlaps(pool))
            return fail(ErrorKind::Conflict, "range: " + pool.str() + " overlaps the pool " + other.str());
    const nlohmann::json value = {{"first", pool.first().str()}, {"last", pool.last().str()}};
    auto added = etcd.create({{keys::pool(pool.str()), value.dump()}}, 0, {.prefix = keys::pools(), .seen = seen});
    if (!added) return std::unexpected(added.error());
    if (!*added)
        return fail(ErrorKind::Conflict, "range: the pools changed while " + pool.str() +
                                             " was being added (another operator's?): see `jailctl cluster pool list`, then add it again");
    return {};
}

Result<void> remove_pool(Etcd& etcd, const IpRange& pool) {
    auto held = etcd.get(keys::pool(pool.str()));
    if (!held) return std::unexpected(held.error());
    if (!*held) return fail_input("range", "no pool " + pool.str() + " in the cluster (see `jailctl cluster pool list`)");
    auto used = used_addresses(etcd);
    if (!used) return std::unexpected(used.error());
    if (const auto in = used_in(*used, pool); !in.empty()) {
        const size_t n = in.size();
        return fail(ErrorKind::Conflict, "range: " + std::to_string(n) + " address" + (n == 1 ? " " : "es ") + "of " +
                                             pool.str() + (n == 1 ? " is" : " are") + " in use (" + in.front().first.str() +
                                             " by " + in.front().second + "): destroy or move those jails first");
    }
    return etcd.remove(keys::pool(pool.str()));
}

Result<Ipv4> free_pool_address(Etcd& etcd, const std::set<Ipv4>& lost) {
    auto pools = read_pools(etcd);
    if (!pools) return std::unexpected(pools.error());
    if (pools->empty())
        return fail_input("ip", "is required (--ip): the cluster has no address pool to take one from "
                                "(`jailctl cluster pool add RANGE`)");
    auto used = used_addresses(etcd);
    if (!used) return std::unexpected(used.error());
    std::set<Ipv4> taken = lost;
    for (const auto& [ip, _] : *used) taken.insert(ip);
    if (auto ip = lowest_free(*pools, taken)) return *ip;
    uint64_t total = 0;
    for (const auto& p : *pools) total += p.size();
    return fail(ErrorKind::HostNotReady, "ip: every address of the cluster's pools is in use (" + std::to_string(total) +
                                             " in " + std::to_string(pools->size()) + " pool" + (pools->size() == 1 ? "" : "s") +
                                             "): add one with `jailctl cluster pool add RANGE`, or give --ip");
}

}  // namespace jailctl
