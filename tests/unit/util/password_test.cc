#include "util/password.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <vector>

namespace jailctl {
namespace {

// A byte source that replays a fixed sequence, cyclically, and counts what it handed out.
struct Replay {
    std::vector<uint8_t> bytes;
    size_t next = 0;
    size_t handed_out = 0;
    void operator()(std::span<uint8_t> out) {
        for (uint8_t& b : out) {
            b = bytes[next];
            next = (next + 1) % bytes.size();
            ++handed_out;
        }
    }
};

std::string from(Replay& src, size_t length) {
    return generate_password_from(length, [&](std::span<uint8_t> out) { src(out); });
}

TEST(Password, Alphabet) {
    EXPECT_EQ(kPasswordAlphabet.size(), 56u);
    for (char c : std::string_view("0Oo1lI"))
        EXPECT_EQ(kPasswordAlphabet.find(c), std::string_view::npos) << c;
    std::set<char> unique(kPasswordAlphabet.begin(), kPasswordAlphabet.end());
    EXPECT_EQ(unique.size(), 56u);
    for (char c : kPasswordAlphabet) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c))) << c;
}

TEST(Password, DefaultLengthAndAlphabetOnly) {
    std::string p = generate_password();
    EXPECT_EQ(p.size(), 24u);
    EXPECT_GE(kDefaultPasswordLength, 20u);
    for (size_t len : {size_t{0}, size_t{1}, size_t{20}, size_t{64}, size_t{1000}}) {
        std::string q = generate_password(len);
        EXPECT_EQ(q.size(), len);
        EXPECT_EQ(q.find_first_not_of(kPasswordAlphabet), std::string::npos) << q;
    }
}

TEST(Password, TwoPasswordsDiffer) {
    std::set<std::string> seen;
    for (int i = 0; i < 100; ++i) seen.insert(generate_password());
    EXPECT_EQ(seen.size(), 100u);
}

TEST(Password, BytesFrom224UpAreRejected) {
    Replay src{{250, 251, 252, 253, 254, 255, 224, 0, 55, 56, 223}};
    std::string p = from(src, 4);
    // 250..255 and 224 are discarded; 0 -> 'A', 55 -> '9', 56 -> 'A' (56 % 56), 223 -> '9' (223 % 56 = 55).
    EXPECT_EQ(p, "A9A9");
}

TEST(Password, OnlyRejectedBytesThenGoodOnes) {
    // 1000 rejected bytes before any usable one: the generator keeps asking for more.
    std::vector<uint8_t> seq(1000, 255);
    seq.push_back(1);
    Replay src{seq};
    EXPECT_EQ(from(src, 1), "B");
    EXPECT_GE(src.handed_out, 1001u);
}

TEST(Password, EveryByteValueOnceGivesEverySymbolEqually) {
    std::vector<uint8_t> perm(256);
    std::iota(perm.begin(), perm.end(), 0);
    std::mt19937 rng(7);  // test shuffle only
    for (int round = 0; round < 5; ++round) {
        std::shuffle(perm.begin(), perm.end(), rng);
        Replay src{perm};
        std::string p = from(src, 224);  // exactly the accepted values 0..223 of one permutation
        std::map<char, int> count;
        for (char c : p) ++count[c];
        ASSERT_EQ(count.size(), 56u);
        for (auto [c, n] : count) EXPECT_EQ(n, 4) << "symbol " << c << " in round " << round;
    }
}

TEST(Password, ModuloAloneWouldBeBiased) {
    // Sanity check of the test above: without rejection the 32 values 224..255 would give
    // the first 32 symbols 5 chances in 256 and the rest 4.
    std::map<char, int> count;
    for (int b = 0; b < 256; ++b) ++count[kPasswordAlphabet[static_cast<size_t>(b) % 56]];
    EXPECT_EQ(count[kPasswordAlphabet[0]], 5);
    EXPECT_EQ(count[kPasswordAlphabet[55]], 4);
}

TEST(Password, RealSourceRoughlyUniform) {
    // 56 * 2000 symbols: each expected 2000 times; +-25% is > 11 sigma, never flaky.
    std::string p = generate_password(56 * 2000);
    std::map<char, int> count;
    for (char c : p) ++count[c];
    ASSERT_EQ(count.size(), 56u);
    for (auto [c, n] : count) {
        EXPECT_GT(n, 1500) << c;
        EXPECT_LT(n, 2500) << c;
    }
}

}  // namespace
}  // namespace jailctl
