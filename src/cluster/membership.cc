#include "cluster/membership.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>

#include "util/atomic_file.h"
#include "util/text.h"

namespace jailctl {

std::string membership_path(const std::string& root) { return root + "/cluster/member.json"; }

Result<std::optional<Membership>> load_membership(const std::string& root) {
    const std::string path = membership_path(root);
    std::ifstream in(path);
    if (!in) {
        if (errno == ENOENT) return std::optional<Membership>{};
        return fail_errno("read " + path, errno);
    }
    auto j = nlohmann::json::parse(in, nullptr, false);
    auto broken = [&](const std::string& why) {
        return fail(ErrorKind::HostNotReady, path + ": " + why + " (rewrite it with `jailctl cluster join`)");
    };
    if (j.is_discarded() || !j.is_object()) return broken("not a JSON object");
    Membership m;
    try {
        m.cluster_id = j.at("cluster_id").get<std::string>();
        m.host = j.at("host").get<std::string>();
        m.api_url = j.at("api_url").get<std::string>();
        m.etcd = j.at("etcd").get<std::vector<std::string>>();
        m.etcd_ca = j.value("etcd_ca", "");
    } catch (const nlohmann::json::exception& e) {
        return broken(e.what());
    }
    if (m.etcd.empty()) return broken("no etcd endpoint");
    return std::optional<Membership>{std::move(m)};
}

Result<void> save_membership(const std::string& root, const Membership& m) {
    const std::string dir = root + "/cluster";
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return fail_errno("create " + dir, errno);
    nlohmann::json j = {{"cluster_id", m.cluster_id}, {"host", m.host}, {"api_url", m.api_url}, {"etcd", m.etcd}};
    if (!m.etcd_ca.empty()) j["etcd_ca"] = m.etcd_ca;
    return write_file_atomically(membership_path(root), j.dump(2) + "\n", {.mode = 0600});
}

Result<void> remove_membership(const std::string& root) {
    const std::string path = membership_path(root);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return fail_errno("remove " + path, errno);
    return {};
}

Result<Etcd> open_store(const Membership& m) { return Etcd::open({.endpoints = m.etcd, .ca_file = m.etcd_ca}); }

Result<Peer> peer_of_host(Etcd& etcd, const std::string& host) {
    auto cluster = etcd.get(keys::cluster());
    auto record = cluster ? etcd.get(keys::host(host)) : Result<std::optional<KeyValue>>{};
    if (!cluster || !record) return std::unexpected(!cluster ? cluster.error() : record.error());
    if (!*cluster) return fail(ErrorKind::HostNotReady, "no cluster record in etcd (was it wiped?)");
    if (!*record) return fail_input("host", "no host " + quote_input(host) + " in the cluster (see `jailctl cluster hosts`)");
    auto c = nlohmann::json::parse((*cluster)->value, nullptr, false);
    auto h = nlohmann::json::parse((*record)->value, nullptr, false);
    if (!c.is_object() || !h.is_object()) return fail(keys::host(host) + " or " + keys::cluster() + " in etcd is not JSON");
    return Peer{h.value("api", ""), h.value("fingerprint", ""), c.value("token", "")};
}

Result<void> check_host_name(const std::string& name) {
    auto bad = [&](const std::string& why) { return fail_input("name", quote_input(name) + " " + why); };
    if (name.empty() || name.size() > 63) return bad("must have 1 to 63 characters");
    if (name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") != std::string::npos)
        return bad("may hold only a-z, 0-9 and '-'");
    if (name.front() == '-' || name.back() == '-') return bad("must not start or end with '-'");
    return {};
}

Result<void> check_api_url(const std::string& url) {
    if (!url.starts_with("https://"))
        return fail_input("api", quote_input(url) + " must start with https:// (serve speaks HTTPS only)");
    // The same shape as an etcd endpoint: scheme://HOST:PORT.
    if (auto ok = Etcd::open({.endpoints = {url}}); !ok)
        return fail_input("api", quote_input(url) + " must be https://HOST:PORT");
    return {};
}

}  // namespace jailctl
