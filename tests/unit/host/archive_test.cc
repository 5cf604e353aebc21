// The safety rules of archive entries (host/archive.h): table-driven, pure functions. Then the
// format's promise (a fixed sha256-entries-v1 digest of a known tree) and the whole chain on that
// tree: write_archive (root: an ext4 image on a loop device), scan (verify_archive) and
// extract_archive, including an archive repacked by GNU `tar -S` (sparse entries).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "host/archive.h"
#include "temp_dir.h"
#include "util/command.h"

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

// ---- the known tree: its digest is the format's promise

// The tree, in archive order: rootfs/, etc/, etc/hostname, etc/localtime -> /usr/share/zoneinfo/UTC,
// srv/ (0750), srv/holes.bin ("head", a hole, "tail" at 1 MiB), srv/index.html; all owned by 0:0,
// mtimes 1700000000 + its index.
constexpr const char* kKnownSha256 = "454519fbb27216924f7601d5e824dd721ca31fbfa0cf0017e0badc14017f2072";
constexpr uint64_t kKnownEntries = 7;
constexpr uint64_t kKnownFileBytes = 1048609;
constexpr int64_t kHolesTail = 1 << 20;

TEST(ContentDigest, Sha256EntriesV1IsAFixedPromise) {
    // Computed independently (Python hashlib over the lines archive.h describes): if this changes,
    // every existing archive stops verifying.
    ContentDigest d;
    auto entry = [&](EntryType type, uint32_t mode, int64_t mtime, const std::string& rel, int64_t size,
                     const std::string& link = "") {
        d.add_entry(rel, {"rootfs/" + rel, type, mode, 0, 0, size, mtime, link});
    };
    entry(EntryType::Dir, 0755, 1700000000, "", 0);
    entry(EntryType::Dir, 0755, 1700000001, "etc", 0);
    entry(EntryType::File, 0644, 1700000002, "etc/hostname", 12);
    d.add_data("example.com\n", 12);
    entry(EntryType::Symlink, 0777, 1700000003, "etc/localtime", 0, "/usr/share/zoneinfo/UTC");
    entry(EntryType::Dir, 0750, 1700000004, "srv", 0);
    entry(EntryType::File, 0600, 1700000005, "srv/holes.bin", kHolesTail + 4);
    d.add_data("head", 4);
    d.add_data(DataBlock{nullptr, static_cast<size_t>(kHolesTail - 4), 4});  // a hole: its zeros
    d.add_data(DataBlock{"tail", 4, kHolesTail});
    entry(EntryType::File, 0644, 1700000006, "srv/index.html", 17);
    d.add_data("<title>x</title>\n", 17);
    EXPECT_EQ(kKnownSha256, d.hex());
}

namespace fs = std::filesystem;

