#include "host/network.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

#include <ctime>
#include <fstream>
#include <functional>
#include <vector>

#include "host/arp_probe.h"

namespace jailctl {
namespace {

// One rtnetlink request/response exchange on a fresh socket.
class Netlink {
public:
    Netlink() {
        sock_ = mnl_socket_open(NETLINK_ROUTE);
        if (sock_ && mnl_socket_bind(sock_, 0, MNL_SOCKET_AUTOPID) < 0) {
            mnl_socket_close(sock_);
            sock_ = nullptr;
        }
    }
    ~Netlink() {
        if (sock_) mnl_socket_close(sock_);
    }
    Netlink(const Netlink&) = delete;
    Netlink& operator=(const Netlink&) = delete;

    nlmsghdr* start(uint16_t type, uint16_t flags) {
        nlmsghdr* nlh = mnl_nlmsg_put_header(buf_.data());
        nlh->nlmsg_type = type;
        nlh->nlmsg_flags = NLM_F_REQUEST | flags;
        nlh->nlmsg_seq = seq_ = static_cast<unsigned>(time(nullptr));
        return nlh;
    }

    // Sends nlh and reads replies until the ack/done; `each` sees every data message.
    // Returns the negative errno of an error ack as errno value (0 on success).
    Result<int> exchange(nlmsghdr* nlh, const std::function<void(const nlmsghdr*)>& each = {}) {
        if (!sock_) return fail_errno("open netlink socket", errno);
        if (mnl_socket_sendto(sock_, nlh, nlh->nlmsg_len) < 0) return fail_errno("send netlink request", errno);
        unsigned portid = mnl_socket_get_portid(sock_);
        for (;;) {
            ssize_t n = mnl_socket_recvfrom(sock_, buf_.data(), buf_.size());
            if (n < 0) return fail_errno("read netlink reply", errno);
            Callback cb{each};
            int rc = mnl_cb_run(buf_.data(), static_cast<size_t>(n), seq_, portid, data_cb, &cb);
            if (rc == MNL_CB_ERROR) return errno;
            if (rc == MNL_CB_STOP) return 0;
        }
    }

private:
    struct Callback {
        const std::function<void(const nlmsghdr*)>& each;
    };
    static int data_cb(const nlmsghdr* nlh, void* data) {
        auto* cb = static_cast<Callback*>(data);
        if (cb->each) cb->each(nlh);
        return MNL_CB_OK;
    }
    mnl_socket* sock_ = nullptr;
    std::vector<char> buf_ = std::vector<char>(MNL_SOCKET_BUFFER_SIZE);
    unsigned seq_ = 0;
};

// libmnl's mnl_attr_for_each macro does not compile as C++ (void* conversions).
template <class F>
void for_each_attr(const nlmsghdr* nlh, size_t offset, F&& each) {
    auto* attr = static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(nlh, offset));
    auto* tail = static_cast<const char*>(mnl_nlmsg_get_payload_tail(nlh));
    while (mnl_attr_ok(attr, static_cast<int>(tail - reinterpret_cast<const char*>(attr)))) {
        each(attr);
        attr = mnl_attr_next(attr);
    }
}

// A dump on a fresh socket. The kernel marks a dump interrupted when the table changed while
// it was read (NLM_F_DUMP_INTR; libmnl reports EINTR) — frequent while parallel starts add
// addresses and routes: it is asked again, `reset` first clearing what `each` gathered.
template <class Build, class Each, class Reset>
Result<int> run_dump(Build&& build, Each&& each, Reset&& reset) {
    constexpr int kAttempts = 20;
    for (int attempt = 1;; ++attempt) {
        Netlink nl;
        auto rc = nl.exchange(build(nl), each);
        if (!rc || *rc != EINTR || attempt == kAttempts) return rc;
        reset();
    }
}

// The request for a dump of the IPv4 routing tables.
nlmsghdr* ipv4_route_dump(Netlink& nl) {
    nlmsghdr* nlh = nl.start(RTM_GETROUTE, NLM_F_DUMP);
    auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
    rtm->rtm_family = AF_INET;
    return nlh;
}

Result<in_addr> parse_addr(const std::string& ip) {
    in_addr a{};
    if (inet_pton(AF_INET, ip.c_str(), &a) != 1) return fail("invalid IPv4 address '" + ip + "'");
    return a;
}

Result<unsigned> index_of(const std::string& name) {
    unsigned idx = if_nametoindex(name.c_str());
    if (idx == 0) return fail_errno("interface " + name, errno);
    return idx;
}

// First IPv4 address of interface `index`.
Result<void> fill_address(Uplink& up) {
    auto build = [](Netlink& nl) {
        nlmsghdr* nlh = nl.start(RTM_GETADDR, NLM_F_DUMP);
        auto* ifa = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifaddrmsg)));
        ifa->ifa_family = AF_INET;
        return nlh;
    };
    auto each = [&](const nlmsghdr* msg) {
        auto* m = static_cast<const ifaddrmsg*>(mnl_nlmsg_get_payload(msg));
        if (static_cast<int>(m->ifa_index) != up.index || !up.address.empty()) return;
        for_each_attr(msg, sizeof(ifaddrmsg), [&](const nlattr* attr) {
            if (!up.address.empty()) return;
            if (mnl_attr_get_type(attr) == IFA_LOCAL || mnl_attr_get_type(attr) == IFA_ADDRESS) {
                char text[INET_ADDRSTRLEN];
                inet_ntop(AF_INET, mnl_attr_get_payload(attr), text, sizeof text);
                up.address = text;
                up.prefix_len = m->ifa_prefixlen;
            }
        });
    };
    auto rc = run_dump(build, each, [&] { up.address.clear(); });
    if (!rc) return std::unexpected(rc.error());
    if (*rc) return fail_errno("list addresses of " + up.name, *rc);
    return {};
}

