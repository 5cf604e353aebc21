// ByteSize: a validated, positive size in bytes (disk sizes, memory limits).
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "util/result.h"

namespace jailctl {

class ByteSize {
public:
    // A positive decimal integer without leading zeros, optionally followed by a unit, letters
    // case-insensitive, as Incus reads them: K M G T and KiB MiB GiB TiB are binary ("512M" =
    // "512MiB" = 512 * 2^20), kB MB GB TB are decimal ("500MB" = 500 * 10^6). No spaces, sign,
    // decimals or other units ("B" is refused: useless); values that overflow 64 bits are
    // refused. `field` names the option in errors.
    static Result<ByteSize> parse(std::string_view input, std::string_view field = "size");

    // parse() for a disk size: rounded up to the 4 KiB block of images and ext4, so that the
    // decimal units work ("1GB" = 10^9 bytes becomes 1000001536 bytes, 244141 blocks).
    static Result<ByteSize> parse_disk(std::string_view input, std::string_view field = "size");

    static ByteSize from_bytes(uint64_t bytes) { return ByteSize(bytes); }

    // This size if it is >= min_bytes, else "size: 10 MiB is below the minimum of 64 MiB".
    Result<ByteSize> at_least(uint64_t min_bytes, std::string_view field = "size") const;

    uint64_t bytes() const { return bytes_; }

    // human_bytes() of this size.
    std::string human() const;

    friend bool operator==(ByteSize, ByteSize) = default;
    friend std::strong_ordering operator<=>(ByteSize a, ByteSize b) { return a.bytes_ <=> b.bytes_; }

private:
    explicit ByteSize(uint64_t bytes) : bytes_(bytes) {}
    uint64_t bytes_ = 0;
};

// The units parse() reads, for --help texts.
#define JAILCTL_SIZE_UNITS "K, M, G, T or KiB, MiB, GiB, TiB count 1024s; kB, MB, GB, TB count 1000s"

// The one way jailctl prints a byte count, in the largest binary unit it reaches (B, KiB, MiB,
// GiB, TiB): exact when that takes at most two decimals ("512 MiB", "1.25 GiB", "100 KiB",
// "1023 B"), else rounded to one decimal ("78.1 GiB" for a free-space figure). A message never
// mixes units because every figure goes through here.
std::string human_bytes(uint64_t bytes);

}  // namespace jailctl
