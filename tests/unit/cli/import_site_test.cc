// The pure rules of import-site (src/cli/import_site.cc): entry paths, symlink targets,
// modes, and the marker that proves the imported index page is served.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>

#include "cli/site_rules.h"

using namespace jailctl;

TEST(ImportSitePath, Normalises) {
    EXPECT_EQ("a/b", clean_site_path("./a//b/").value());
    EXPECT_EQ("", clean_site_path(".").value());
    EXPECT_EQ("", clean_site_path("./").value());
    EXPECT_EQ("index.html", clean_site_path("index.html").value());
    EXPECT_EQ("a/b", clean_site_path("a/./b").value());
}

TEST(ImportSitePath, RefusesEscapes) {
    for (const char* bad : {"/etc/passwd", "../x", "a/../../x", "a/..", "..", "/"}) {
        auto r = clean_site_path(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(ErrorKind::BadInput, r.error().kind) << bad;
        EXPECT_EQ(0u, r.error().message.rfind("from: ", 0)) << r.error().message;
    }
    EXPECT_FALSE(clean_site_path(std::string("a\0b", 3)));
    EXPECT_FALSE(clean_site_path(std::string(5000, 'a')));
}

TEST(ImportSiteSymlink, InsideIsAllowed) {
    EXPECT_TRUE(check_site_symlink("latest.html", "sub/page.html"));
    EXPECT_TRUE(check_site_symlink("a/b/link", "../../c"));
    EXPECT_TRUE(check_site_symlink("a/link", "../a/./x"));
    EXPECT_TRUE(check_site_symlink("link", "."));
}

TEST(ImportSiteSymlink, OutsideIsRefused) {
    EXPECT_FALSE(check_site_symlink("link", "/etc/passwd"));
    EXPECT_FALSE(check_site_symlink("link", "../x"));
    EXPECT_FALSE(check_site_symlink("a/b/link", "../../../x"));
    EXPECT_FALSE(check_site_symlink("a/link", "b/../../../x"));  // climbs out even if it comes back
    EXPECT_FALSE(check_site_symlink("link", ""));
}

TEST(ImportSiteMode, Sanitised) {
    EXPECT_EQ(0755u, site_mode(true, 0700));
    EXPECT_EQ(0755u, site_mode(true, 0777));
    EXPECT_EQ(0644u, site_mode(false, 0600));
    EXPECT_EQ(0644u, site_mode(false, 0666));
    EXPECT_EQ(0755u, site_mode(false, 0700));
    EXPECT_EQ(0755u, site_mode(false, 0744 | 01));
}

TEST(ImportSiteMarker, TitleOrPrefix) {
    EXPECT_EQ("<title>Shop</title>", page_marker("<html><head><title>Shop</title></head>"));
    EXPECT_EQ("plain text", page_marker("plain text"));
    EXPECT_EQ(std::string(256, 'x'), page_marker(std::string(1000, 'x')));
}