Result<int> default_route_interface() {
    int found = 0;
    auto each = [&](const nlmsghdr* msg) {
        auto* r = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(msg));
        if (r->rtm_dst_len != 0 || r->rtm_table != RT_TABLE_MAIN || found) return;
        for_each_attr(msg, sizeof(rtmsg), [&](const nlattr* attr) {
            if (mnl_attr_get_type(attr) == RTA_OIF) found = static_cast<int>(mnl_attr_get_u32(attr));
        });
    };
    auto rc = run_dump(ipv4_route_dump, each, [&] { found = 0; });
    if (!rc) return std::unexpected(rc.error());
    if (*rc) return fail_errno("read the routing table", *rc);
    if (!found)
        return fail(ErrorKind::HostNotReady,
                    "uplink: this host has no IPv4 default route; name the uplink with --uplink IF or "
                    "'uplink = IF' in host.conf");
    return found;
}

Result<void> neighbour_request(uint16_t type, uint16_t flags, const std::string& ip, const std::string& uplink,
                               int& err) {
    auto addr = parse_addr(ip);
    if (!addr) return std::unexpected(addr.error());
    auto idx = index_of(uplink);
    if (!idx) return std::unexpected(idx.error());
    Netlink nl;
    nlmsghdr* nlh = nl.start(type, flags);
    auto* nd = static_cast<ndmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ndmsg)));
    nd->ndm_family = AF_INET;
    nd->ndm_ifindex = static_cast<int>(*idx);
    nd->ndm_flags = NTF_PROXY;
    mnl_attr_put(nlh, NDA_DST, sizeof(in_addr), &*addr);
    auto rc = nl.exchange(nlh);
    if (!rc) return std::unexpected(rc.error());
    err = *rc;
    return {};
}

Result<std::string> read_sysctl(const std::string& path) {
    std::ifstream in(path);
    std::string value;
    if (!(in >> value)) return fail_errno("read " + path, errno);
    return value;
}

}  // namespace

std::string veth_name(int64_t id) { return "jc" + std::to_string(id); }

bool link_exists(const std::string& name) { return if_nametoindex(name.c_str()) != 0; }

Result<Uplink> find_uplink(const std::string& name) {
    Uplink up;
    if (name.empty()) {
        auto idx = default_route_interface();
        if (!idx) return std::unexpected(idx.error());
        up.index = *idx;
        char buf[IF_NAMESIZE] = {};
        if (!if_indextoname(static_cast<unsigned>(up.index), buf)) return fail_errno("default route interface", errno);
        up.name = buf;
    } else {
        up.name = name;
        up.index = static_cast<int>(if_nametoindex(name.c_str()));
        if (up.index == 0)
            return fail(ErrorKind::HostNotReady, "uplink: interface '" + name + "' does not exist");
    }
    if (auto r = fill_address(up); !r) return std::unexpected(r.error());
    return up;
}

Result<void> announce_started_jail(const std::string& veth, const std::string& uplink, const std::string& ip) {
    auto jail = Ipv4::parse_syntax(ip);
    auto gateway = Ipv4::parse_syntax(kJailGateway);
    if (!jail || !gateway) return fail("announce: " + ip + " is not an IPv4 address");
    auto inside = send_arp_request(veth, *gateway, *jail);
    auto outside = uplink.empty() ? Result<void>{} : send_arp_request(uplink, *jail, *jail);
    return inside ? outside : inside;
}

Result<void> add_gateway_address(const std::string& veth) {
    auto idx = index_of(veth);
    if (!idx) return std::unexpected(idx.error());
    auto addr = parse_addr(kJailGateway);
    Netlink nl;
    nlmsghdr* nlh = nl.start(RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE | NLM_F_ACK);
    auto* ifa = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifaddrmsg)));
    ifa->ifa_family = AF_INET;
    ifa->ifa_prefixlen = 32;
    ifa->ifa_scope = RT_SCOPE_LINK;
    ifa->ifa_index = *idx;
    mnl_attr_put(nlh, IFA_LOCAL, sizeof(in_addr), &*addr);
    mnl_attr_put(nlh, IFA_ADDRESS, sizeof(in_addr), &*addr);
    auto rc = nl.exchange(nlh);
    if (!rc) return std::unexpected(rc.error());
    if (*rc) return fail_errno(std::string("add gateway ") + kJailGateway + " on " + veth, *rc);
    return {};
}

