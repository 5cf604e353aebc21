#include "util/progress.h"

#include <gtest/gtest.h>

namespace jailctl {
namespace {

TEST(ProgressLine, BytesWithBarRateAndEta) {
    // 64 of 128 MiB in 5 s: 12.8 MiB/s, 5 s to go
    EXPECT_EQ(progress_line("backup", 64ull << 20, 128ull << 20, 5.0, ProgressUnit::Bytes, 80),
              "backup [##############--------------]  50%  64.0/128.0 MiB  12.8 MiB/s  ETA 0:05");
    // the bar takes what the rest leaves of the width (here 28 of at most 30 columns)
    EXPECT_EQ(progress_line("backup", 64ull << 20, 128ull << 20, 5.0, ProgressUnit::Bytes, 80).size(), 80u);
}

TEST(ProgressLine, NothingDoneYetHasNoRateNorEta) {
    EXPECT_EQ(progress_line("restore", 0, 2ull << 30, 0.0, ProgressUnit::Bytes, 80),
              "restore [------------------------------]   0%  0.0/2.0 GiB  -- B/s  ETA --:--");
}

TEST(ProgressLine, NoRateInTheFirstHalfSecond) {
    EXPECT_EQ(progress_line("backup", 1024, 24ull << 20, 0.1, ProgressUnit::Bytes, 80),
              "backup [------------------------------]   0%  0.0/24.0 MiB  -- B/s  ETA --:--");
}

TEST(ProgressLine, DoneIsCappedAtTotalAndLongEtaHasHours) {
    EXPECT_EQ(progress_line("x", 300, 200, 1.0, ProgressUnit::Bytes, 80),
              "x [##############################] 100%  200.0/200.0 B  200.0 B/s  ETA 0:00");
    // 1 KiB of 10 MiB in 1 s: 10239 s left = 2:50:39
    auto line = progress_line("grow", 1024, 10ull << 20, 1.0, ProgressUnit::Bytes, 80);
    EXPECT_NE(line.find("ETA 2:50:39"), std::string::npos) << line;
}

TEST(ProgressLine, JailsAndSteps) {
    EXPECT_EQ(progress_line("start --all", 3, 10, 2.0, ProgressUnit::Jails, 80),
              "start --all [#######-------------------]  30%  3/10 jails  1.5 jails/s  ETA 0:05");
    EXPECT_EQ(progress_line("clone (copy-disk)", 2, 8, 4.0, ProgressUnit::Steps, 100),
              "clone (copy-disk) [#######-----------------------]  25%  2/8 steps  0.5 steps/s  ETA 0:12");
}

TEST(ProgressLine, NarrowTerminalDropsTheBarThenTruncates) {
    auto line = progress_line("backup", 1 << 20, 2 << 20, 1.0, ProgressUnit::Bytes, 50);
    EXPECT_EQ(line, "backup  50%  1.0/2.0 MiB  1.0 MiB/s  ETA 0:01");
    EXPECT_EQ(progress_line("backup", 1 << 20, 2 << 20, 1.0, ProgressUnit::Bytes, 20).size(), 20u);
}

TEST(ProgressWanted, NeverWithJson) { EXPECT_FALSE(progress_wanted(true)); }

}  // namespace
}  // namespace jailctl