class ArchiveChain : public ::testing::Test {
protected:
    void SetUp() override { ASSERT_FALSE(dir_.empty()) << "mkdtemp in /var/tmp failed"; }
    static void set_mtime(const std::string& path, int64_t mtime) {
        timespec ts[2] = {{mtime, 0}, {mtime, 0}};
        ASSERT_EQ(0, ::utimensat(AT_FDCWD, path.c_str(), ts, AT_SYMLINK_NOFOLLOW)) << path;
    }
    static void put(const std::string& path, const std::string& text, mode_t mode) {
        std::ofstream(path, std::ios::binary) << text;
        ASSERT_EQ(0, ::chmod(path.c_str(), mode));
    }
    // The known tree at `root` (its children written, then the directories' mtimes, deepest first).
    static void make_known_tree(const std::string& root) {
        fs::create_directories(root + "/etc");
        fs::create_directories(root + "/srv");
        put(root + "/etc/hostname", "example.com\n", 0644);
        fs::create_symlink("/usr/share/zoneinfo/UTC", root + "/etc/localtime");
        put(root + "/srv/holes.bin", "head", 0600);
        {
            std::fstream f(root + "/srv/holes.bin", std::ios::in | std::ios::out | std::ios::binary);
            f.seekp(kHolesTail);
            f << "tail";
        }
        put(root + "/srv/index.html", "<title>x</title>\n", 0644);
        ASSERT_EQ(0, ::chmod(root.c_str(), 0755));
        ASSERT_EQ(0, ::chmod((root + "/etc").c_str(), 0755));
        ASSERT_EQ(0, ::chmod((root + "/srv").c_str(), 0750));
        int64_t t = 1700000000;
        for (const char* rel : {"/etc/hostname", "/etc/localtime", "/srv/holes.bin", "/srv/index.html"})
            set_mtime(root + rel, t + (std::string(rel) == "/etc/hostname"    ? 2
                                       : std::string(rel) == "/etc/localtime" ? 3
                                       : std::string(rel) == "/srv/holes.bin" ? 5
                                                                              : 6));
        set_mtime(root + "/srv", t + 4);
        set_mtime(root + "/etc", t + 1);
        set_mtime(root, t);
    }
    static Manifest manifest() {
        Manifest m;
        m.kind = "backup";
        m.domain = "example.com";
        m.ip = "203.0.113.10";
        m.size_bytes = 32ull << 20;
        m.ftp_user = "examplecom";
        m.ftp_tls = "required";
        m.content_sha256 = kKnownSha256;
        m.entries = kKnownEntries;
        m.file_bytes = kKnownFileBytes;
        return m;
    }
    // Checks the known tree as extract_archive wrote it at `root` with ids shifted by `id_base`;
    // `sparse`: the archive's holes.bin was a sparse entry, and stays sparse.
    static void expect_known_tree(const std::string& root, uint32_t id_base, bool sparse) {
        struct stat st {};
        ASSERT_EQ(0, ::lstat((root + "/srv/holes.bin").c_str(), &st));
        EXPECT_EQ(kHolesTail + 4, st.st_size);
        if (sparse) {
            EXPECT_LT(st.st_blocks * 512, kHolesTail) << "the hole was written as zeros";
        }
        EXPECT_EQ(0600u, st.st_mode & 07777);
        EXPECT_EQ(1700000005, st.st_mtim.tv_sec);
        EXPECT_EQ(id_base, st.st_uid);
        std::ifstream in(root + "/srv/holes.bin", std::ios::binary);
        std::string content((std::istreambuf_iterator<char>(in)), {});
        EXPECT_TRUE(content == "head" + std::string(kHolesTail - 4, '\0') + "tail") << "holes.bin differs";
        ASSERT_EQ(0, ::lstat((root + "/srv").c_str(), &st));
        EXPECT_EQ(0750u, st.st_mode & 07777);
        EXPECT_EQ(1700000004, st.st_mtim.tv_sec);
        EXPECT_EQ("/usr/share/zoneinfo/UTC", fs::read_symlink(root + "/etc/localtime").string());
        ASSERT_EQ(0, ::lstat((root + "/etc/localtime").c_str(), &st));
        EXPECT_EQ(1700000003, st.st_mtim.tv_sec);
        std::ifstream host(root + "/etc/hostname");
        EXPECT_EQ("example.com\n", std::string((std::istreambuf_iterator<char>(host)), {}));
    }
    TempDir tmp_{"archive-test"};
    std::string dir_ = tmp_.path;
};

