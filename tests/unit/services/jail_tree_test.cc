#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "services/jail_tree.h"

namespace jailctl {
namespace {

const JailTree& tree() {
    static const JailTree t = build_jail_tree(
        JailSpec{"shop.example.com", "203.0.113.10", "shopexamplecom", "$y$hash", FtpTls::Required, "CERT", "KEY"});
    return t;
}

const JailDir* dir(const std::string& path) {
    auto& d = tree().dirs;
    auto it = std::find_if(d.begin(), d.end(), [&](const JailDir& x) { return x.path == path; });
    return it == d.end() ? nullptr : &*it;
}
const JailFile* file(const std::string& path) {
    auto& f = tree().files;
    auto it = std::find_if(f.begin(), f.end(), [&](const JailFile& x) { return x.path == path; });
    return it == f.end() ? nullptr : &*it;
}

struct Expect {
    const char* path;
    mode_t mode;
    uid_t uid;
    gid_t gid;
};

TEST(JailTree, DirectoriesOfTheContract) {
    const Expect dirs[] = {
        {"usr", 0755, 0, 0},
        {"proc", 0755, 0, 0},
        {"sys", 0755, 0, 0},
        {"dev", 0755, 0, 0},
        {"etc", 0755, 0, 0},
        {"etc/pam.d", 0755, 0, 0},
        {"etc/nginx", 0755, 0, 0},
        {"etc/ssl/jailctl", 0755, 0, 0},
        {"etc/jailctl", 0755, 0, 0},
        {"srv/site", 0755, 0, 0},
        {"srv/site/www", 0755, 2000, 2000},
        {"var/log", 0755, 0, 0},
        {"var/log/nginx", 0755, 0, 0},
        {"var/lib/nginx/body", 0700, 33, 33},
        {"var/lib/nginx/proxy", 0700, 33, 33},
        {"var/lib/nginx/fastcgi", 0700, 33, 33},
        {"var/lib/nginx/uwsgi", 0700, 33, 33},
        {"var/lib/nginx/scgi", 0700, 33, 33},
        {"run", 0755, 0, 0},
        {"run/vsftpd/empty", 0555, 0, 0},
        {"tmp", 01777, 0, 0},
        {"var/tmp", 01777, 0, 0},
        {"root", 0700, 0, 0},
    };
    for (const auto& e : dirs) {
        const JailDir* d = dir(e.path);
        ASSERT_NE(d, nullptr) << e.path;
        EXPECT_EQ(d->mode, e.mode) << e.path;
        EXPECT_EQ(d->uid, e.uid) << e.path;
        EXPECT_EQ(d->gid, e.gid) << e.path;
    }
}

TEST(JailTree, ParentsComeFirstAndPathsAreRelative) {
    std::set<std::string> seen;
    for (const auto& d : tree().dirs) {
        ASSERT_FALSE(d.path.empty());
        EXPECT_NE(d.path[0], '/') << d.path;
        auto slash = d.path.rfind('/');
        if (slash != std::string::npos) {
            EXPECT_TRUE(seen.contains(d.path.substr(0, slash))) << d.path;
        }
        EXPECT_TRUE(seen.insert(d.path).second) << "duplicate " << d.path;
    }
    for (const auto& f : tree().files) {
        auto slash = f.path.rfind('/');
        if (slash != std::string::npos) {
            EXPECT_TRUE(seen.contains(f.path.substr(0, slash))) << f.path;
        }
    }
}

TEST(JailTree, FilesOfTheContract) {
    const Expect files[] = {
        {"init", 0755, 0, 0},
        {"etc/passwd", 0644, 0, 0},
        {"etc/group", 0644, 0, 0},
        {"etc/shadow", 0640, 0, 42},
        {"etc/gshadow", 0640, 0, 42},
        {"etc/hosts", 0644, 0, 0},
        {"etc/hostname", 0644, 0, 0},
        {"etc/resolv.conf", 0644, 0, 0},
        {"etc/nsswitch.conf", 0644, 0, 0},
        {"etc/shells", 0644, 0, 0},
        {"etc/pam.d/vsftpd", 0644, 0, 0},
        {"etc/nginx/nginx.conf", 0644, 0, 0},
        {"etc/nginx/mime.types", 0644, 0, 0},
        {"etc/vsftpd.conf", 0644, 0, 0},
        {"etc/ssl/jailctl/ftp.crt", 0644, 0, 0},
        {"etc/ssl/jailctl/ftp.key", 0600, 0, 0},
        {"etc/jailctl/services", 0644, 0, 0},
        {"srv/site/www/index.html", 0644, 2000, 2000},
    };
    for (const auto& e : files) {
        const JailFile* f = file(e.path);
        ASSERT_NE(f, nullptr) << e.path;
        EXPECT_EQ(f->mode, e.mode) << e.path;
        EXPECT_EQ(f->uid, e.uid) << e.path;
        EXPECT_EQ(f->gid, e.gid) << e.path;
    }
    EXPECT_EQ(file("init")->content, "");
    EXPECT_EQ(file("etc/ssl/jailctl/ftp.crt")->content, "CERT");
    EXPECT_EQ(file("etc/ssl/jailctl/ftp.key")->content, "KEY");
    EXPECT_NE(file("srv/site/www/index.html")->content.find("shop.example.com"), std::string::npos);
    EXPECT_NE(file("etc/shadow")->content.find("shopexamplecom:$y$hash:"), std::string::npos);
}

TEST(JailTree, MergedUsrLinks) {
    std::set<std::pair<std::string, std::string>> links;
    for (const auto& l : tree().links) links.emplace(l.path, l.target);
    for (auto [path, target] : {std::pair{"bin", "usr/bin"}, {"sbin", "usr/sbin"}, {"lib", "usr/lib"},
                                {"lib64", "usr/lib64"}})
        EXPECT_TRUE(links.contains({path, target})) << path;
}

}  // namespace
}  // namespace jailctl
