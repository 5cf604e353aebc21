// The whole storage chain on a real kernel: image -> ext4 -> loop -> mount -> unmount.
// Root needed; everything happens in a private mount namespace of the test process.
#include "host/mount.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "fixture.h"
#include "host/ext4.h"
#include "host/image.h"
#include "host/loop.h"
#include "util/command.h"
#include "util/fd.h"

namespace jailctl {
namespace {

namespace fs = std::filesystem;
using namespace jailctl::test;

bool has_option(const std::string& options, const std::string& option) {
    return ("," + options + ",").find("," + option + ",") != std::string::npos;
}

class MountTest : public TempDirTest {
protected:
    MountTest() : TempDirTest("/var/tmp/jailctl-mount-test-") {}
    void SetUp() override {
        if (auto why = enter_private_mount_namespace(); !why.empty()) GTEST_SKIP() << "mounts: " << why;
        TempDirTest::SetUp();
        image_ = dir_ + "/disk.img";
        rootfs_ = dir_ + "/rootfs";
        ASSERT_EQ(mkdir(rootfs_.c_str(), 0755), 0);
        ASSERT_TRUE(create_image(image_, 64 * MiB, false));
        auto formatted = format_ext4(image_, kJailRoot, kJailRoot, "jail-test");
        ASSERT_TRUE(formatted) << formatted.error().message;
    }
    // Unmount everything under the test directory and detach its loop devices, even after a
    // failed assertion; a leftover is itself a failure.
    void TearDown() override {
        if (dir_.empty()) return;
        for (int i = 0; i < 4; ++i) {
            for (const auto& target : {rootfs_, dir_ + "/with space"}) {
                if (auto m = find_mount(target); m && *m) {
                    ADD_FAILURE() << "leftover mount on " << target;
                    umount2(target.c_str(), MNT_DETACH);
                }
            }
        }
        loop_.reset();
        detach_leftover_loops(image_);
        TempDirTest::TearDown();
    }
    // Attaches the image and mounts it on `target`; the LoopDevice is kept in loop_.
    void attach_and_mount(const std::string& target) {
        auto loop = LoopDevice::attach(image_);
        ASSERT_TRUE(loop) << loop.error().message;
        device_ = loop->path();
        loop_.emplace(std::move(*loop));
        auto mounted = mount_ext4(device_, target);
        ASSERT_TRUE(mounted) << mounted.error().message;
    }
    std::string image_, rootfs_, device_;
    std::optional<LoopDevice> loop_;
};

TEST_F(MountTest, MountWriteUnmountAndTheLoopDeviceGoesByItself) {
    attach_and_mount(rootfs_);
    if (HasFatalFailure()) return;
    loop_.reset();  // the mount is now the device's only user

    struct stat st {};
    ASSERT_EQ(stat(rootfs_.c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, kJailRoot);
    EXPECT_EQ(st.st_gid, kJailRoot);

    auto info = find_mount(rootfs_);
    ASSERT_TRUE(info && *info);
    EXPECT_EQ((*info)->source, device_);
    EXPECT_EQ((*info)->fs_type, "ext4");
    EXPECT_TRUE(has_option((*info)->options, "nosuid")) << (*info)->options;
    EXPECT_TRUE(has_option((*info)->options, "nodev")) << (*info)->options;
    EXPECT_TRUE(has_option((*info)->options, "noatime")) << (*info)->options;
    // mountinfo omits errors= when it equals the superblock's default (mkfs -e remount-ro);
    // /proc/fs/ext4 lists every option in force.
    std::string ext4_options;
    std::getline(std::ifstream("/proc/fs/ext4/" + fs::path(device_).filename().string() + "/options"),
                 ext4_options, '\0');
    EXPECT_NE(ext4_options.find("errors=remount-ro"), std::string::npos) << ext4_options;

    const std::string file = rootfs_ + "/index.html";
    { std::ofstream(file) << "hello\n"; }
    std::ifstream in(file);
    std::string line;
    std::getline(in, line);
    EXPECT_EQ(line, "hello");
    in.close();

    ASSERT_TRUE(unmount(rootfs_));
    EXPECT_FALSE(*find_mount(rootfs_));
    EXPECT_TRUE(no_loops_for(image_)) << "autoclear did not detach " << device_;
    EXPECT_TRUE(unmount(rootfs_)) << "unmount is idempotent";
}

// A tenant's setuid binary must not give its owner's id to whoever runs it from the host side.
TEST_F(MountTest, SetuidFilesInTheImageAreNotHonoured) {
    attach_and_mount(rootfs_);
    if (HasFatalFailure()) return;
    const std::string id = rootfs_ + "/id";
    fs::copy_file("/usr/bin/id", id);
    ASSERT_EQ(chown(id.c_str(), 12345, 12345), 0);
    ASSERT_EQ(chmod(id.c_str(), 06755), 0);
    struct statvfs vfs {};
    ASSERT_EQ(statvfs(rootfs_.c_str(), &vfs), 0);
    EXPECT_TRUE(vfs.f_flag & ST_NOSUID);
    EXPECT_TRUE(vfs.f_flag & ST_NODEV);
    auto run = run_checked({id, "-u"});
    ASSERT_TRUE(run) << run.error().message;
    EXPECT_EQ(run->output, std::to_string(geteuid()) + "\n") << "setuid bit was honoured";
    ASSERT_TRUE(unmount(rootfs_));
}

TEST_F(MountTest, SymlinkTargetIsRefused) {
    const std::string link = dir_ + "/link";
    ASSERT_EQ(symlink(rootfs_.c_str(), link.c_str()), 0);
    auto loop = LoopDevice::attach(image_);
    ASSERT_TRUE(loop) << loop.error().message;
    auto mounted = mount_ext4(loop->path(), link);
    ASSERT_FALSE(mounted);
    EXPECT_NE(mounted.error().message.find("mount " + loop->path() + " on " + link), std::string::npos);
    EXPECT_NE(mounted.error().message.find("symbolic link"), std::string::npos) << mounted.error().message;
    EXPECT_FALSE(*find_mount(rootfs_));
    EXPECT_FALSE(*find_mount(link));
}

TEST_F(MountTest, RefusesANonDirectoryTargetAndANonBlockSource) {
    auto loop = LoopDevice::attach(image_);
    ASSERT_TRUE(loop) << loop.error().message;
    EXPECT_FALSE(mount_ext4(loop->path(), image_));
    EXPECT_FALSE(mount_ext4(loop->path(), dir_ + "/missing"));
    auto from_file = mount_ext4(image_, rootfs_);
    ASSERT_FALSE(from_file);
    EXPECT_NE(from_file.error().message.find("not a block device"), std::string::npos);
}

TEST_F(MountTest, UnmountOfSomethingNotMountedIsOk) {
    EXPECT_TRUE(unmount(rootfs_));
    EXPECT_TRUE(unmount(dir_ + "/missing"));
}

TEST_F(MountTest, BusyUnmountRetriesThenNamesTheHolder) {
    attach_and_mount(rootfs_);
    if (HasFatalFailure()) return;
    const std::string file = rootfs_ + "/held";
    Fd held(open(file.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
    ASSERT_TRUE(held.valid());
    auto started = std::chrono::steady_clock::now();
    auto busy = unmount(rootfs_);
    auto waited = std::chrono::steady_clock::now() - started;
    ASSERT_FALSE(busy);
    const auto& msg = busy.error().message;
    EXPECT_NE(msg.find("unmount " + rootfs_), std::string::npos) << msg;
    EXPECT_NE(msg.find("busy"), std::string::npos) << msg;
    EXPECT_NE(msg.find("pid " + std::to_string(getpid())), std::string::npos) << msg;
    EXPECT_NE(msg.find(file), std::string::npos) << msg;
    EXPECT_GE(waited, std::chrono::milliseconds(400));
    held.reset();
    EXPECT_TRUE(unmount(rootfs_));
}

TEST_F(MountTest, FindMountUnescapesMountinfo) {
    const std::string spaced = dir_ + "/with space";
    ASSERT_EQ(mkdir(spaced.c_str(), 0755), 0);
    attach_and_mount(spaced);
    if (HasFatalFailure()) return;
    auto info = find_mount(spaced + "/");
    ASSERT_TRUE(info && *info);
    EXPECT_EQ((*info)->mount_point, spaced);
    EXPECT_FALSE(*find_mount(dir_));
    ASSERT_TRUE(unmount(spaced));
}

TEST_F(MountTest, GuardUnmountsUnlessReleased) {
    auto loop = LoopDevice::attach(image_);
    ASSERT_TRUE(loop) << loop.error().message;
    {
        auto guard = MountGuard::mount(loop->path(), rootfs_);
        ASSERT_TRUE(guard) << guard.error().message;
        EXPECT_TRUE(*find_mount(rootfs_));
    }
    EXPECT_FALSE(*find_mount(rootfs_));
    {
        auto guard = MountGuard::mount(loop->path(), rootfs_);
        ASSERT_TRUE(guard) << guard.error().message;
        MountGuard moved = std::move(*guard);
        EXPECT_EQ(moved.release(), rootfs_);
    }
    EXPECT_TRUE(*find_mount(rootfs_));
    ASSERT_TRUE(unmount(rootfs_));
}

}  // namespace
}  // namespace jailctl
