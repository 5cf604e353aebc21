#include "host/arp_probe.h"

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>

#include "util/fd.h"
#include "util/text.h"

namespace jailctl {
namespace {

// Ethernet header (14) + ARP for IPv4 over Ethernet (28).
constexpr size_t kEthHeader = 14;
constexpr size_t kArpFrame = kEthHeader + 28;

void put16(std::vector<uint8_t>& out, uint16_t v) {
    out.push_back(static_cast<uint8_t>(v >> 8));
    out.push_back(static_cast<uint8_t>(v));
}
void put32(std::vector<uint8_t>& out, uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(v >> shift));
}
void put_mac(std::vector<uint8_t>& out, const MacAddress& mac) { out.insert(out.end(), mac.begin(), mac.end()); }

uint16_t get16(std::span<const uint8_t> p, size_t at) { return static_cast<uint16_t>(p[at] << 8 | p[at + 1]); }
uint32_t get32(std::span<const uint8_t> p, size_t at) {
    return uint32_t{p[at]} << 24 | uint32_t{p[at + 1]} << 16 | uint32_t{p[at + 2]} << 8 | p[at + 3];
}
MacAddress get_mac(std::span<const uint8_t> p, size_t at) {
    MacAddress mac;
    std::copy_n(p.begin() + static_cast<std::ptrdiff_t>(at), mac.size(), mac.begin());
    return mac;
}

Result<MacAddress> interface_mac(int fd, const std::string& ifname) {
    ifreq req{};
    if (ifname.size() >= sizeof req.ifr_name) return fail("interface name too long: " + ifname);
    std::memcpy(req.ifr_name, ifname.c_str(), ifname.size());
    if (::ioctl(fd, SIOCGIFHWADDR, &req) != 0) return fail_errno("read the hardware address of " + ifname, errno);
    if (req.ifr_hwaddr.sa_family != ARPHRD_ETHER) return fail(ifname + " is not an Ethernet interface (no ARP on it)");
    MacAddress mac;
    std::memcpy(mac.data(), req.ifr_hwaddr.sa_data, mac.size());
    return mac;
}

}  // namespace

std::string format_mac(const MacAddress& mac) { return hex(mac, {.separator = ':'}); }

std::vector<uint8_t> build_arp_request(const MacAddress& own, Ipv4 sender, Ipv4 target) {
    std::vector<uint8_t> frame;
    frame.reserve(kArpFrame);
    put_mac(frame, MacAddress{0xff, 0xff, 0xff, 0xff, 0xff, 0xff});  // to everyone on the LAN
    put_mac(frame, own);
    put16(frame, ETH_P_ARP);
    put16(frame, ARPHRD_ETHER);
    put16(frame, ETH_P_IP);
    frame.push_back(6);  // hardware address length
    frame.push_back(4);  // protocol address length
    put16(frame, ARPOP_REQUEST);
    put_mac(frame, own);
    put32(frame, sender.host_order());
    put_mac(frame, MacAddress{});
    put32(frame, target.host_order());
    return frame;
}

std::vector<uint8_t> build_arp_probe(const MacAddress& own, Ipv4 ip) {
    return build_arp_request(own, Ipv4::from_host_order(0), ip);  // sender 0.0.0.0: teaches no cache anything
}

std::optional<MacAddress> arp_conflict(std::span<const uint8_t> frame, Ipv4 ip, const MacAddress& own) {
    if (frame.size() < kArpFrame || get16(frame, 12) != ETH_P_ARP) return std::nullopt;
    auto arp = frame.subspan(kEthHeader);
    if (get16(arp, 0) != ARPHRD_ETHER || get16(arp, 2) != ETH_P_IP || arp[4] != 6 || arp[5] != 4) return std::nullopt;
    uint16_t op = get16(arp, 6);
    if (op != ARPOP_REQUEST && op != ARPOP_REPLY) return std::nullopt;
    MacAddress sender = get_mac(arp, 8);
    uint32_t sender_ip = get32(arp, 14), target_ip = get32(arp, 24);
    if (sender == own) return std::nullopt;  // our own probe, seen again
    if (sender_ip == ip.host_order()) return sender;
    if (sender_ip == 0 && op == ARPOP_REQUEST && target_ip == ip.host_order()) return sender;  // probing too
    return std::nullopt;
}

