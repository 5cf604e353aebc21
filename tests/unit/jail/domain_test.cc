#include "jail/domain.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

namespace jailctl {
namespace {

TEST(Domain, EqualAfterCanonicalisation) {
    auto a = Domain::parse("Bücher.Example.");
    auto b = Domain::parse("xn--bcher-kva.example");
    ASSERT_TRUE(a && b);
    EXPECT_EQ(*a, *b);
    EXPECT_EQ(a->str(), "xn--bcher-kva.example");
}

TEST(Domain, NonTransitionalKeepsSharpS) {
    auto fass = Domain::parse("fass.de");
    auto fas = Domain::parse("faß.de");
    ASSERT_TRUE(fass && fas);
    EXPECT_NE(*fass, *fas);  // transitional processing would have made them the same domain
    EXPECT_EQ(fas->str(), "xn--fa-hia.de");
}

TEST(Domain, OrderedAndUsableAsKey) {
    std::set<Domain> set;
    for (const char* s : {"b.example", "a.example", "A.example", "a.example."}) set.insert(*Domain::parse(s));
    ASSERT_EQ(set.size(), 2u);
    EXPECT_EQ(set.begin()->str(), "a.example");
}

TEST(Domain, OnlyOneTrailingDotRemoved) {
    EXPECT_TRUE(Domain::parse("example.com.").has_value());
    EXPECT_FALSE(Domain::parse("example.com..").has_value());
}

TEST(Domain, LengthLimitsCountTheAsciiForm) {
    // 60 x 'ü' is 120 UTF-8 bytes but its punycode form is longer than 63 characters.
    std::string label;
    for (int i = 0; i < 60; ++i) label += "ü";
    auto r = Domain::parse(label + ".example");
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().kind, ErrorKind::BadInput);
    EXPECT_EQ(r.error().message.rfind("domain: ", 0), 0u) << r.error().message;
}

TEST(Domain, InputCapIsInclusive) {
    // 1024 bytes are read (and then refused for length), 1025 are refused before libidn2.
    std::string at_cap = std::string(1020, 'a') + ".com";
    auto r = Domain::parse(at_cap);
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.error().message.find("at most 63"), std::string::npos) << r.error().message;
    auto over = Domain::parse(at_cap + "x");
    ASSERT_FALSE(over.has_value());
    EXPECT_NE(over.error().message.find("1025 bytes long"), std::string::npos) << over.error().message;
}

}  // namespace
// The names a jail serves (issue 14, defect 7): never "www.www.", and a "www." domain also
// serves its bare name, so that the registry can refuse a second jail claiming either.
TEST(Domain, HostNames) {
    auto names = [](const char* d) { return Domain::parse(d)->host_names(); };
    using V = std::vector<std::string>;
    EXPECT_EQ(names("example.com"), (V{"example.com", "www.example.com"}));
    EXPECT_EQ(names("www.example.com"), (V{"www.example.com", "example.com"}));
    EXPECT_EQ(names("shop.example.com"), (V{"shop.example.com", "www.shop.example.com"}));
    EXPECT_EQ(names("www.com"), (V{"www.com", "www.www.com"}));  // the bare name would be a TLD
    EXPECT_EQ(names("wwwx.example"), (V{"wwwx.example", "www.wwwx.example"}));
    EXPECT_EQ(names("www.www.example.com"), (V{"www.www.example.com", "www.example.com"}));
    // The longest jail domain still has a www. form within DNS's 253 characters.
    std::string longest = std::string(63, 'a') + "." + std::string(63, 'b') + "." + std::string(63, 'c') + "." +
                          std::string(243 - 3 * 64 - 4, 'd') + ".com";
    ASSERT_EQ(longest.size(), Domain::kMaxLength);
    auto d = Domain::parse(longest);
    ASSERT_TRUE(d.has_value()) << d.error().message;
    EXPECT_LE(d->host_names()[1].size(), 253u);
}

// An alias is refused cluster-wide when it is one of another jail's own names: the domains
// whose host_names hold it.
TEST(Domain, DomainsServingAName) {
    using V = std::vector<std::string>;
    EXPECT_EQ(domains_serving("shop.example.com"), (V{"shop.example.com", "www.shop.example.com"}));
    EXPECT_EQ(domains_serving("www.example.com"), (V{"www.example.com", "www.www.example.com", "example.com"}));
    // www.com serves www.www.com (its bare form would be a TLD)
    EXPECT_EQ(domains_serving("www.www.com"), (V{"www.www.com", "www.www.www.com", "www.com"}));
    for (const auto& name : {"shop.example.com", "www.example.com", "www.www.com"})
        for (const auto& d : domains_serving(name)) {
            auto served = host_names(d);
            EXPECT_NE(std::ranges::find(served, name), served.end()) << d << " does not serve " << name;
        }
}

TEST(Domain, AliasErrorsNameTheAliasField) {
    EXPECT_EQ(*parse_alias("Shop.Example.COM."), "shop.example.com");
    auto bad = parse_alias("bad..example");
    ASSERT_FALSE(bad);
    EXPECT_TRUE(bad.error().message.starts_with("alias: ")) << bad.error().message;
}

}  // namespace jailctl
