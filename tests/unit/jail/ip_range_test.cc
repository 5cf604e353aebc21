#include "jail/ip_range.h"

#include <gtest/gtest.h>

namespace jailctl {
namespace {

Ipv4 ip(std::string_view s) { return *Ipv4::parse_syntax(s); }

IpRange range(std::string_view s) {
    auto r = IpRange::parse(s);
    EXPECT_TRUE(r) << s << ": " << (r ? "" : r.error().message);
    return *r;
}

TEST(IpRange, FirstLastIsInclusive) {
    auto r = range("203.0.113.70-203.0.113.90");
    EXPECT_EQ(r.str(), "203.0.113.70-203.0.113.90");
    EXPECT_EQ(r.size(), 21u);
    EXPECT_TRUE(r.contains(ip("203.0.113.70")));
    EXPECT_TRUE(r.contains(ip("203.0.113.90")));
    EXPECT_FALSE(r.contains(ip("203.0.113.91")));
    EXPECT_EQ(range("203.0.113.5-203.0.113.5").size(), 1u);
}

TEST(IpRange, CidrLeavesOutItsNetworkAndBroadcast) {
    auto r = range("203.0.113.64/26");
    EXPECT_EQ(r.str(), "203.0.113.65-203.0.113.126");
    EXPECT_EQ(r.size(), 62u);
    EXPECT_EQ(range("198.51.100.0/30").str(), "198.51.100.1-198.51.100.2");
    EXPECT_EQ(range("198.51.100.6/31").str(), "198.51.100.6-198.51.100.7");  // RFC 3021: no network address
    EXPECT_EQ(range("198.51.100.9/32").str(), "198.51.100.9-198.51.100.9");
    EXPECT_EQ(range("10.1.0.0/16").size(), 65534u);
}

TEST(IpRange, RefusalsNameTheFieldAndTheReason) {
    const std::pair<const char*, const char*> bad[] = {
        {"", "neither FIRST-LAST nor a CIDR"},
        {"203.0.113.5", "neither FIRST-LAST nor a CIDR"},
        {"203.0.113.90-203.0.113.70", "the first address is above the last"},
        {"203.0.113.70-203.0.113.300", "above 255"},
        {"203.0.113.64/33", "prefix length"},
        {"203.0.113.64/", "prefix length"},
        {"203.0.113.64/026", "prefix length"},
        {"203.0.113.65/26", "host bits set (203.0.113.64/26?)"},
        {"10.0.0.0/15", "more than 65536"},
        {"10.0.0.1-10.1.0.1", "holds 65537 addresses"},
        {"127.0.0.1-127.0.0.9", "loopback"},
        {"126.255.255.250-127.0.0.5", "loopback"},
        {"203.0.113.1-203.0.113.2/24", "not an IPv4 address"},
    };
    for (const auto& [input, why] : bad) {
        auto r = IpRange::parse(input);
        ASSERT_FALSE(r) << input;
        EXPECT_EQ(r.error().kind, ErrorKind::BadInput) << input;
        EXPECT_TRUE(r.error().message.starts_with("range: ")) << r.error().message;
        EXPECT_NE(r.error().message.find(why), std::string::npos) << input << ": " << r.error().message;
    }
}

TEST(IpRange, Overlaps) {
    auto a = range("203.0.113.64/26");
    EXPECT_TRUE(a.overlaps(range("203.0.113.126-203.0.113.130")));
    EXPECT_TRUE(a.overlaps(range("203.0.113.0/24")));
    EXPECT_TRUE(range("203.0.113.0/24").overlaps(a));
    EXPECT_FALSE(a.overlaps(range("203.0.113.127-203.0.113.130")));
    EXPECT_FALSE(a.overlaps(range("203.0.113.10-203.0.113.64")));
}

TEST(LowestFree, TakesTheLowestUnusedAddressOfAnyPool) {
    const std::vector<IpRange> pools = {range("203.0.113.100-203.0.113.102"), range("203.0.113.10-203.0.113.11")};
    EXPECT_EQ(lowest_free(pools, {})->str(), "203.0.113.10");
    EXPECT_EQ(lowest_free(pools, {ip("203.0.113.10")})->str(), "203.0.113.11");
    EXPECT_EQ(lowest_free(pools, {ip("203.0.113.10"), ip("203.0.113.11")})->str(), "203.0.113.100");
    EXPECT_EQ(lowest_free(pools, {ip("203.0.113.10"), ip("203.0.113.11"), ip("203.0.113.100"), ip("203.0.113.5")})->str(),
              "203.0.113.101");
    EXPECT_FALSE(lowest_free(pools, {ip("203.0.113.10"), ip("203.0.113.11"), ip("203.0.113.100"), ip("203.0.113.101"),
                                     ip("203.0.113.102")}));
    EXPECT_FALSE(lowest_free({}, {}));
}

}  // namespace
}  // namespace jailctl
