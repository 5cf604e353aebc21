#include "util/command.h"

#include <gtest/gtest.h>

namespace jailctl {
namespace {

TEST(RunChecked, NonZeroExitQuotesTheLastLine) {
    auto r = run_checked({"sh", "-c", "echo first; echo 'the cause' >&2; echo >&2; exit 3"});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, "sh exited with status 3: the cause");
}

TEST(RunChecked, ZeroExitIsTheResult) {
    auto r = run_checked({"sh", "-c", "echo fine"});
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->output, "fine\n");
}

TEST(ExitMessage, WithoutOutputNoColon) {
    EXPECT_EQ(exit_message("e2fsck", {8, ""}), "e2fsck exited with status 8");
    EXPECT_EQ(exit_message("e2fsck", {8, "e2fsck: Bad magic\n\n"}), "e2fsck exited with status 8: e2fsck: Bad magic");
}

}  // namespace
}  // namespace jailctl
