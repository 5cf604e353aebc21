// ext4 through e2fsprogs: format options, fsck outcomes, offline and online grow.
// Format and fsck work on image files and need no root; the grow tests mount (root, private
// mount namespace of the test process).
#include "host/ext4.h"
#include "jail/byte_size.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <sstream>
#include <thread>

#include "fixture.h"
#include "host/image.h"
#include "host/loop.h"
#include "host/mount.h"
#include "util/command.h"

namespace jailctl {
namespace {

namespace fs = std::filesystem;
using namespace jailctl::test;

// "Block size:               4096" from dumpe2fs -h.
std::string superblock_field(const std::string& image, const std::string& field) {
    auto run = run_command({"dumpe2fs", "-h", "--", image});
    if (!run) return {};
    std::istringstream lines(run->output);
    for (std::string line; std::getline(lines, line);)
        if (line.starts_with(field + ":")) {
            auto value = line.find_first_not_of(" \t", field.size() + 1);
            return value == std::string::npos ? std::string() : line.substr(value);
        }
    return {};
}

uint64_t allocated(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(stat(path.c_str(), &st), 0);
    return static_cast<uint64_t>(st.st_blocks) * 512;
}

uint64_t fs_size(const std::string& mount_point) {
    struct statvfs vfs {};
    EXPECT_EQ(statvfs(mount_point.c_str(), &vfs), 0);
    return static_cast<uint64_t>(vfs.f_blocks) * vfs.f_frsize;
}

class Ext4Test : public TempDirTest {
protected:
    Ext4Test() : TempDirTest("/var/tmp/jailctl-ext4-test-") {}
    void SetUp() override {
        TempDirTest::SetUp();
        image_ = dir_ + "/disk.img";
    }
    void TearDown() override {
        const std::string rootfs = dir_ + "/rootfs";
        if (auto m = find_mount(rootfs); m && *m) {
            ADD_FAILURE() << "leftover mount on " << rootfs;
            umount2(rootfs.c_str(), MNT_DETACH);
        }
        loop_.reset();
        detach_leftover_loops(image_);
        TempDirTest::TearDown();
    }
    void make_fs(uint64_t bytes = 64 * MiB, bool sparse = false) {
        ASSERT_TRUE(create_image(image_, bytes, sparse));
        auto formatted = format_ext4(image_, kJailRoot, kJailRoot + 1, "jail-42");
        ASSERT_TRUE(formatted) << formatted.error().message;
    }
    // Root only: attach + mount on dir_/rootfs; returns the mount point.
    std::string mount_it() {
        const std::string rootfs = dir_ + "/rootfs";
        fs::create_directories(rootfs);
        auto loop = LoopDevice::attach(image_);
        EXPECT_TRUE(loop) << loop.error().message;
        if (!loop) return {};
        loop_.emplace(std::move(*loop));
        auto mounted = mount_ext4(loop_->path(), rootfs);
        EXPECT_TRUE(mounted) << mounted.error().message;
        return mounted ? rootfs : std::string();
    }
    std::string image_;
    std::optional<LoopDevice> loop_;
};

TEST_F(Ext4Test, FormatAppliesTheChosenOptionsAndKeepsTheReservation) {
    make_fs();
    if (HasFatalFailure()) return;
    EXPECT_GE(allocated(image_), 64 * MiB) << "mkfs discarded (punched holes in) the preallocated image";
    EXPECT_EQ(superblock_field(image_, "Filesystem volume name"), "jail-42");
    EXPECT_EQ(superblock_field(image_, "Block size"), "4096");
    EXPECT_EQ(superblock_field(image_, "Inode size"), "256");
    EXPECT_EQ(superblock_field(image_, "Inode count"), std::to_string(64 * MiB / 16384));
    EXPECT_EQ(superblock_field(image_, "Reserved block count"), "0");
    EXPECT_EQ(superblock_field(image_, "Errors behavior"), "Remount read-only");
    EXPECT_NE(superblock_field(image_, "Filesystem features").find("metadata_csum"), std::string::npos);
    auto root = run_command({"debugfs", "-R", "stat /", "--", image_});
    ASSERT_TRUE(root);
    std::istringstream words(root->output);
    std::string word, user, group;
    while (words >> word) {
        if (word == "User:") words >> user;
        if (word == "Group:") words >> group;
    }
    EXPECT_EQ(user, std::to_string(kJailRoot)) << root->output;
    EXPECT_EQ(group, std::to_string(kJailRoot + 1)) << root->output;
}

TEST_F(Ext4Test, SparseImageStaysThinAfterFormat) {
    make_fs(1024 * MiB, /*sparse=*/true);
    if (HasFatalFailure()) return;
    EXPECT_LT(allocated(image_), 16 * MiB);
}

TEST_F(Ext4Test, BadLabelsAreInputErrors) {
    ASSERT_TRUE(create_image(image_, 16 * MiB, true));
    for (std::string_view label : {"", "seventeen-chars-x", "a b", "x/y", "-L\n", "é"}) {
        auto result = format_ext4(image_, 0, 0, label);
        ASSERT_FALSE(result) << label;
        EXPECT_EQ(result.error().kind, ErrorKind::BadInput) << label;
        EXPECT_TRUE(result.error().message.starts_with("label: ")) << result.error().message;
    }
    EXPECT_FALSE(format_ext4(dir_ + "/missing.img", 0, 0, "x"));
    fs::create_symlink(image_, dir_ + "/link.img");
    EXPECT_FALSE(format_ext4(dir_ + "/link.img", 0, 0, "x"));
}

// An image path that looks like an option stays a path ("--" before positionals).
TEST_F(Ext4Test, ImagePathCannotBecomeAnOption) {
    fs::current_path(dir_);
    const std::string image = "-n";  // relative to dir_, on purpose
    ASSERT_TRUE(create_image(image, 16 * MiB, true));
    auto formatted = format_ext4(image, 0, 0, "x");
    ASSERT_TRUE(formatted) << formatted.error().message;
    auto report = fsck_ext4(image, FsckMode::CheckOnly);
    ASSERT_TRUE(report) << report.error().message;
    EXPECT_EQ(report->outcome, FsckOutcome::Clean);
    fs::current_path("/");
}

TEST_F(Ext4Test, MkfsTimeFor512MiB) {
    for (bool sparse : {false, true}) {
        const std::string image = dir_ + (sparse ? "/sparse.img" : "/full.img");
        ASSERT_TRUE(create_image(image, 512 * MiB, sparse));
        auto started = std::chrono::steady_clock::now();
        auto formatted = format_ext4(image, kJailRoot, kJailRoot, "timing");
        double ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
        ASSERT_TRUE(formatted) << formatted.error().message;
        std::cout << "[ timing   ] format_ext4 512 MiB " << (sparse ? "sparse" : "preallocated") << ": " << ms
                  << " ms, allocated afterwards " << human_bytes(allocated(image)) << '\n';
        RecordProperty(sparse ? "mkfs_ms_512MiB_sparse" : "mkfs_ms_512MiB_preallocated", std::to_string(ms));
    }
}

TEST_F(Ext4Test, FsckFindsCorruptionRepairsItAndIsCleanAfter) {
    make_fs();
    if (HasFatalFailure()) return;
    auto clean = fsck_ext4(image_, FsckMode::CheckOnly);
    ASSERT_TRUE(clean) << clean.error().message;
    EXPECT_EQ(clean->outcome, FsckOutcome::Clean) << clean->output;
    EXPECT_EQ(clean->exit_status, 0);

    // Clear lost+found's inode: a directory entry now points at nothing.
    auto corrupt = run_checked({"debugfs", "-w", "-R", "clri <11>", "--", image_});
    ASSERT_TRUE(corrupt) << corrupt.error().message;

    auto check = fsck_ext4(image_, FsckMode::CheckOnly);
    ASSERT_TRUE(check) << check.error().message;
    EXPECT_EQ(check->outcome, FsckOutcome::ErrorsRemain) << check->output;
    EXPECT_EQ(check->exit_status, 4);
    auto still = fsck_ext4(image_, FsckMode::CheckOnly);  // -n changed nothing
    ASSERT_TRUE(still);
    EXPECT_EQ(still->outcome, FsckOutcome::ErrorsRemain);

    auto repair = fsck_ext4(image_, FsckMode::Repair);
    ASSERT_TRUE(repair) << repair.error().message;
    EXPECT_EQ(repair->outcome, FsckOutcome::Fixed) << repair->output;

    auto after = fsck_ext4(image_, FsckMode::CheckOnly);
    ASSERT_TRUE(after);
    EXPECT_EQ(after->outcome, FsckOutcome::Clean) << after->output;
    auto preen = fsck_ext4(image_, FsckMode::Preen);
    ASSERT_TRUE(preen);
    EXPECT_EQ(preen->outcome, FsckOutcome::Clean) << preen->output;
}

TEST_F(Ext4Test, FsckOfSomethingThatIsNotExt4IsAnError) {
    ASSERT_TRUE(create_image(image_, 16 * MiB, true));
    auto report = fsck_ext4(image_, FsckMode::CheckOnly);
    ASSERT_FALSE(report);
    EXPECT_NE(report.error().message.find("check filesystem of " + image_), std::string::npos);
    EXPECT_NE(report.error().message.find("status 8"), std::string::npos) << report.error().message;
    EXPECT_FALSE(fsck_ext4(dir_ + "/missing.img", FsckMode::Preen));
}

TEST_F(Ext4Test, AttachedImageIsNotTouched) {
    if (auto why = enter_private_mount_namespace(); !why.empty()) GTEST_SKIP() << why;
    make_fs();
    if (HasFatalFailure()) return;
    auto loop = LoopDevice::attach(image_);
    ASSERT_TRUE(loop) << loop.error().message;
    auto fsck = fsck_ext4(image_, FsckMode::Repair);
    ASSERT_FALSE(fsck);
    for (const Result<void>& result : {Result<void>(std::unexpected(fsck.error())),
                                       format_ext4(image_, 0, 0, "x"), resize_ext4_offline(image_)}) {
        ASSERT_FALSE(result);
        EXPECT_EQ(result.error().kind, ErrorKind::Conflict);
        EXPECT_NE(result.error().message.find("attached to " + loop->path()), std::string::npos)
            << result.error().message;
    }
}

TEST_F(Ext4Test, OfflineGrowShowsInTheMountedFilesystem) {
    if (auto why = enter_private_mount_namespace(); !why.empty()) GTEST_SKIP() << why;
    make_fs(64 * MiB);
    if (HasFatalFailure()) return;
    ASSERT_TRUE(grow_image(image_, 192 * MiB, false));
    auto resized = resize_ext4_offline(image_);
    ASSERT_TRUE(resized) << resized.error().message;
    const std::string rootfs = mount_it();
    ASSERT_FALSE(rootfs.empty());
    loop_.reset();
    EXPECT_GT(fs_size(rootfs), 180 * MiB);
    EXPECT_LE(fs_size(rootfs), 192 * MiB);
    ASSERT_TRUE(unmount(rootfs));
    auto report = fsck_ext4(image_, FsckMode::CheckOnly);
    ASSERT_TRUE(report) << report.error().message;
    EXPECT_EQ(report->outcome, FsckOutcome::Clean) << report->output;
}

// has_cap_sys_resource reads the effective set (libcap), that one capability only: in a child
// it follows the effective bit as the child clears it and, when permitted, sets it again.
// (This machine's root may lack CAP_SYS_RESOURCE while holding the others: then false.)
TEST(Ext4Capability, FollowsTheEffectiveBit) {
    cap_t caps = cap_get_proc();
    ASSERT_NE(caps, nullptr);
    cap_flag_value_t permitted = CAP_CLEAR;
    cap_get_flag(caps, CAP_SYS_RESOURCE, CAP_PERMITTED, &permitted);
    cap_free(caps);
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        auto set_effective = [](cap_flag_value_t value) {
            cap_t c = cap_get_proc();
            cap_value_t v = CAP_SYS_RESOURCE;
            bool ok = c && cap_set_flag(c, CAP_EFFECTIVE, 1, &v, value) == 0 && cap_set_proc(c) == 0;
            cap_free(c);
            return ok;
        };
        int bad = 0;
        if (!set_effective(CAP_CLEAR) || has_cap_sys_resource()) bad |= 1;
        if (permitted == CAP_SET && (!set_effective(CAP_SET) || !has_cap_sys_resource())) bad |= 2;
        ::_exit(bad);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << "1: seen when cleared, 2: not seen when set";
    if (permitted != CAP_SET) {
        EXPECT_FALSE(has_cap_sys_resource());
    }
}

// Online grow as the grow task will do it: file, loop capacity, resize2fs on the mounted device.
// The kernel wants CAP_SYS_RESOURCE; without it the test is skipped, with it it must pass.
TEST_F(Ext4Test, OnlineGrowOrAClearPermissionError) {
    if (auto why = enter_private_mount_namespace(); !why.empty()) GTEST_SKIP() << why;
    make_fs(64 * MiB);
    if (HasFatalFailure()) return;
    const std::string rootfs = mount_it();
    ASSERT_FALSE(rootfs.empty());
    const uint64_t before = fs_size(rootfs);
    ASSERT_TRUE(grow_image(image_, 192 * MiB, false));
    ASSERT_TRUE(loop_->set_capacity());
    auto resized = resize_ext4_online(loop_->path());
    if (!resized && online_resize_not_permitted(resized.error())) {
        EXPECT_FALSE(has_cap_sys_resource());
        EXPECT_EQ(fs_size(rootfs), before);
        ASSERT_TRUE(unmount(rootfs));
        GTEST_SKIP() << resized.error().message;
    }
    ASSERT_TRUE(resized) << resized.error().message;
    EXPECT_GT(fs_size(rootfs), 180 * MiB);
    ASSERT_TRUE(unmount(rootfs));
}

TEST(Ext4Online, RejectsANonLoopDevice) {
    auto result = resize_ext4_online("/dev/vda");
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().kind, ErrorKind::BadInput);
}

}  // namespace
}  // namespace jailctl
