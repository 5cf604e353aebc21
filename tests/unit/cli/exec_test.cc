// exec's user lookup in a jail's /etc/passwd (src/cli/exec.cc).
#include "cli/exec_user.h"

#include <gtest/gtest.h>

using namespace jailctl;

namespace {
const std::string kPasswd =
    "root:x:0:0:root:/root:/bin/sh\n"
    "www-data:x:33:33:www-data:/nonexistent:/usr/sbin/nologin\n"
    "shopexamplecom:x:2000:2000:FTP shop.example.com:/srv/site:/usr/sbin/nologin\n"
    "broken:x:abc:0::/:/bin/sh\n"
    "short:x:5\n"
    "rel:x:7:8::relative/home:/bin/sh\n";
}

TEST(ExecUser, ByName) {
    auto u = lookup_jail_user(kPasswd, "shopexamplecom");
    ASSERT_TRUE(u);
    EXPECT_EQ(2000u, u->uid);
    EXPECT_EQ(2000u, u->gid);
    EXPECT_EQ("/srv/site", u->home);
    EXPECT_EQ(0u, lookup_jail_user(kPasswd, "root")->uid);
    EXPECT_EQ("/root", lookup_jail_user(kPasswd, "root")->home);
}

TEST(ExecUser, ByUid) {
    auto u = lookup_jail_user(kPasswd, "33");
    ASSERT_TRUE(u);
    EXPECT_EQ("www-data", u->name);
    auto bare = lookup_jail_user(kPasswd, "4242");  // no entry: the bare id, like jexec -U
    ASSERT_TRUE(bare);
    EXPECT_EQ(4242u, bare->uid);
    EXPECT_EQ(4242u, bare->gid);
    EXPECT_EQ("/", bare->home);
}

TEST(ExecUser, RelativeHomeBecomesRoot) { EXPECT_EQ("/", lookup_jail_user(kPasswd, "rel")->home); }

TEST(ExecUser, Refused) {
    for (const char* bad : {"nosuch", "broken", "short", "65536", "-1", "", "root:x"}) {
        auto u = lookup_jail_user(kPasswd, bad);
        ASSERT_FALSE(u) << bad;
        EXPECT_EQ(ErrorKind::BadInput, u.error().kind);
    }
}
