#include "cli/status_format.h"

#include <gtest/gtest.h>

namespace jailctl {
namespace {

JailStatus status(const std::string& domain, const std::string& ip, JailState state, std::string reason = "") {
    JailStatus s;
    s.rec.domain = domain;
    s.rec.ip = ip;
    s.rec.size_bytes = 512ull << 20;
    s.rec.ftp_user = "u";
    s.state = state;
    s.reason = std::move(reason);
    return s;
}

TEST(StatusFormat, ClassicText) {
    std::vector<JailStatus> jails = {status("a.example", "203.0.113.161", JailState::Running),
                                     status("b.example", "203.0.113.162", JailState::Stopped),
                                     status("c.example", "203.0.113.175", JailState::NotConfigured, "image missing")};
    EXPECT_EQ(status_text(jails),
              "Jail status (*=running, !=not configured):\n"
              "*a.example (203.0.113.161)\n"
              " b.example (203.0.113.162)\n"
              "!c.example (203.0.113.175)\n");
    EXPECT_EQ(status_text({}), "Jail status (*=running, !=not configured):\n");
}

TEST(StatusFormat, Json) {
    auto j = status_json({status("a.example", "203.0.113.161", JailState::Running),
                          status("c.example", "203.0.113.175", JailState::NotConfigured, "image missing")});
    ASSERT_EQ(j.size(), 2u);
    EXPECT_EQ(j[0]["state"], "running");
    EXPECT_EQ(j[0]["size_bytes"], 512ull << 20);
    EXPECT_TRUE(j[0]["reason"].is_null());
    EXPECT_EQ(j[1]["state"], "not-configured");
    EXPECT_EQ(j[1]["reason"], "image missing");
    for (const char* key : {"domain", "ip", "state", "size_bytes", "used_bytes", "ftp_user", "created", "reason"})
        EXPECT_TRUE(j[0].contains(key)) << key;
}

// Issue 14, defect 5: a disk at least 90 % full is marked in the text; the JSON has free and percent.
TEST(StatusFormat, FullDisks) {
    auto full = status("a.example", "203.0.113.161", JailState::Running);
    full.disk_known = true, full.used_bytes = 95ull << 20, full.free_bytes = 5ull << 20;
    auto fine = status("b.example", "203.0.113.162", JailState::Running);
    fine.disk_known = true, fine.used_bytes = 89ull << 20, fine.free_bytes = 11ull << 20;
    auto unmounted = status("c.example", "203.0.113.163", JailState::Stopped);
    EXPECT_EQ(status_text({full, fine, unmounted}),
              "Jail status (*=running, !=not configured):\n"
              "*a.example (203.0.113.161)  disk 95% full (5 MiB free)\n"
              "*b.example (203.0.113.162)\n"
              " c.example (203.0.113.163)\n");
    auto j = status_json({full, unmounted});
    EXPECT_EQ(j[0]["used_bytes"], 95ull << 20);
    EXPECT_EQ(j[0]["free_bytes"], 5ull << 20);
    EXPECT_EQ(j[0]["used_percent"], 95);
    EXPECT_TRUE(j[1]["free_bytes"].is_null());
    EXPECT_TRUE(j[1]["used_percent"].is_null());
}

// Issue 12: `status DOMAIN` shows the web side the JSON has: profile, aliases, certificate
// source, https-only, and the certificate's expiry once its disk was read; the plain listing
// stays one line a jail.
TEST(StatusFormat, DetailShowsTheWebSide) {
    auto shop = status("shop.example", "203.0.113.161", JailState::Running);
    shop.rec.profile = "php";
    shop.rec.aliases = {"blog.example.org", "shop.example.org"};
    shop.rec.https_only = true;
    shop.rec.tls = "acme";
    shop.web = {{"aliases", shop.rec.aliases}, {"https_only", true}, {"tls", "acme"},
                {"certificate", {{"fingerprint", "ab12"}, {"not_after", "2027-03-01T00:00:00Z"}, {"self_signed", false},
                                 {"names", {"shop.example"}}}}};
    auto stopped = status("b.example", "203.0.113.162", JailState::Stopped);
    stopped.rec.profile = "static";
    stopped.rec.tls = "self-signed";
    auto broken = status("c.example", "203.0.113.175", JailState::NotConfigured, "image missing");
    EXPECT_EQ(status_detail_text({shop, stopped, broken}),
              "Jail status (*=running, !=not configured):\n"
              "*shop.example (203.0.113.161)\n"
              "  profile:   php\n"
              "  aliases:   blog.example.org shop.example.org\n"
              "  https:     acme, https-only\n"
              "  site cert: until 2027-03-01T00:00:00Z, sha256 ab12\n"
              " b.example (203.0.113.162)\n"
              "  profile:   static\n"
              "  aliases:   -\n"
              "  https:     self-signed, http too\n"
              "!c.example (203.0.113.175)\n");
    EXPECT_EQ(status_text({shop}), "Jail status (*=running, !=not configured):\n*shop.example (203.0.113.161)\n");
    shop.web["certificate"]["self_signed"] = true;
    EXPECT_EQ(web_text(shop.web).back(), "site cert: until 2027-03-01T00:00:00Z, sha256 ab12, self-signed");
}

}  // namespace
}  // namespace jailctl
