#include "cluster/etcd.h"

#include <openssl/evp.h>
#include <unistd.h>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <thread>

#include "util/text.h"

namespace jailctl {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

// gRPC status codes the gateway passes on. Unavailable is what a member says while it has
// no leader, while the leader changes, or when it lost its peers: another member may do.
constexpr int kGrpcDeadlineExceeded = 4;
constexpr int kGrpcUnavailable = 14;

// Two answers of a member during a leader election that etcd 3.4 does not file as Unavailable:
// a write proposed while the member knows no leader is dropped by raft ("raft proposal
// dropped", code Unknown), and a lease or read call that needs the leader may meet "not
// leader" (FailedPrecondition). Nothing was written; the same call succeeds once a leader is
// elected (~1 s), so they are retried like Unavailable.
bool transient(int code, std::string_view message) {
    if (code == kGrpcUnavailable || code == kGrpcDeadlineExceeded) return true;
    return message.find("raft proposal dropped") != std::string_view::npos ||
           message.find("etcdserver: not leader") != std::string_view::npos;
}

// The gateway writes int64 fields as JSON strings ("revision": "12").
int64_t integer(const json& object, const char* field) {
    auto it = object.find(field);
    if (it == object.end()) return 0;
    if (it->is_string()) return std::strtoll(it->get<std::string>().c_str(), nullptr, 10);
    if (it->is_number_integer()) return it->get<int64_t>();
    return 0;
}

Result<KeyValue> key_value(const json& kv) {
    KeyValue out;
    auto key = base64_decode(kv.value("key", ""));
    auto value = base64_decode(kv.value("value", ""));
    if (!key || !value) return fail("etcd: a key or value is not base64");
    out.key = std::move(*key);
    out.value = std::move(*value);
    out.create_revision = integer(kv, "create_revision");
    out.mod_revision = integer(kv, "mod_revision");
    out.lease = integer(kv, "lease");
    return out;
}

json put_request(const std::string& key, const std::string& value, int64_t lease) {
    json put = {{"key", base64_encode(key)}, {"value", base64_encode(value)}};
    if (lease != 0) put["lease"] = std::to_string(lease);
    return put;
}

// One attempt on one member. An unreachable member, a 5xx answer without an etcd error, or
// an etcd error that another member may not have are `retry`; other errors are final.
struct Attempt {
    std::optional<json> answer;
    std::string error;
    bool retry = false;
};

Attempt attempt(const std::string& endpoint, const std::string& path, const std::string& body,
                const EtcdOptions& options) {
    httplib::Client client(endpoint);
    auto ms = [](std::chrono::milliseconds d) { return std::chrono::duration_cast<std::chrono::microseconds>(d); };
    client.set_connection_timeout(ms(options.request_timeout));
    client.set_read_timeout(ms(options.request_timeout));
    client.set_write_timeout(ms(options.request_timeout));
    if (!options.ca_file.empty()) {
        client.set_ca_cert_path(options.ca_file.c_str());
        client.enable_server_certificate_verification(true);
    }
    auto res = client.Post(path, body, "application/json");
    if (!res) return {std::nullopt, httplib::to_string(res.error()), true};
    json answer = json::parse(res->body, nullptr, false);
    if (answer.is_discarded() || !answer.is_object()) {
        return {std::nullopt, "HTTP " + std::to_string(res->status) + ", not JSON: " + quote_input(res->body),
                res->status >= 500};
    }
    if (answer.contains("error")) {
        std::string message = answer["error"].is_string() ? answer["error"].get<std::string>() : answer["error"].dump();
        int code = static_cast<int>(integer(answer, "code"));
        return {std::nullopt, message, transient(code, message)};
    }
    if (res->status != 200) return {std::nullopt, "HTTP " + std::to_string(res->status), res->status >= 500};
    return {std::move(answer), "", false};
}

Result<void> check_endpoint(const std::string& endpoint) {
    auto field = [&](const std::string& why) { return fail_input("etcd endpoint " + quote_input(endpoint), why); };
    std::string_view rest = endpoint;
    if (rest.starts_with("http://")) rest.remove_prefix(7);
    else if (rest.starts_with("https://")) rest.remove_prefix(8);
    else return field("must start with http:// or https://");
    auto colon = rest.rfind(':');
    if (colon == std::string_view::npos || colon == 0) return field("must name a host and a port (http://HOST:PORT)");
    auto port = rest.substr(colon + 1);
    if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos ||
        std::stoi(std::string(port)) == 0 || std::stoi(std::string(port)) > 65535)
        return field("the port must be a number from 1 to 65535");
    if (rest.substr(0, colon).find_first_of("/?#@ ") != std::string_view::npos)
        return field("must be scheme://HOST:PORT without a path or user");
    return {};
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3), '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
    out.resize(static_cast<size_t>(n));
    return out;
}

