#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "services/acme.h"

namespace jailctl {
namespace {

constexpr std::time_t kNow = 1'800'000'000;
constexpr std::time_t kDay = 86400;

CertificateFacts acme_facts(std::time_t not_after, std::vector<std::string> names) {
    CertificateFacts f;
    f.not_after_time = not_after;
    f.not_after = "then";
    f.dns_names = std::move(names);
    return f;
}

const std::vector<std::string> kNames = {"shop.example.com", "www.shop.example.com"};

TEST(RenewalReason, NotDueWhileValidLongerThanTheThreshold) {
    EXPECT_EQ(renewal_reason(acme_facts(kNow + 31 * kDay, kNames), kNames, 30, kNow), std::nullopt);
}

TEST(RenewalReason, DueWithinTheThreshold) {
    auto why = renewal_reason(acme_facts(kNow + 29 * kDay, kNames), kNames, 30, kNow);
    ASSERT_TRUE(why);
    EXPECT_NE(why->find("within 30 days"), std::string::npos) << *why;
    EXPECT_TRUE(renewal_reason(acme_facts(kNow - kDay, kNames), kNames, 30, kNow));  // expired
}

TEST(RenewalReason, SelfSignedIsAlwaysDue) {
    auto f = acme_facts(kNow + 3650 * kDay, kNames);
    f.self_signed = true;
    EXPECT_EQ(renewal_reason(f, kNames, 30, kNow), "self-signed");
}

TEST(RenewalReason, AMissingNameIsDue) {
    auto names = kNames;
    names.push_back("alias.example.org");
    EXPECT_EQ(renewal_reason(acme_facts(kNow + 80 * kDay, kNames), names, 30, kNow),
              "does not cover alias.example.org");
}

TEST(AcmeSettings, OffIsValid) { EXPECT_TRUE(check_acme_settings({})); }

TEST(AcmeSettings, BadValuesNameTheKey) {
    auto bad = [](AcmeSettings s, const std::string& key) {
        auto r = check_acme_settings(s);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().kind, ErrorKind::BadInput);
        EXPECT_EQ(r.error().message.rfind(key + ": ", 0), 0u) << r.error().message;
    };
    bad({"http://ca.example/dir", "", ""}, "acme_directory");
    bad({"https://", "", ""}, "acme_directory");
    bad({"https://ca.example/dir", "hostmaster", ""}, "acme_email");
    bad({"https://ca.example/dir", "a@b, c@d", ""}, "acme_email");
    bad({"https://ca.example/dir", "", "/nonexistent/ca.pem"}, "acme_ca_bundle");
    char path[] = "/tmp/acme_test.XXXXXX";
    int fd = ::mkstemp(path);
    ASSERT_GE(fd, 0);
    ::close(fd);
    std::ofstream(path) << "not a certificate\n";
    bad({"https://ca.example/dir", "", path}, "acme_ca_bundle");
    std::remove(path);
}

TEST(AcmeSettings, GoodValues) {
    EXPECT_TRUE(check_acme_settings({"https://acme-v02.api.letsencrypt.org/directory", "hostmaster@example.net", ""}));
}

}  // namespace
}  // namespace jailctl
