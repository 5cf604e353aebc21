#include "util/random.h"

#include <gtest/gtest.h>

#include <array>
#include <vector>

namespace jailctl {
namespace {

TEST(RandomBytes, FillsTheWholeBuffer) {
    // getrandom(2) may return fewer bytes than asked (above 256 bytes, when a signal comes):
    // the loop must fill it all. 64 trailing zero bytes after a fill has odds of 2^-512.
    std::vector<uint8_t> big(1 << 20, 0);
    random_bytes(big);
    size_t zeros_at_end = 0;
    for (auto it = big.rbegin(); it != big.rend() && *it == 0; ++it) ++zeros_at_end;
    EXPECT_LT(zeros_at_end, 64u) << "the end of the buffer was not filled";
}

TEST(RandomBytes, TwoFillsDiffer) {
    std::array<uint8_t, 32> a{}, b{};
    random_bytes(a);
    random_bytes(b);
    EXPECT_NE(a, b);
}

TEST(RandomBytes, EmptySpanIsFine) { random_bytes({}); }

}  // namespace
}  // namespace jailctl