Result<std::string> base64_decode(std::string_view text) {
    if (text.size() % 4 != 0) return fail_input("base64", "length is not a multiple of 4");
    std::string out(3 * (text.size() / 4), '\0');
    int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
    if (n < 0) return fail_input("base64", "not base64");
    size_t padding = 0;
    if (!text.empty() && text.back() == '=') ++padding;
    if (text.size() > 1 && text[text.size() - 2] == '=') ++padding;
    out.resize(static_cast<size_t>(n) - padding);
    return out;
}

std::string prefix_end(std::string prefix) {
    while (!prefix.empty()) {
        if (static_cast<unsigned char>(prefix.back()) != 0xff) {
            prefix.back() = static_cast<char>(static_cast<unsigned char>(prefix.back()) + 1);
            return prefix;
        }
        prefix.pop_back();
    }
    return std::string(1, '\0');  // every key
}

Result<Etcd> Etcd::open(EtcdOptions options) {
    if (options.endpoints.empty()) return fail_input("etcd endpoints", "at least one is needed");
    for (const auto& endpoint : options.endpoints)
        if (auto ok = check_endpoint(endpoint); !ok) return std::unexpected(ok.error());
    return Etcd(std::move(options));
}

Result<json> Etcd::call(const std::string& path, const json& body) {
    const std::string text = body.dump();
    const auto deadline = Clock::now() + options_.deadline;
    std::string tried;
    for (int round = 0;; ++round) {
        for (size_t i = 0; i < options_.endpoints.size(); ++i) {
            const std::string& endpoint = options_.endpoints[current_];
            Attempt a = attempt(endpoint, path, text, options_);
            if (a.answer) return std::move(*a.answer);
            tried = endpoint + ": " + a.error;
            if (!a.retry) return fail("etcd " + path + " at " + tried);
            current_ = (current_ + 1) % options_.endpoints.size();
            if (Clock::now() >= deadline) {
                return fail(ErrorKind::HostNotReady,
                            "etcd " + path + ": no member answered within " +
                                std::to_string(options_.deadline.count()) + " ms (last: " + tried +
                                "); check the members with `etcdctl endpoint health`");
            }
        }
        // Every member refused once: a leader election takes ~1 s; do not spin meanwhile.
        std::this_thread::sleep_for(std::chrono::milliseconds(std::min(50 * (round + 1), 250)));
    }
}

std::string value_field(const std::string& value, const char* name, const std::string& otherwise) {
    auto v = json::parse(value, nullptr, false);
    return v.is_object() && v.contains(name) && v[name].is_string() ? v[name].get<std::string>() : otherwise;
}

Result<std::optional<KeyValue>> Etcd::get(const std::string& key) {
    auto answer = call("/v3/kv/range", {{"key", base64_encode(key)}});
    if (!answer) return std::unexpected(answer.error());
    auto kvs = answer->find("kvs");
    if (kvs == answer->end() || !kvs->is_array() || kvs->empty()) return std::optional<KeyValue>{};
    auto kv = key_value(kvs->front());
    if (!kv) return std::unexpected(kv.error());
    return std::optional<KeyValue>{std::move(*kv)};
}

Result<std::vector<KeyValue>> Etcd::list(const std::string& prefix, int64_t* revision) {
    auto answer = call("/v3/kv/range", {{"key", base64_encode(prefix)}, {"range_end", base64_encode(prefix_end(prefix))}});
    if (!answer) return std::unexpected(answer.error());
    if (revision) *revision = answer->contains("header") ? integer((*answer)["header"], "revision") : 0;
    std::vector<KeyValue> out;
    auto kvs = answer->find("kvs");
    if (kvs == answer->end() || !kvs->is_array()) return out;
    for (const auto& item : *kvs) {
        auto kv = key_value(item);
        if (!kv) return std::unexpected(kv.error());
        out.push_back(std::move(*kv));
    }
    return out;
}

