#include "jail/byte_size.h"

#include <gtest/gtest.h>

namespace jailctl {
namespace {

constexpr uint64_t kKiB = 1024, kMiB = kKiB << 10, kGiB = kMiB << 10, kTiB = kGiB << 10;

TEST(ByteSize, HumanIsExact) {
    const std::pair<uint64_t, const char*> cases[] = {
        {512 * kMiB, "512 MiB"},
        {kGiB, "1 GiB"},
        {kGiB + kGiB / 2, "1.5 GiB"},
        {kGiB + kGiB / 4, "1.25 GiB"},
        {100 * kKiB, "100 KiB"},
        {12288, "12 KiB"},
        {1, "1 B"},
        {1023, "1023 B"},
        {kKiB, "1 KiB"},
        {2 * kTiB, "2 TiB"},
        {1536 * kTiB, "1536 TiB"},

        {kMiB + 512, "1.0 MiB"},  // not exact in MiB: rounded, never a mix of units
        {0, "0 B"},
    };
    for (auto [bytes, want] : cases) EXPECT_EQ(human_bytes(bytes), want) << bytes;
    EXPECT_EQ(ByteSize::from_bytes(3 * kGiB).human(), "3 GiB");
}

// A figure that is not a round number (free space) is rounded to one decimal in the largest
// unit it reaches, never printed as a long run of KiB or bytes (issue 14, defect 10).
TEST(ByteSize, HumanRoundsWhatIsNotExact) {
    const std::pair<uint64_t, const char*> cases[] = {
        {81849048 * kKiB, "78.1 GiB"},
        {12345, "12.1 KiB"},
        {64 * kMiB + 1, "64.0 MiB"},
        {kGiB - 1, "1024.0 MiB"},
        {10 * kTiB + 7, "10.0 TiB"},
        {UINT64_MAX, "16777216.0 TiB"},
    };
    for (auto [bytes, want] : cases) EXPECT_EQ(human_bytes(bytes), want) << bytes;
}

// Units as Incus reads them: bare letters and IEC names binary, SI names decimal.
TEST(ByteSize, ParsesBinaryAndDecimalUnits) {
    const std::pair<const char*, uint64_t> cases[] = {
        {"512M", 512 * kMiB},  {"512MiB", 512 * kMiB}, {"512mib", 512 * kMiB}, {"512MB", 512'000'000},
        {"512mb", 512'000'000}, {"1G", kGiB},          {"1GiB", kGiB},         {"1GB", 1'000'000'000},
        {"2T", 2 * kTiB},      {"2TB", 2'000'000'000'000}, {"2TiB", 2 * kTiB}, {"100K", 100 * kKiB},
        {"100kB", 100'000},    {"100KB", 100'000},     {"100KiB", 100 * kKiB}, {"4096", 4096},
    };
    for (auto [input, want] : cases) {
        auto size = ByteSize::parse(input);
        ASSERT_TRUE(size.has_value()) << input << ": " << size.error().message;
        EXPECT_EQ(size->bytes(), want) << input;
    }
    for (const char* bad : {"1B", "1iB", "1PB", "1P", "1 GB", "1.5GB", "GB", "1GBB", "1MiBB"})
        EXPECT_FALSE(ByteSize::parse(bad).has_value()) << bad;
}

// A disk size is rounded up to the 4 KiB block, so decimal sizes make valid images.
TEST(ByteSize, DiskSizesRoundUpToTheBlock) {
    EXPECT_EQ(ByteSize::parse_disk("1GB")->bytes(), 1'000'001'536u);
    EXPECT_EQ(ByteSize::parse_disk("128MB")->bytes(), 128'000'000u);
    EXPECT_EQ(ByteSize::parse_disk("128M")->bytes(), 128 * kMiB);
    EXPECT_EQ(ByteSize::parse_disk("4097")->bytes(), 8192u);
    EXPECT_FALSE(ByteSize::parse_disk("0"));
    EXPECT_FALSE(ByteSize::parse_disk("18446744073709551615"));
}

TEST(ByteSize, AtLeast) {
    auto size = ByteSize::parse("64M");
    ASSERT_TRUE(size.has_value());
    EXPECT_TRUE(size->at_least(64 * kMiB).has_value());
    auto small = ByteSize::parse("10M")->at_least(64 * kMiB);
    ASSERT_FALSE(small.has_value());
    EXPECT_EQ(small.error().message, "size: 10 MiB is below the minimum of 64 MiB");
    EXPECT_EQ(small.error().kind, ErrorKind::BadInput);
    auto grow = ByteSize::parse("1G", "new size")->at_least(2 * kGiB, "new size");
    ASSERT_FALSE(grow.has_value());
    EXPECT_EQ(grow.error().message, "new size: 1 GiB is below the minimum of 2 GiB");
}

TEST(ByteSize, FieldNamesTheOption) {
    auto r = ByteSize::parse("1.5G", "--size");
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().message.rfind("--size: ", 0), 0u) << r.error().message;
}

TEST(ByteSize, EveryUnitSpelling) {
    const std::pair<const char*, uint64_t> units[] = {{"K", kKiB}, {"M", kMiB}, {"G", kGiB}, {"T", kTiB}};
    for (auto [letter, factor] : units) {
        std::string l = letter;
        std::string lower(1, static_cast<char>(l[0] - 'A' + 'a'));
        for (const std::string& suffix : {l, lower, l + "iB", lower + "ib", l + "IB", lower + "iB"}) {
            auto r = ByteSize::parse("3" + suffix);
            ASSERT_TRUE(r.has_value()) << "3" + suffix;
            EXPECT_EQ(r->bytes(), 3 * factor) << "3" + suffix;
        }
        EXPECT_FALSE(ByteSize::parse("3" + l + "i").has_value());
    }
}

TEST(ByteSize, OverflowAtEveryUnit) {
    EXPECT_TRUE(ByteSize::parse("17179869183G").has_value());   // (2^34 - 1) GiB
    EXPECT_FALSE(ByteSize::parse("17179869184G").has_value());  // 2^64
    EXPECT_TRUE(ByteSize::parse("18014398509481983K").has_value());
    EXPECT_FALSE(ByteSize::parse("18014398509481984K").has_value());
    EXPECT_FALSE(ByteSize::parse(std::string(400, '9')).has_value());
}

}  // namespace
}  // namespace jailctl
