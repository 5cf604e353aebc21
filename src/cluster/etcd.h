// The cluster's store (docs/FLEET.md): etcd 3.4's v3 API through its JSON gateway
// (POST <endpoint>/v3/..., keys and values base64-encoded in JSON), with cpp-httplib, the
// HTTP library serve already uses. One client speaks to every member it is given: a call
// that cannot reach a member, or that a member answers as it does during a leader election
// ("unavailable": no leader, leader changed, quorum lost for a moment; "raft proposal
// dropped"; "not leader"), is retried on the next member until the deadline.
// So losing one member of three, or the leader, fails no call; losing quorum fails after
// the deadline with a message naming every member tried.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "util/result.h"

namespace jailctl {

struct EtcdOptions {
    std::vector<std::string> endpoints;  // "http://127.0.0.1:2379" or "https://..."
    std::string ca_file;                 // https: the CA that signed the members' certificates
    std::chrono::milliseconds deadline{10000};        // one call, all retries included
    std::chrono::milliseconds request_timeout{2000};  // one attempt on one member
};

struct KeyValue {
    std::string key, value;
    int64_t create_revision = 0, mod_revision = 0, lease = 0;
};

// A string field of a key's JSON value (the domain of an ips/ or names/ key, the host of a
// jails/ key); `otherwise` when the value is not JSON or has no such field.
std::string value_field(const std::string& value, const char* name, const std::string& otherwise = "");

// What a create also requires of the store, in the same transaction, without writing it.
struct CreateGuard {
    std::vector<std::string> absent;  // keys that must not exist (a new domain: no alias of it)
    // With `prefix`: no key under it created or changed after revision `seen` (the caller's
    // listing of it, Etcd::list), so a decision made on that listing still holds (pools that
    // must not overlap). A key deleted meanwhile does not count.
    std::string prefix;
    int64_t seen = 0;
};

class Etcd {
public:
    // Checks the endpoints' syntax (scheme http/https, host, port); contacts nobody.
    static Result<Etcd> open(EtcdOptions options);

    Result<std::optional<KeyValue>> get(const std::string& key);
    // Sorted by key. `revision`: where to put the store's revision the listing was read at
    // (for a create that must see nothing changed under the prefix since: CreateGuard).
    Result<std::vector<KeyValue>> list(const std::string& prefix, int64_t* revision = nullptr);
    Result<void> put(const std::string& key, const std::string& value, int64_t lease = 0);
    // Creates every key, or none when any of them exists (one transaction): the cluster's
    // uniqueness rule (a domain and its address claimed together), while `guard` holds.
    // false: one was taken, or the guard did not hold.
    // A retried call whose first attempt did commit finds the keys holding exactly its
    // values and answers true: values must therefore be unique to the caller (carry its
    // host and a random token).
    Result<bool> create(const std::vector<std::pair<std::string, std::string>>& kvs, int64_t lease = 0,
                        const CreateGuard& guard = {});
    // Replaces `key` if it still holds `expected` (compare-and-swap: a host updates only the
    // record it wrote, never one a move or a recover gave to another host). false: not.
    Result<bool> replace(const std::string& key, const std::string& expected, const std::string& value);
    // Removes `key` if it still holds `value` (a host removes only its own claims). false: not.
    Result<bool> remove_if(const std::string& key, const std::string& value);
    Result<void> remove(const std::string& key);

    // Leases: a key put with a lease vanishes when the lease is not kept alive for its TTL.
    Result<int64_t> grant_lease(std::chrono::seconds ttl);
    // Refreshes the lease; the TTL it has now, 0 when it had already expired.
    Result<int64_t> keep_alive(int64_t lease);
    Result<void> revoke(int64_t lease);

    const std::vector<std::string>& endpoints() const { return options_.endpoints; }

private:
    explicit Etcd(EtcdOptions options) : options_(std::move(options)) {}
    Result<nlohmann::json> call(const std::string& path, const nlohmann::json& body);
    Result<bool> transaction(const nlohmann::json& compare, const nlohmann::json& success);
    EtcdOptions options_;
    size_t current_ = 0;  // the member that answered last: tried first next time
};

// base64 (RFC 4648, with padding), as the JSON gateway wants keys and values.
std::string base64_encode(std::string_view bytes);
Result<std::string> base64_decode(std::string_view text);

// The key right after every key that starts with `prefix` (etcd's range_end for a prefix).
std::string prefix_end(std::string prefix);

}  // namespace jailctl