Result<void> Etcd::put(const std::string& key, const std::string& value, int64_t lease) {
    auto answer = call("/v3/kv/put", put_request(key, value, lease));
    if (!answer) return std::unexpected(answer.error());
    return {};
}

Result<void> Etcd::remove(const std::string& key) {
    auto answer = call("/v3/kv/deleterange", {{"key", base64_encode(key)}});
    if (!answer) return std::unexpected(answer.error());
    return {};
}

Result<bool> Etcd::transaction(const json& compare, const json& success) {
    auto answer = call("/v3/kv/txn", {{"compare", compare}, {"success", success}});
    if (!answer) return std::unexpected(answer.error());
    return answer->value("succeeded", false);  // the gateway omits false
}

Result<bool> Etcd::create(const std::vector<std::pair<std::string, std::string>>& kvs, int64_t lease,
                          const CreateGuard& guard) {
    json compare = json::array(), success = json::array();
    auto absent = [](const std::string& key) {
        return json{{"key", base64_encode(key)}, {"target", "CREATE"}, {"result", "EQUAL"}, {"create_revision", "0"}};
    };
    for (const auto& [key, value] : kvs) {
        compare.push_back(absent(key));
        success.push_back({{"request_put", put_request(key, value, lease)}});
    }
    for (const auto& key : guard.absent) compare.push_back(absent(key));
    if (!guard.prefix.empty())  // every key of the range (none: true) last written at or before `seen`
        compare.push_back({{"key", base64_encode(guard.prefix)}, {"range_end", base64_encode(prefix_end(guard.prefix))},
                           {"target", "MOD"}, {"result", "LESS"}, {"mod_revision", std::to_string(guard.seen + 1)}});
    auto created = transaction(compare, success);
    if (!created || *created) return created;
    // Taken — unless by this very call, whose answer was lost and which was then retried.
    for (const auto& [key, value] : kvs) {
        auto now = get(key);
        if (!now) return std::unexpected(now.error());
        if (!*now || (*now)->value != value) return false;
    }
    return true;
}

Result<bool> Etcd::replace(const std::string& key, const std::string& expected, const std::string& value) {
    auto swapped = transaction(
        json::array({{{"key", base64_encode(key)}, {"target", "VALUE"}, {"result", "EQUAL"}, {"value", base64_encode(expected)}}}),
        json::array({{{"request_put", put_request(key, value, 0)}}}));
    if (!swapped || *swapped) return swapped;
    auto now = get(key);  // a retried call that did commit finds its own value
    if (!now) return std::unexpected(now.error());
    return *now && (*now)->value == value;
}

Result<bool> Etcd::remove_if(const std::string& key, const std::string& value) {
    auto removed = transaction(
        json::array({{{"key", base64_encode(key)}, {"target", "VALUE"}, {"result", "EQUAL"}, {"value", base64_encode(value)}}}),
        json::array({{{"request_delete_range", {{"key", base64_encode(key)}}}}}));
    if (!removed || *removed) return removed;
    auto now = get(key);  // gone (by a retried call or by anybody) is what was wanted
    if (!now) return std::unexpected(now.error());
    return !*now;
}

Result<int64_t> Etcd::grant_lease(std::chrono::seconds ttl) {
    auto answer = call("/v3/lease/grant", {{"TTL", std::to_string(ttl.count())}});
    if (!answer) return std::unexpected(answer.error());
    int64_t id = integer(*answer, "ID");
    if (id == 0) return fail("etcd /v3/lease/grant: no lease ID in the answer");
    return id;
}

Result<int64_t> Etcd::keep_alive(int64_t lease) {
    auto answer = call("/v3/lease/keepalive", {{"ID", std::to_string(lease)}});
    if (!answer) return std::unexpected(answer.error());
    auto result = answer->find("result");  // the gateway streams: one {"result": ...} per request
    return result != answer->end() && result->is_object() ? integer(*result, "TTL") : 0;
}

Result<void> Etcd::revoke(int64_t lease) {
    auto answer = call("/v3/lease/revoke", {{"ID", std::to_string(lease)}});
    if (!answer && answer.error().message.find("lease not found") == std::string::npos)
        return std::unexpected(answer.error());
    return {};
}

}  // namespace jailctl