namespace {

// An AF_PACKET socket on `ifname`, the interface's MAC address, and the broadcast destination
// to send to. The kernel makes binding a packet socket that is hooked into the receive path, and
// closing any packet socket, wait for an RCU grace period (synchronize_net: 15-35 ms measured,
// twice per announcement before). So the socket is opened with protocol 0 (hooked nowhere),
// bound only when it must `receive` ARP, and closed by a thread of its own while the caller
// goes on (the start waits for HTTP meanwhile).
struct ArpSocket {
    Fd fd;
    MacAddress own{};
    sockaddr_ll to{};
    ArpSocket() = default;
    ArpSocket(ArpSocket&&) = default;
    ArpSocket& operator=(ArpSocket&&) = default;
    ~ArpSocket() {
        if (fd.valid()) std::thread([closing = std::move(fd)]() {}).detach();
    }
};

Result<ArpSocket> open_arp_socket(const std::string& ifname, bool receive) {
    ArpSocket s;
    s.fd = Fd(::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0));
    if (!s.fd.valid()) return fail_errno("open a packet socket for ARP on " + ifname, errno);
    auto own = interface_mac(s.fd.get(), ifname);
    if (!own) return std::unexpected(own.error());
    s.own = *own;
    unsigned index = ::if_nametoindex(ifname.c_str());
    if (index == 0) return fail_errno("find the interface " + ifname, errno);
    s.to.sll_family = AF_PACKET;
    s.to.sll_protocol = htons(ETH_P_ARP);
    s.to.sll_ifindex = static_cast<int>(index);
    if (receive && ::bind(s.fd.get(), reinterpret_cast<sockaddr*>(&s.to), sizeof s.to) != 0)
        return fail_errno("bind a packet socket to " + ifname, errno);
    s.to.sll_halen = 6;
    std::fill_n(s.to.sll_addr, 6, 0xff);
    return s;
}

Result<void> send_frame(const ArpSocket& s, const std::vector<uint8_t>& frame, const std::string& ifname) {
    if (::sendto(s.fd.get(), frame.data(), frame.size(), 0, reinterpret_cast<const sockaddr*>(&s.to), sizeof s.to) < 0)
        return fail_errno("send an ARP packet on " + ifname, errno);
    return {};
}

}  // namespace

Result<void> send_arp_request(const std::string& ifname, Ipv4 sender, Ipv4 target) {
    auto s = open_arp_socket(ifname, false);
    if (!s) return std::unexpected(s.error());
    return send_frame(*s, build_arp_request(s->own, sender, target), ifname);
}

Result<std::optional<MacAddress>> probe_ipv4_in_use(const std::string& ifname, Ipv4 ip) {
    auto s = open_arp_socket(ifname, true);
    if (!s) return std::unexpected(s.error());
    const int fd = s->fd.get();
    const MacAddress* own = &s->own;
    const std::vector<uint8_t> probe = build_arp_probe(*own, ip);
    using Clock = std::chrono::steady_clock;
    const auto start = Clock::now();
    const auto deadline = start + std::chrono::milliseconds(kArpProbeWaitMs);
    int sent = 0;
    while (true) {
        auto now = Clock::now();
        if (sent < kArpProbes && now >= start + std::chrono::milliseconds(kArpProbeIntervalMs * sent)) {
            if (auto r = send_frame(*s, probe, ifname); !r) return std::unexpected(r.error());
            ++sent;
            continue;
        }
        if (now >= deadline) return std::nullopt;
        auto next = sent < kArpProbes ? start + std::chrono::milliseconds(kArpProbeIntervalMs * sent) : deadline;
        auto wait_ms = std::chrono::ceil<std::chrono::milliseconds>(std::min(next, deadline) - now).count();
        pollfd pfd{fd, POLLIN, 0};
        int ready = ::poll(&pfd, 1, static_cast<int>(std::max<int64_t>(wait_ms, 0)));
        if (ready < 0 && errno != EINTR) return fail_errno("wait for ARP answers on " + ifname, errno);
        if (ready <= 0) continue;
        uint8_t buf[256];
        sockaddr_ll from{};
        socklen_t from_len = sizeof from;
        ssize_t n = ::recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &from_len);
        if (n < 0) continue;
        if (from.sll_pkttype == PACKET_OUTGOING) continue;  // our own probes
        if (auto mac = arp_conflict({buf, static_cast<size_t>(n)}, ip, *own)) return mac;
    }
}

}  // namespace jailctl
