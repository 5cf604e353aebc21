// Image files: exact size, real reservation vs sparse, refusals, ENOSPC on a small tmpfs.
#include "host/image.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "fixture.h"

namespace jailctl {
namespace {

namespace fs = std::filesystem;
using namespace jailctl::test;

class ImageTest : public TempDirTest {
protected:
    ImageTest() : TempDirTest("/tmp/jailctl-image-test-") {}
    void TearDown() override {
        if (!tmpfs_.empty()) umount2(tmpfs_.c_str(), MNT_DETACH);
        TempDirTest::TearDown();
    }
    // A 16 MiB tmpfs inside the test directory (root, private mount namespace only).
    void mount_small_tmpfs() {
        if (auto why = enter_private_mount_namespace(false); !why.empty()) GTEST_SKIP() << "tmpfs: " << why;
        tmpfs_ = dir_ + "/small";
        ASSERT_EQ(mkdir(tmpfs_.c_str(), 0700), 0);
        ASSERT_EQ(mount("jailctl-test", tmpfs_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "size=16m"), 0)
            << strerror(errno);
    }
    static struct stat stat_of(const std::string& path) {
        struct stat st {};
        EXPECT_EQ(stat(path.c_str(), &st), 0) << path;
        return st;
    }
    std::string tmpfs_;
};

TEST_F(ImageTest, PreallocatedImageHasExactSizeAndAllItsBlocks) {
    const std::string image = dir_ + "/disk.img";
    ASSERT_TRUE(create_image(image, 64 * MiB, /*sparse=*/false));
    auto st = stat_of(image);
    EXPECT_EQ(static_cast<uint64_t>(st.st_size), 64 * MiB);
    EXPECT_GE(static_cast<uint64_t>(st.st_blocks) * 512, 64 * MiB);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    EXPECT_TRUE(S_ISREG(st.st_mode));
}

TEST_F(ImageTest, SparseImageHasExactSizeAndNoBlocks) {
    const std::string image = dir_ + "/disk.img";
    ASSERT_TRUE(create_image(image, 64 * MiB, /*sparse=*/true));
    auto st = stat_of(image);
    EXPECT_EQ(static_cast<uint64_t>(st.st_size), 64 * MiB);
    EXPECT_LT(static_cast<uint64_t>(st.st_blocks) * 512, 1 * MiB);
}

TEST_F(ImageTest, ExistingFileIsRefusedAndLeftAlone) {
    const std::string image = dir_ + "/disk.img";
    ASSERT_TRUE(create_image(image, 1 * MiB, true));
    auto again = create_image(image, 2 * MiB, true);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().kind, ErrorKind::Conflict);
    EXPECT_NE(again.error().message.find(image), std::string::npos) << again.error().message;
    EXPECT_EQ(static_cast<uint64_t>(stat_of(image).st_size), 1 * MiB);
}

TEST_F(ImageTest, SymlinkAtPathIsNotFollowed) {
    const std::string victim = dir_ + "/victim";
    const std::string image = dir_ + "/disk.img";
    ASSERT_EQ(symlink(victim.c_str(), image.c_str()), 0);
    EXPECT_FALSE(create_image(image, 1 * MiB, true));
    EXPECT_FALSE(fs::exists(victim));
    EXPECT_FALSE(grow_image(image, 2 * MiB, true));
}

TEST_F(ImageTest, BadSizesAreInputErrors) {
    for (uint64_t bytes : {uint64_t{0}, uint64_t{4095}, 1 * MiB + 1}) {
        auto result = create_image(dir_ + "/disk.img", bytes, true);
        ASSERT_FALSE(result) << bytes;
        EXPECT_EQ(result.error().kind, ErrorKind::BadInput);
        EXPECT_TRUE(result.error().message.starts_with("size: ")) << result.error().message;
    }
    EXPECT_FALSE(fs::exists(dir_ + "/disk.img"));
}

TEST_F(ImageTest, NoSpaceNamesBothSizesAndLeavesNoFile) {
    mount_small_tmpfs();
    if (IsSkipped() || HasFatalFailure()) return;
    const std::string image = tmpfs_ + "/disk.img";
    auto result = create_image(image, 64 * MiB, /*sparse=*/false);
    ASSERT_FALSE(result);
    const auto& msg = result.error().message;
    EXPECT_NE(msg.find(image), std::string::npos) << msg;
    EXPECT_NE(msg.find("No space left on device"), std::string::npos) << msg;
    EXPECT_NE(msg.find("asked for 64 MiB"), std::string::npos) << msg;
    EXPECT_NE(msg.find("16 MiB free"), std::string::npos) << msg;
    EXPECT_FALSE(fs::exists(image));
    EXPECT_EQ(*free_bytes(tmpfs_), 16 * MiB);  // the partial reservation was released
}

TEST_F(ImageTest, GrowsPreallocatedAndSparse) {
    const std::string image = dir_ + "/disk.img";
    ASSERT_TRUE(create_image(image, 8 * MiB, false));
    ASSERT_TRUE(grow_image(image, 24 * MiB, false));
    auto st = stat_of(image);
    EXPECT_EQ(static_cast<uint64_t>(st.st_size), 24 * MiB);
    EXPECT_GE(static_cast<uint64_t>(st.st_blocks) * 512, 24 * MiB);

    const std::string thin = dir_ + "/thin.img";
    ASSERT_TRUE(create_image(thin, 8 * MiB, true));
    ASSERT_TRUE(grow_image(thin, 24 * MiB, true));
    st = stat_of(thin);
    EXPECT_EQ(static_cast<uint64_t>(st.st_size), 24 * MiB);
    EXPECT_LT(static_cast<uint64_t>(st.st_blocks) * 512, 1 * MiB);
}

TEST_F(ImageTest, ShrinkIsRefusedAndSameSizeIsANoOp) {
    const std::string image = dir_ + "/disk.img";
    ASSERT_TRUE(create_image(image, 16 * MiB, false));
    auto shrink = grow_image(image, 8 * MiB, false);
    ASSERT_FALSE(shrink);
    EXPECT_EQ(shrink.error().kind, ErrorKind::BadInput);
    EXPECT_TRUE(shrink.error().message.starts_with("size: ")) << shrink.error().message;
    EXPECT_EQ(static_cast<uint64_t>(stat_of(image).st_size), 16 * MiB);
    EXPECT_TRUE(grow_image(image, 16 * MiB, false));
    EXPECT_FALSE(grow_image(dir_ + "/missing.img", 16 * MiB, false));
}

TEST_F(ImageTest, GrowWithoutSpaceKeepsTheOldSize) {
    mount_small_tmpfs();
    if (IsSkipped() || HasFatalFailure()) return;
    const std::string image = tmpfs_ + "/disk.img";
    ASSERT_TRUE(create_image(image, 8 * MiB, false));
    auto result = grow_image(image, 64 * MiB, false);
    ASSERT_FALSE(result);
    EXPECT_NE(result.error().message.find("asked for 56 MiB"), std::string::npos) << result.error().message;
    EXPECT_EQ(static_cast<uint64_t>(stat_of(image).st_size), 8 * MiB);
    EXPECT_EQ(*free_bytes(tmpfs_), 8 * MiB);
}

TEST_F(ImageTest, FreeBytesOfMissingDirectoryIsAnError) {
    auto result = free_bytes(dir_ + "/missing");
    ASSERT_FALSE(result);
    EXPECT_NE(result.error().message.find("statvfs " + dir_ + "/missing"), std::string::npos);
}

}  // namespace
}  // namespace jailctl
