#include "jail/ftp_user.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>

namespace jailctl {
namespace {

std::string user_for(std::string_view domain) {
    auto d = Domain::parse(domain);
    EXPECT_TRUE(d.has_value()) << domain;
    return d ? derive_ftp_user(*d) : "";
}

// Debian adduser's NAME_REGEX ^[a-z][-a-z0-9_]*$, spelled out (std::regex trips a GCC 12
// -Wmaybe-uninitialized false positive in the Sanitize build), plus the 32-character limit.
bool is_valid_posix_name(const std::string& name) {
    auto lower = [](char c) { return c >= 'a' && c <= 'z'; };
    if (name.empty() || name.size() > kMaxFtpUserLength || !lower(name[0])) return false;
    for (char c : name)
        if (!lower(c) && !(c >= '0' && c <= '9') && c != '-' && c != '_') return false;
    return true;
}

TEST(FtpUser, Examples) {
    const std::pair<const char*, const char*> cases[] = {
        {"example.com", "examplecom"},
        {"shop.example.com", "shopexamplecom"},
        {"My-Site.example", "my-siteexample"},
        {"xn--bcher-kva.example", "xnbcher-kvaexample"},
        {"bücher.example", "xnbcher-kvaexample"},
        {"faß.de", "xnfa-hiade"},
        {"1und1.de", "u1und1de"},
        {"123.example", "u123example"},
        {"b.in", "bin-ftp"},
        {"ro.ot", "root-ftp"},
        {"www-dat.a", "www-data-ftp"},
        {"f.tp", "ftp-ftp"},
        {"nobo.dy", "nobody-ftp"},
        {"a.b", "ab"},
    };
    for (auto [domain, want] : cases) EXPECT_EQ(user_for(domain), want) << domain;
}

TEST(FtpUser, TruncatedTo32WithoutTrailingHyphen) {
    EXPECT_EQ(user_for("abcdefghijklmnopqrstuvwxyz.example.com"), "abcdefghijklmnopqrstuvwxyzexampl");
    // Cut falls right after a '-': it is dropped.
    std::string name = user_for(std::string(30, 'a') + "-b-c.example");
    EXPECT_EQ(name, std::string(30, 'a') + "-b");
    name = user_for(std::string(31, 'a') + "-bc.example");
    EXPECT_EQ(name, std::string(31, 'a'));
    name = user_for(std::string(63, '7') + ".example");
    EXPECT_EQ(name, "u" + std::string(31, '7'));
}

TEST(FtpUser, VariantsKeep32CharactersAndTheRegex) {
    EXPECT_EQ(ftp_user_variant("examplecom", 1), "examplecom");
    EXPECT_EQ(ftp_user_variant("examplecom", 2), "examplecom-2");
    EXPECT_EQ(ftp_user_variant("examplecom", 12), "examplecom-12");
    const std::string full(32, 'a');
    EXPECT_EQ(ftp_user_variant(full, 2), std::string(30, 'a') + "-2");
    EXPECT_EQ(ftp_user_variant(full, 100), std::string(28, 'a') + "-100");
    EXPECT_EQ(ftp_user_variant(std::string(29, 'a') + "-bb", 2), std::string(29, 'a') + "-2");  // no "--"
}

TEST(FtpUser, ReservedNamesKnown) {
    for (const char* n : {"root", "daemon", "bin", "www-data", "nobody", "ftp", "nogroup", "sshd", "vsftpd"})
        EXPECT_TRUE(is_reserved_system_name(n)) << n;
    EXPECT_FALSE(is_reserved_system_name("examplecom"));
}

// A random valid domain: random labels from a-z 0-9 '-' and some non-ASCII letters, kept
// only when Domain::parse accepts them, so every shape Domain allows is exercised.
std::string random_domain_text(std::mt19937& rng) {
    static const std::vector<std::string> kSymbols = {"a", "b", "c", "k", "m", "x", "y", "z", "n",  "0", "1",
                                                      "7", "9", "-", "-", "ü", "ß", "é", "ж", "中", "x", "n"};
    std::uniform_int_distribution<int> label_count(2, 5), label_len(1, 40),
        pick(0, static_cast<int>(kSymbols.size()) - 1);
    std::string out;
    int labels = label_count(rng);
    for (int l = 0; l < labels; ++l) {
        if (l) out += '.';
        int len = label_len(rng);
        if (rng() % 6 == 0) out += "xn--";
        for (int i = 0; i < len; ++i) out += kSymbols[static_cast<size_t>(pick(rng))];
    }
    if (rng() % 4 == 0) out += "." + std::string(1 + rng() % 3, 'o');
    return out;
}

TEST(FtpUser, RegexAndLengthHoldForRandomValidDomains) {
    std::mt19937 rng(20240601);  // fixed seed: reproducible test input, not security relevant
    std::set<std::string> domains;
    int attempts = 0;
    while (domains.size() < 200 && attempts++ < 200000) {
        auto d = Domain::parse(random_domain_text(rng));
        if (!d) continue;
        domains.insert(d->str());
        std::string name = derive_ftp_user(*d);
        EXPECT_TRUE(is_valid_posix_name(name)) << d->str() << " -> " << name;
        EXPECT_FALSE(is_reserved_system_name(name)) << d->str() << " -> " << name;
        EXPECT_NE(name.back(), '-') << d->str();
    }
    EXPECT_EQ(domains.size(), 200u) << "generator produced too few valid domains";
    auto punycode = std::count_if(domains.begin(), domains.end(),
                                  [](const std::string& d) { return d.find("xn--") != std::string::npos; });
    EXPECT_GE(punycode, 20) << "generator should exercise internationalised names";
}

}  // namespace
}  // namespace jailctl
