// Loop devices through ioctls: attach with autoclear, refusals, capacity, detach, leftovers.
// Root and /dev/loop-control needed; runs in a private mount namespace of the test process.
#include "host/loop.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <thread>

#include "fixture.h"
#include "host/image.h"

namespace jailctl {
namespace {

namespace fs = std::filesystem;
using namespace jailctl::test;

std::string sysfs(const std::string& device, const std::string& file) {
    std::ifstream in("/sys/block/" + fs::path(device).filename().string() + "/" + file);
    std::string line;
    std::getline(in, line);
    return line;
}

class LoopTest : public TempDirTest {
protected:
    LoopTest() : TempDirTest("/var/tmp/jailctl-loop-test-") {}
    void SetUp() override {
        if (auto why = enter_private_mount_namespace(); !why.empty()) GTEST_SKIP() << "loop devices: " << why;
        TempDirTest::SetUp();
    }
    // Every loop device of every image of this test goes, even after a failed assertion.
    void TearDown() override {
        if (dir_.empty()) return;
        for (const auto& image : images_) detach_leftover_loops(image);
        TempDirTest::TearDown();
    }
    std::string new_image(const std::string& name, uint64_t bytes = 16 * MiB) {
        std::string image = dir_ + "/" + name;
        EXPECT_TRUE(create_image(image, bytes, true));
        images_.push_back(image);
        return image;
    }
    std::vector<std::string> images_;
};

TEST_F(LoopTest, AttachesWithAutoclearAndDetachesWhenDropped) {
    const std::string image = new_image("disk.img");
    {
        auto loop = LoopDevice::attach(image);
        ASSERT_TRUE(loop) << loop.error().message;
        EXPECT_EQ(loop->path(), "/dev/loop" + std::to_string(loop->number()));
        auto found = find_loops_for(image);
        ASSERT_TRUE(found);
        ASSERT_EQ(found->size(), 1u);
        EXPECT_EQ((*found)[0].device, loop->path());
        EXPECT_EQ((*found)[0].backing_file, image);
        EXPECT_TRUE((*found)[0].autoclear);
        EXPECT_EQ(sysfs(loop->path(), "loop/partscan"), "0");
        EXPECT_EQ(sysfs(loop->path(), "ro"), "0");
        EXPECT_EQ(sysfs(loop->path(), "size"), std::to_string(16 * MiB / 512));
        std::cout << "[ info     ] " << loop->path() << " direct I/O: " << (loop->direct_io() ? "on" : "off")
                  << '\n';
        LoopDevice moved = std::move(*loop);  // ownership moves, nothing detaches
        EXPECT_EQ(find_loops_for(image)->size(), 1u);
    }
    EXPECT_TRUE(no_loops_for(image));
}

TEST_F(LoopTest, SecondAttachOfTheSameImageIsRefused) {
    const std::string image = new_image("disk.img");
    auto first = LoopDevice::attach(image);
    ASSERT_TRUE(first) << first.error().message;
    auto second = LoopDevice::attach(image);
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().kind, ErrorKind::Conflict);
    EXPECT_NE(second.error().message.find("already attached to " + first->path()), std::string::npos)
        << second.error().message;
    // Found through another path to the same file too.
    const std::string alias = dir_ + "/./sub/../disk.img";
    fs::create_directory(dir_ + "/sub");
    EXPECT_EQ(find_loops_for(alias)->size(), 1u);
}

TEST_F(LoopTest, ReadOnlyAttach) {
    const std::string image = new_image("disk.img");
    auto loop = LoopDevice::attach(image, /*read_only=*/true);
    ASSERT_TRUE(loop) << loop.error().message;
    EXPECT_EQ(sysfs(loop->path(), "ro"), "1");
    int fd = open(loop->path().c_str(), O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {  // the kernel may allow the open; the write must fail
        char block[512] = {};
        EXPECT_LT(pwrite(fd, block, sizeof block, 0), 0);
        close(fd);
    }
}

TEST_F(LoopTest, ExplicitDetach) {
    const std::string image = new_image("disk.img");
    auto loop = LoopDevice::attach(image);
    ASSERT_TRUE(loop) << loop.error().message;
    ASSERT_TRUE(loop->detach());
    EXPECT_TRUE(no_loops_for(image));
    EXPECT_TRUE(loop->detach());  // twice is fine
}

// What repair does with a leftover: detach by the path find_loops_for reported. While someone still
// holds the device (here the LoopDevice; in real life a mount) the kernel defers the detach to
// the last close.
TEST_F(LoopTest, DetachByDevicePathIsDeferredWhileTheDeviceIsHeld) {
    const std::string image = new_image("disk.img");
    auto loop = LoopDevice::attach(image);
    ASSERT_TRUE(loop) << loop.error().message;
    auto found = find_loops_for(image);
    ASSERT_TRUE(found);
    ASSERT_EQ(found->size(), 1u);
    ASSERT_TRUE(detach_loop((*found)[0].device));
    EXPECT_EQ(find_loops_for(image)->size(), 1u);
    loop = fail("dropped");  // closes the device
    EXPECT_TRUE(no_loops_for(image));
}

TEST_F(LoopTest, DetachLoopRejectsOtherPaths) {
    for (const char* bad :
         {"/dev/sda", "/dev/loop", "/dev/loop1x", "/dev/loop-control", "loop1", "/dev/loop/1"}) {
        auto result = detach_loop(bad);
        ASSERT_FALSE(result) << bad;
        EXPECT_EQ(result.error().kind, ErrorKind::BadInput) << bad;
    }
}

TEST_F(LoopTest, SetCapacityAfterTheFileGrew) {
    const std::string image = new_image("disk.img");
    auto loop = LoopDevice::attach(image);
    ASSERT_TRUE(loop) << loop.error().message;
    ASSERT_TRUE(grow_image(image, 48 * MiB, true));
    EXPECT_EQ(sysfs(loop->path(), "size"), std::to_string(16 * MiB / 512));
    ASSERT_TRUE(loop->set_capacity());
    EXPECT_EQ(sysfs(loop->path(), "size"), std::to_string(48 * MiB / 512));
    ASSERT_TRUE(grow_image(image, 64 * MiB, true));
    ASSERT_TRUE(set_loop_capacity(loop->path()));
    EXPECT_EQ(sysfs(loop->path(), "size"), std::to_string(64 * MiB / 512));
}

TEST_F(LoopTest, RefusesSymlinksDirectoriesAndMissingFiles) {
    const std::string image = new_image("disk.img");
    const std::string link = dir_ + "/link.img";
    ASSERT_EQ(symlink(image.c_str(), link.c_str()), 0);
    auto via_link = LoopDevice::attach(link);
    ASSERT_FALSE(via_link);
    EXPECT_NE(via_link.error().message.find("attach " + link + " to a loop device"), std::string::npos)
        << via_link.error().message;
    EXPECT_FALSE(LoopDevice::attach(dir_));
    auto missing = LoopDevice::attach(dir_ + "/missing.img");
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.error().message.find("No such file or directory"), std::string::npos);
}

TEST_F(LoopTest, ConcurrentAttachesGetDistinctDevices) {
    constexpr int kImages = 6;
    std::vector<std::string> images;
    for (int i = 0; i < kImages; ++i)
        images.push_back(new_image("disk" + std::to_string(i) + ".img", 4 * MiB));
    std::vector<std::optional<Result<LoopDevice>>> loops(kImages);
    {
        std::vector<std::jthread> threads;
        for (int i = 0; i < kImages; ++i)
            threads.emplace_back([&, i] { loops[i].emplace(LoopDevice::attach(images[i])); });
    }
    std::set<std::string> devices;
    for (int i = 0; i < kImages; ++i) {
        ASSERT_TRUE(loops[i] && *loops[i]) << loops[i]->error().message;
        devices.insert((*loops[i])->path());
        EXPECT_EQ(find_loops_for(images[i])->at(0).device, (*loops[i])->path());
    }
    EXPECT_EQ(devices.size(), static_cast<size_t>(kImages));
    loops.clear();
    for (const auto& image : images) EXPECT_TRUE(no_loops_for(image));
}

TEST(FindLoopsFor, NothingForAnImageThatWasNeverAttached) {
    auto found = find_loops_for("/nonexistent/jailctl/disk.img");
    ASSERT_TRUE(found) << found.error().message;
    EXPECT_TRUE(found->empty());
}

}  // namespace
}  // namespace jailctl
