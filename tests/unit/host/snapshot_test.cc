// Snapshots of an image file: the copy is exact and sparse-friendly; the frozen-window hook runs
// only when a mounted filesystem is frozen (a stopped jail's image is copied without freeze).
#include "host/snapshot.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "fixture.h"

namespace jailctl {
namespace {

namespace fs = std::filesystem;
using namespace jailctl::test;

class SnapshotTest : public TempDirTest {
protected:
    SnapshotTest() : TempDirTest("/tmp/jailctl-snapshot-test.") {}
    void SetUp() override {
        TempDirTest::SetUp();
        image_ = dir_ + "/disk.img";
        std::ofstream(image_) << std::string(4096, 'a') << std::string(8192, '\0') << "tail";
    }
    std::string image_;
};

TEST_F(SnapshotTest, StoppedImageIsCopiedWithoutFreezeOrHook) {
    bool hooked = false;
    auto info = snapshot_image("", image_, dir_ + "/copy.img", [&hooked]() -> Result<void> {
        hooked = true;
        return {};
    });
    ASSERT_TRUE(info) << info.error().message;
    EXPECT_FALSE(info->frozen);
    EXPECT_EQ(info->freeze_ms, 0);
    EXPECT_FALSE(hooked);
    EXPECT_EQ(read_file(image_), read_file(dir_ + "/copy.img"));
    EXPECT_EQ(fs::status(dir_ + "/copy.img").permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
}

TEST_F(SnapshotTest, ExistingDestinationIsRefusedAndKept) {
    std::ofstream(dir_ + "/copy.img") << "keep";
    auto info = snapshot_image("", image_, dir_ + "/copy.img");
    ASSERT_FALSE(info);
    EXPECT_NE(info.error().message.find("copy.img"), std::string::npos);
    EXPECT_EQ(read_file(dir_ + "/copy.img"), "keep");
}

TEST_F(SnapshotTest, UnfreezableRootfsFailsAndRemovesTheCopy) {
    // A path that is not a directory cannot be frozen: the error names it, no copy is left.
    bool hooked = false;
    auto info = snapshot_image(image_, image_, dir_ + "/copy.img", [&hooked]() -> Result<void> {
        hooked = true;
        return {};
    });
    ASSERT_FALSE(info);
    EXPECT_NE(info.error().message.find("freeze"), std::string::npos) << info.error().message;
    EXPECT_FALSE(hooked);
    EXPECT_FALSE(fs::exists(dir_ + "/copy.img"));
}

// /tmp here is ext4 or tmpfs, neither of which clones: the probe says extent copy and names the
// filesystem; the reflink answer is proven on a real XFS root by tests/integration/xfs_root.sh.
TEST_F(SnapshotTest, SupportProbeOnAFilesystemWithoutReflink) {
    auto support = snapshot_support(dir_);
    ASSERT_TRUE(support) << support.error().message;
    EXPECT_FALSE(support->filesystem.empty());
    if (support->filesystem == "ext4" || support->filesystem == "tmpfs") {
        EXPECT_EQ(SnapshotMethod::ExtentCopy, support->method);
    }
    // nothing left behind: the probe's scratch files are unnamed (O_TMPFILE)
    size_t entries = 0;
    for ([[maybe_unused]] auto& e : fs::directory_iterator(dir_)) ++entries;
    EXPECT_EQ(1u, entries);  // disk.img of the fixture only
}

TEST(SnapshotSupport, AMissingDirectoryIsAnError) {
    auto support = snapshot_support("/nonexistent/jailctl-root");
    ASSERT_FALSE(support);
    EXPECT_NE(support.error().message.find("/nonexistent/jailctl-root"), std::string::npos);
}

}  // namespace
}  // namespace jailctl
