#include "jail/ipv4.h"

#include <gtest/gtest.h>

namespace jailctl {
namespace {

Ipv4 ip(std::string_view s) {
    auto r = Ipv4::parse_syntax(s);
    EXPECT_TRUE(r.has_value()) << s;
    return r.value_or(Ipv4::from_host_order(0));
}

TEST(Ipv4, HostOrderRoundTrip) {
    EXPECT_EQ(ip("203.0.113.10").host_order(), 0xCB00710Au);
    EXPECT_EQ(Ipv4::from_host_order(0xC6336401u).str(), "198.51.100.1");
    for (uint32_t v : {0u, 1u, 0x7f000001u, 0xffffffffu, 0x01020304u})
        EXPECT_EQ(ip(Ipv4::from_host_order(v).str()).host_order(), v);
}

TEST(Ipv4, Ordering) {
    EXPECT_LT(ip("9.255.255.255"), ip("10.0.0.0"));
    EXPECT_EQ(ip("1.2.3.4"), Ipv4::from_host_order(0x01020304u));
    EXPECT_NE(ip("1.2.3.4"), ip("1.2.3.5"));
}

TEST(Ipv4, InSubnet) {
    EXPECT_TRUE(ip("203.0.113.10").in_subnet(ip("203.0.113.0"), 24));
    EXPECT_TRUE(ip("203.0.113.255").in_subnet(ip("203.0.113.77"), 24));  // host bits of the network ignored
    EXPECT_FALSE(ip("203.0.114.0").in_subnet(ip("203.0.113.0"), 24));
    EXPECT_TRUE(ip("1.2.3.4").in_subnet(ip("1.2.3.4"), 32));
    EXPECT_FALSE(ip("1.2.3.5").in_subnet(ip("1.2.3.4"), 32));
    EXPECT_TRUE(ip("8.8.8.8").in_subnet(ip("0.0.0.0"), 0));
    EXPECT_TRUE(ip("172.31.255.255").in_subnet(ip("172.16.0.0"), 12));
    EXPECT_FALSE(ip("172.32.0.0").in_subnet(ip("172.16.0.0"), 12));
    EXPECT_FALSE(ip("1.2.3.4").in_subnet(ip("1.2.3.4"), 33));
    EXPECT_FALSE(ip("1.2.3.4").in_subnet(ip("1.2.3.4"), -1));
}

TEST(Ipv4, PrefixMask) {
    EXPECT_EQ(prefix_mask(0), 0u);
    EXPECT_EQ(prefix_mask(24), 0xffffff00u);
    EXPECT_EQ(prefix_mask(31), 0xfffffffeu);
    EXPECT_EQ(prefix_mask(32), 0xffffffffu);
}

struct UplinkCase {
    const char* ip;
    const char* uplink;
    int prefix;
    const char* error_has;  // nullptr: accepted
};

TEST(Ipv4, CheckNotUplinkReserved) {
    const UplinkCase cases[] = {
        {"203.0.113.10", "203.0.113.1", 24, nullptr},
        {"203.0.113.254", "203.0.113.1", 24, nullptr},
        {"198.51.100.7", "203.0.113.1", 24, nullptr},  // outside the uplink subnet: routed, fine
        {"203.0.113.1", "203.0.113.1", 24, "ip: 203.0.113.1 is the uplink's own address"},
        {"203.0.113.0", "203.0.113.1", 24,
         "ip: 203.0.113.0 is the network address of the uplink subnet 203.0.113.0/24"},
        {"203.0.113.255", "203.0.113.1", 24,
         "ip: 203.0.113.255 is the broadcast address of the uplink subnet 203.0.113.0/24"},
        {"203.0.113.127", "203.0.113.1", 25, "broadcast address of the uplink subnet 203.0.113.0/25"},
        {"203.0.113.128", "203.0.113.1", 25, nullptr},
        {"203.0.113.8", "203.0.113.9", 30, "network address of the uplink subnet 203.0.113.8/30"},
        {"203.0.113.11", "203.0.113.9", 30, "broadcast address"},
        {"203.0.113.10", "203.0.113.9", 30, nullptr},
        {"203.0.113.8", "203.0.113.9", 31, nullptr},  // RFC 3021: no network/broadcast in a /31
        {"203.0.113.9", "203.0.113.9", 31, "uplink's own address"},
        {"203.0.113.9", "203.0.113.9", 32, "uplink's own address"},
        {"203.0.113.0", "203.0.113.9", 32, nullptr},
        {"10.0.0.0", "10.1.2.3", 8, "network address of the uplink subnet 10.0.0.0/8"},
        {"10.255.255.255", "10.1.2.3", 8, "broadcast address"},
        {"203.0.113.10", "203.0.113.1", 33, "uplink prefix: 33 is outside 0-32"},
        {"203.0.113.10", "203.0.113.1", -1, "uplink prefix"},
    };
    for (const UplinkCase& c : cases) {
        SCOPED_TRACE(std::string(c.ip) + " with uplink " + c.uplink + "/" + std::to_string(c.prefix));
        Result<void> r = check_not_uplink_reserved(ip(c.ip), ip(c.uplink), c.prefix);
        if (c.error_has == nullptr) {
            EXPECT_TRUE(r.has_value()) << r.error().message;
        } else {
            ASSERT_FALSE(r.has_value());
            EXPECT_EQ(r.error().kind, ErrorKind::BadInput);
            EXPECT_NE(r.error().message.find(c.error_has), std::string::npos) << r.error().message;
        }
    }
}

// Every canonical string parses back to the same address; the parser never accepts a
// non-canonical spelling of any address (checked on a sweep of the space).
TEST(Ipv4, CanonicalFormIsTheOnlySpelling) {
    for (uint64_t v = 0; v <= 0xffffffffu; v += 0x01010101u / 7 + 1) {
        Ipv4 a = Ipv4::from_host_order(static_cast<uint32_t>(v));
        auto back = Ipv4::parse_syntax(a.str());
        ASSERT_TRUE(back.has_value()) << a.str();
        EXPECT_EQ(*back, a);
        EXPECT_FALSE(Ipv4::parse_syntax("0" + a.str()).has_value()) << "0" + a.str();
        EXPECT_FALSE(Ipv4::parse_syntax(a.str() + ".").has_value());
    }
}

TEST(Ipv4, InUplinkSubnet) {
    auto on = check_in_uplink_subnet(ip("203.0.113.10"), ip("203.0.113.1"), 24, false);
    ASSERT_TRUE(on);
    EXPECT_EQ(*on, "");
    auto refused = check_in_uplink_subnet(ip("198.51.100.7"), ip("203.0.113.1"), 24, false);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().kind, ErrorKind::BadInput);
    EXPECT_EQ(refused.error().message.rfind("ip: 198.51.100.7 is outside the uplink's subnet 203.0.113.0/24", 0), 0u);
    EXPECT_NE(refused.error().message.find("--routed"), std::string::npos);
    auto warned = check_in_uplink_subnet(ip("198.51.100.7"), ip("203.0.113.1"), 24, true);
    ASSERT_TRUE(warned);
    EXPECT_NE(warned->find("outside the uplink's subnet 203.0.113.0/24"), std::string::npos);
    EXPECT_EQ(*check_in_uplink_subnet(ip("198.51.100.7"), ip("203.0.113.1"), 0, false), "");  // a /0 holds all
}

}  // namespace
}  // namespace jailctl
