// clone's id shift (src/host/id_shift.h): SRC's range -> DST's, hard links seen twice unchanged,
// anything else -> DST's nobody.
#include "host/id_shift.h"

#include <gtest/gtest.h>

using jailctl::shift_id;

TEST(CloneShift, MovesSrcRange) {
    constexpr uint32_t src = 1u << 30, dst = (1u << 30) + 5 * 65536;
    EXPECT_EQ(dst, shift_id(src, src, dst));
    EXPECT_EQ(dst + 2000, shift_id(src + 2000, src, dst));
    EXPECT_EQ(dst + 65535, shift_id(src + 65535, src, dst));
}

TEST(CloneShift, AlreadyShiftedStays) {
    constexpr uint32_t src = 1u << 30, dst = (1u << 30) + 65536;
    EXPECT_EQ(dst + 33, shift_id(dst + 33, src, dst));
}

TEST(CloneShift, ForeignBecomesNobody) {
    constexpr uint32_t src = 1u << 30, dst = (1u << 30) + 2 * 65536;
    EXPECT_EQ(dst + 65534, shift_id(0, src, dst));          // host root
    EXPECT_EQ(dst + 65534, shift_id(src + 65536, src, dst));  // the next jail's range
    EXPECT_EQ(dst + 65534, shift_id(src - 1, src, dst));
}