Result<void> delete_link(const std::string& name) {
    unsigned idx = if_nametoindex(name.c_str());
    if (idx == 0) return {};
    Netlink nl;
    nlmsghdr* nlh = nl.start(RTM_DELLINK, NLM_F_ACK);
    auto* ifi = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = static_cast<int>(idx);
    auto rc = nl.exchange(nlh);
    if (!rc) return std::unexpected(rc.error());
    if (*rc && *rc != ENODEV) return fail_errno("delete interface " + name, *rc);
    return {};
}

Result<void> delete_route(const std::string& ip) {
    auto addr = parse_addr(ip);
    if (!addr) return std::unexpected(addr.error());
    Netlink nl;
    nlmsghdr* nlh = nl.start(RTM_DELROUTE, NLM_F_ACK);
    auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
    rtm->rtm_family = AF_INET;
    rtm->rtm_dst_len = 32;
    rtm->rtm_table = RT_TABLE_MAIN;
    rtm->rtm_scope = RT_SCOPE_NOWHERE;
    mnl_attr_put(nlh, RTA_DST, sizeof(in_addr), &*addr);
    auto rc = nl.exchange(nlh);
    if (!rc) return std::unexpected(rc.error());
    if (*rc && *rc != ESRCH && *rc != ENOENT) return fail_errno("delete route " + ip + "/32", *rc);
    return {};
}

Result<std::optional<std::string>> route_device(const std::string& ip) {
    auto addr = parse_addr(ip);
    if (!addr) return std::unexpected(addr.error());
    std::optional<std::string> device;
    auto each = [&](const nlmsghdr* msg) {
        auto* r = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(msg));
        if (r->rtm_dst_len != 32 || r->rtm_table != RT_TABLE_MAIN) return;
        bool dst = false;
        unsigned oif = 0;
        for_each_attr(msg, sizeof(rtmsg), [&](const nlattr* attr) {
            if (mnl_attr_get_type(attr) == RTA_DST && mnl_attr_get_u32(attr) == addr->s_addr) dst = true;
            if (mnl_attr_get_type(attr) == RTA_OIF) oif = mnl_attr_get_u32(attr);
        });
        if (!dst) return;
        char name[IF_NAMESIZE] = {};
        device = oif && ::if_indextoname(oif, name) ? std::string(name) : std::string();
    };
    auto rc = run_dump(ipv4_route_dump, each, [&] { device.reset(); });
    if (!rc) return std::unexpected(rc.error());
    if (*rc) return fail_errno("read the routing table", *rc);
    return device;
}

Result<bool> route_exists(const std::string& ip) {
    auto device = route_device(ip);
    if (!device) return std::unexpected(device.error());
    return device->has_value();
}

Result<void> delete_proxy_neighbour(const std::string& ip, const std::string& uplink) {
    if (!link_exists(uplink)) return {};
    int err = 0;
    if (auto r = neighbour_request(RTM_DELNEIGH, NLM_F_ACK, ip, uplink, err); !r) return r;
    if (err && err != ENOENT) return fail_errno("delete proxy ARP entry " + ip + " on " + uplink, err);
    return {};
}

Result<bool> proxy_neighbour_exists(const std::string& ip, const std::string& uplink) {
    if (!link_exists(uplink)) return false;
    int err = 0;
    if (auto r = neighbour_request(RTM_GETNEIGH, 0, ip, uplink, err); !r) return std::unexpected(r.error());
    return err == 0;
}

Result<void> restrict_to_own_address(const std::string& veth) {
    for (auto [knob, value] : {std::pair{"rp_filter", "1"}, std::pair{"proxy_arp", "0"}, std::pair{"accept_local", "0"}}) {
        std::string path = "/proc/sys/net/ipv4/conf/" + veth + "/" + knob;
        std::ofstream out(path);
        out << value << "\n";
        out.flush();
        if (!out) return fail_errno("set " + path + " = " + value, errno);
    }
    // Best effort: hosts without IPv6 have no such knob.
    std::ofstream("/proc/sys/net/ipv6/conf/" + veth + "/disable_ipv6") << "1\n";
    return {};
}

Result<bool> ipv4_forwarding_enabled() {
    auto v = read_sysctl("/proc/sys/net/ipv4/ip_forward");
    if (!v) return std::unexpected(v.error());
    return *v == "1";
}

Result<void> enable_ipv4_forwarding() {
    std::ofstream out("/proc/sys/net/ipv4/ip_forward");
    out << "1\n";
    out.flush();
    if (!out) return fail_errno("enable IPv4 forwarding (/proc/sys/net/ipv4/ip_forward)", errno);
    return {};
}

}  // namespace jailctl