// An archive repacked by GNU tar (`tar -S`: sparse entries) keeps its content digest: verify_archive
// (scan) reads the holes as zeros, extract_archive writes them as holes.
TEST_F(ArchiveChain, ScanAndExtractARepackedSparseArchive) {
    const uint32_t id_base = ::geteuid() == 0 ? 100000 : ::geteuid();
    if (::geteuid() != 0 && ::getegid() != ::geteuid()) GTEST_SKIP() << "extract needs root, or uid == gid";
    make_known_tree(dir_ + "/src/rootfs");
    std::ofstream(dir_ + "/src/manifest.json") << manifest_to_json(manifest());
    auto tar = run_command({"tar", "--format=pax", "-S", "--sort=name", "--numeric-owner", "--owner=0", "--group=0", "-C",
                            dir_ + "/src", "-cf", dir_ + "/a.tar", "manifest.json", "rootfs"});
    ASSERT_TRUE(tar && tar->exit_status == 0) << (tar ? tar->output : tar.error().message);
    auto zstd = run_command({"zstd", "-q", dir_ + "/a.tar", "-o", dir_ + "/a.tar.zst"});
    if (!zstd || zstd->exit_status != 0) GTEST_SKIP() << "no zstd command";

    auto verified = verify_archive(dir_ + "/a.tar.zst", false);
    ASSERT_TRUE(verified) << verified.error().message;
    EXPECT_EQ(kKnownEntries, verified->entries);
    EXPECT_EQ(kKnownSha256, verified->manifest.content_sha256);
    EXPECT_EQ(4096u * 3 + 4096 + (kHolesTail + 4096) + 4096, verified->needed_bytes);

    fs::create_directories(dir_ + "/dest");
    auto extracted = extract_archive(dir_ + "/a.tar.zst", dir_ + "/dest", id_base, kKnownSha256, false);
    ASSERT_TRUE(extracted) << extracted.error().message;
    EXPECT_EQ(kKnownEntries, extracted->entries);
    EXPECT_EQ(kKnownFileBytes, extracted->file_bytes);
    expect_known_tree(dir_ + "/dest", id_base, true);

    // The same archive, but its manifest promises another tree: refused, by the digest.
    fs::create_directories(dir_ + "/dest2");
    auto changed = extract_archive(dir_ + "/a.tar.zst", dir_ + "/dest2", id_base, std::string(64, 'a'), false);
    ASSERT_FALSE(changed);
    EXPECT_EQ(ErrorKind::BadInput, changed.error().kind);
}

// write_archive over an ext4 image holding the known tree gives the known digest; the archive it
// writes verifies, its manifest comes first, and it extracts to the same tree.
TEST_F(ArchiveChain, WriteArchiveKeepsTheFormatsDigest) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (a loop device and a mount)";
    if (::access("/dev/loop-control", R_OK | W_OK) != 0) GTEST_SKIP() << "no usable /dev/loop-control";
    make_known_tree(dir_ + "/src");
    const std::string image = dir_ + "/disk.img";
    for (const auto& argv : std::vector<std::vector<std::string>>{
             {"truncate", "-s", "32M", image},
             {"mkfs.ext4", "-q", "-d", dir_ + "/src", image},
             {"debugfs", "-w", "-R", "rmdir lost+found", image},  // mkfs's, with mkfs's times
             {"debugfs", "-w", "-R", "set_inode_field / mtime @1700000000", image}}) {
        auto run = run_command(argv);
        ASSERT_TRUE(run && run->exit_status == 0) << argv[0] << ": " << (run ? run->output : run.error().message);
    }
    const std::string out = dir_ + "/backup.tar.zst";
    auto stats = write_archive(image, 0, manifest(), out, false);
    ASSERT_TRUE(stats) << stats.error().message;
    EXPECT_EQ(kKnownSha256, stats->content_sha256);
    EXPECT_EQ(kKnownEntries, stats->entries);
    EXPECT_EQ(kKnownFileBytes, stats->file_bytes);
    EXPECT_FALSE(fs::exists(out + ".partial"));
    EXPECT_FALSE(fs::exists(out + ".mnt"));

    auto m = read_manifest(out);
    ASSERT_TRUE(m) << m.error().message;
    EXPECT_EQ(kKnownSha256, m->content_sha256);
    auto listed = run_command({"sh", "-c", "zstd -dc '" + out + "' | tar -tf - | head -n 2"});
    if (listed && listed->exit_status == 0) {
        EXPECT_EQ("manifest.json\nrootfs/\n", listed->output);
    }
    auto verified = verify_archive(out, false);
    ASSERT_TRUE(verified) << verified.error().message;
    fs::create_directories(dir_ + "/dest");
    auto extracted = extract_archive(out, dir_ + "/dest", 100000, kKnownSha256, false);
    ASSERT_TRUE(extracted) << extracted.error().message;
    expect_known_tree(dir_ + "/dest", 100000, false);  // jailctl writes files whole (archive.h)
}

}  // namespace
}  // namespace jailctl
