#include "host/arp_probe.h"

#include <gtest/gtest.h>

namespace jailctl {
namespace {

const MacAddress kOwn{0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
const MacAddress kOther{0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee};

Ipv4 ip(const char* s) { return *Ipv4::parse_syntax(s); }

// An ARP packet as another host sends it (op, sender MAC and IP, target IP).
std::vector<uint8_t> arp_from(uint16_t op, const MacAddress& sender, uint32_t sender_ip, uint32_t target_ip) {
    std::vector<uint8_t> f = build_arp_probe(sender, Ipv4::from_host_order(target_ip));
    f[21] = static_cast<uint8_t>(op);
    for (int i = 0; i < 4; ++i) f[28 + i] = static_cast<uint8_t>(sender_ip >> (24 - 8 * i));
    return f;
}

TEST(ArpProbe, FrameLayout) {
    auto f = build_arp_probe(kOwn, ip("203.0.113.20"));
    ASSERT_EQ(f.size(), 42u);
    const std::vector<uint8_t> want = {
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06,  // Ethernet, ARP
        0x00, 0x01, 0x08, 0x00, 6,    4,    0x00, 0x01,                                      // Ethernet/IPv4, request
        0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0,    0,    0,    0,                             // sender: us, 0.0.0.0
        0,    0,    0,    0,    0,    0,    203,  0,    113,  20};                           // target: 203.0.113.20
    EXPECT_EQ(f, want);
}

TEST(ArpRequest, GratuitousAndFromTheGateway) {
    // gratuitous: sender IP = target IP = the jail's, our MAC (what proxy ARP answers with)
    auto g = build_arp_request(kOwn, ip("203.0.113.20"), ip("203.0.113.20"));
    ASSERT_EQ(g.size(), 42u);
    EXPECT_EQ(std::vector<uint8_t>(g.begin() + 28, g.begin() + 32), (std::vector<uint8_t>{203, 0, 113, 20}));
    EXPECT_EQ(std::vector<uint8_t>(g.begin() + 38, g.end()), (std::vector<uint8_t>{203, 0, 113, 20}));
    // the gateway asking for the jail: sender 169.254.0.1, target the jail
    auto q = build_arp_request(kOwn, ip("169.254.0.1"), ip("203.0.113.20"));
    EXPECT_EQ(std::vector<uint8_t>(q.begin() + 28, q.begin() + 32), (std::vector<uint8_t>{169, 254, 0, 1}));
    EXPECT_EQ(std::vector<uint8_t>(q.begin() + 22, q.begin() + 28), std::vector<uint8_t>(kOwn.begin(), kOwn.end()));
    // a probe is the same request from 0.0.0.0
    EXPECT_EQ(build_arp_probe(kOwn, ip("203.0.113.20")), build_arp_request(kOwn, Ipv4::from_host_order(0), ip("203.0.113.20")));
    // and the holder's gratuitous ARP is what duplicate address detection calls a conflict
    EXPECT_TRUE(arp_conflict(build_arp_request(kOther, ip("203.0.113.20"), ip("203.0.113.20")), ip("203.0.113.20"), kOwn));
}

TEST(ArpProbe, ReplyFromTheHolderIsAConflict) {
    auto reply = arp_from(2, kOther, ip("203.0.113.254").host_order(), 0);
    auto mac = arp_conflict(reply, ip("203.0.113.254"), kOwn);
    ASSERT_TRUE(mac);
    EXPECT_EQ(format_mac(*mac), "02:aa:bb:cc:dd:ee");
    // its own gratuitous request or an ordinary request from it says the same
    EXPECT_TRUE(arp_conflict(arp_from(1, kOther, ip("203.0.113.254").host_order(), 0), ip("203.0.113.254"), kOwn));
}

TEST(ArpProbe, AnotherProbeForTheSameAddressIsAConflict) {
    EXPECT_TRUE(arp_conflict(build_arp_probe(kOther, ip("203.0.113.20")), ip("203.0.113.20"), kOwn));
    EXPECT_FALSE(arp_conflict(build_arp_probe(kOther, ip("203.0.113.21")), ip("203.0.113.20"), kOwn));
}

TEST(ArpProbe, UnrelatedTrafficIsNot) {
    EXPECT_FALSE(arp_conflict(build_arp_probe(kOwn, ip("203.0.113.20")), ip("203.0.113.20"), kOwn));  // our own
    // a request from another host about the address (it wants to reach it): not a holder
    EXPECT_FALSE(arp_conflict(arp_from(1, kOther, ip("203.0.113.5").host_order(), ip("203.0.113.20").host_order()),
                              ip("203.0.113.20"), kOwn));
    EXPECT_FALSE(arp_conflict(arp_from(2, kOther, ip("203.0.113.5").host_order(), 0), ip("203.0.113.20"), kOwn));
    auto truncated = arp_from(2, kOther, ip("203.0.113.20").host_order(), 0);
    truncated.resize(41);
    EXPECT_FALSE(arp_conflict(truncated, ip("203.0.113.20"), kOwn));
    auto not_arp = arp_from(2, kOther, ip("203.0.113.20").host_order(), 0);
    not_arp[13] = 0x00;  // EtherType 0x0800
    EXPECT_FALSE(arp_conflict(not_arp, ip("203.0.113.20"), kOwn));
    auto bad_op = arp_from(3, kOther, ip("203.0.113.20").host_order(), 0);
    EXPECT_FALSE(arp_conflict(bad_op, ip("203.0.113.20"), kOwn));
}

}  // namespace
}  // namespace jailctl
