// The safety rules of archive entries (host/archive.h): table-driven, pure functions.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "host/archive.h"

namespace jailctl {
namespace {

EntryMeta dir(const std::string& path, uint32_t mode = 0755) { return {path, EntryType::Dir, mode, 0, 0, 0, 0, ""}; }
EntryMeta file(const std::string& path, int64_t size = 10, uint32_t mode = 0644) {
    return {path, EntryType::File, mode, 0, 0, size, 0, ""};
}
EntryMeta link(const std::string& path, const std::string& target) {
    return {path, EntryType::Symlink, 0777, 0, 0, 0, 0, target};
}

TEST(EntryJailPath, Table) {
    struct Case {
        std::string path;
        EntryType type;
        bool ok;
        std::string rel;
    } cases[] = {
        {"rootfs", EntryType::Dir, true, ""},
        {"rootfs/", EntryType::Dir, true, ""},
        {"rootfs/etc/", EntryType::Dir, true, "etc"},
        {"rootfs/etc/passwd", EntryType::File, true, "etc/passwd"},
        {"rootfs/..x", EntryType::File, true, "..x"},
        {"rootfs/a b", EntryType::File, true, "a b"},
        {"", EntryType::File, false, ""},
        {"/etc/passwd", EntryType::File, false, ""},
        {"/rootfs/etc", EntryType::File, false, ""},
        {"etc/passwd", EntryType::File, false, ""},
        {"rootfsx/a", EntryType::File, false, ""},
        {"rootfs/../x", EntryType::File, false, ""},
        {"rootfs/a/../../x", EntryType::File, false, ""},
        {"rootfs/a/..", EntryType::Dir, false, ""},
        {"rootfs/./a", EntryType::File, false, ""},
        {"rootfs//a", EntryType::File, false, ""},
        {"rootfs/a/", EntryType::File, false, ""},
        {"manifest.json", EntryType::File, false, ""},
        {std::string("rootfs/a\0b", 10), EntryType::File, false, ""},
        {"rootfs/" + std::string(5000, 'a'), EntryType::File, false, ""},
    };
    for (const auto& c : cases) {
        auto r = entry_jail_path(c.path, c.type);
        EXPECT_EQ(c.ok, r.has_value()) << "'" << c.path << "'";
        if (c.ok && r) {
            EXPECT_EQ(c.rel, *r) << c.path;
        }
        if (!c.ok && !r) {
            EXPECT_EQ(ErrorKind::BadInput, r.error().kind);
        }
    }
}

TEST(SymlinkTarget, Table) {
    struct Case {
        std::string link, target;
        bool ok;
    } cases[] = {
        {"bin", "usr/bin", true},
        {"bin", "/usr/bin", true},
        {"a/b/c", "../x", true},
        {"a/b/c", "../../x", true},
        {"a/b/c", "../../../x", false},
        {"a", "..", false},
        {"a", "../etc/passwd", false},
        {"a", "/..", false},
        {"a", "/../etc/shadow", false},
        {"a/b", "/a/../..", false},
        {"a/b", "/a/../b", true},
        {"a/b", "/", true},
        {"a/b", ".", true},
        {"a/b", "./././..", true},  // a/.. = root: still inside
        {"a/b", "./././../..", false},
        {"a", "x/../../y", false},
        {"a", "", false},
        {"a", std::string("x\0y", 3), false},
    };
    for (const auto& c : cases)
        EXPECT_EQ(c.ok, check_symlink_target(c.link, c.target).has_value()) << c.link << " -> " << c.target;
}

TEST(EntryChecker, AcceptsAWellFormedTree) {
    EntryChecker ck;
    for (const auto& e : {dir("rootfs/"), dir("rootfs/etc/"), file("rootfs/etc/passwd", 5000), link("rootfs/bin", "usr/bin"),
                          dir("rootfs/tmp/", 01777)})
        ASSERT_TRUE(ck.check(e)) << e.path << ": " << ck.check(e).error().message;
    EXPECT_EQ(5u, ck.entries());
    EXPECT_EQ(5000u, ck.file_bytes());
    EXPECT_EQ(4096u * 3 + 8192u, ck.needed_bytes());
}

TEST(EntryChecker, RejectsUnsafeEntries) {
    struct Case {
        const char* why;
        EntryMeta e;
    } cases[] = {
        {"setuid", file("rootfs/x", 1, 04755)},
        {"setgid", file("rootfs/x", 1, 02755)},
        {"setgid dir", dir("rootfs/d", 02775)},
        {"device", {"rootfs/dev/sda", EntryType::Other, 0600, 0, 0, 0, 0, ""}},
        {"hardlink", {"rootfs/h", EntryType::Hardlink, 0644, 0, 0, 0, 0, "rootfs/etc/passwd"}},
        {"uid too big", {"rootfs/x", EntryType::File, 0644, 65536, 0, 0, 0, ""}},
        {"gid negative", {"rootfs/x", EntryType::File, 0644, 0, -1, 0, 0, ""}},
        {"escaping symlink", link("rootfs/x", "../../etc")},
        {"absolute escaping symlink", link("rootfs/x", "/../../etc")},
        {"parent missing", file("rootfs/nodir/x")},
        {"parent is a file", file("rootfs/f/x")},
        {"parent is a symlink", file("rootfs/l/x")},
        {"duplicate", file("rootfs/f")},
        {"second root", dir("rootfs")},
        {"traversal", file("rootfs/../x")},
        {"absolute", file("/etc/x")},
        {"negative size", file("rootfs/y", -5)},
    };
    for (const auto& c : cases) {
        EntryChecker ck;
        ASSERT_TRUE(ck.check(dir("rootfs/")));
        ASSERT_TRUE(ck.check(file("rootfs/f")));
        ASSERT_TRUE(ck.check(link("rootfs/l", "/etc")));
        auto r = ck.check(c.e);
        EXPECT_FALSE(r) << c.why;
        if (!r) {
            EXPECT_EQ(ErrorKind::BadInput, r.error().kind) << c.why;
        }
    }
}

TEST(EntryChecker, RootMustComeFirst) {
    EntryChecker ck;
    EXPECT_FALSE(ck.check(file("rootfs/x")));
    EntryChecker ck2;
    EXPECT_FALSE(ck2.check(file("rootfs")));
}

TEST(ContentDigest, DependsOnMetadataAndData) {
    auto digest = [](uint32_t mode, const std::string& data) {
        ContentDigest d;
        EntryMeta e = file("rootfs/a", static_cast<int64_t>(data.size()), mode);
        d.add_entry("a", e);
        d.add_data(data.data(), data.size());
        return d.hex();
    };
    EXPECT_EQ(64u, digest(0644, "x").size());
    EXPECT_EQ(digest(0644, "x"), digest(0644, "x"));
    EXPECT_NE(digest(0644, "x"), digest(0600, "x"));
    EXPECT_NE(digest(0644, "x"), digest(0644, "y"));
}

TEST(UsableBytes, GrowsWithSizeAndLeavesRoomForMetadata) {
    const uint64_t MiB = 1 << 20;
    EXPECT_LT(usable_bytes(128 * MiB), 128 * MiB);
    EXPECT_GT(usable_bytes(128 * MiB), 90 * MiB);
    EXPECT_LT(usable_bytes(128 * MiB), usable_bytes(256 * MiB));
    EXPECT_EQ(0u, usable_bytes(1 * MiB));
    EXPECT_EQ(8192u, inode_count(128 * MiB));
}

}  // namespace
}  // namespace jailctl
