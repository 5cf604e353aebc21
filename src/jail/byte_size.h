// ByteSize: a validated, positive size in bytes (disk sizes), binary units only.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "util/result.h"

namespace jailctl {

class ByteSize {
public:
    // A positive decimal integer without leading zeros, optionally followed by a binary unit
    // K M G T or KiB MiB GiB TiB (letters case-insensitive: "512M", "512mib", "1G", "1073741824").
    // No spaces, sign, decimals or other units ("KB" and "B" are refused: ambiguous or useless);
    // values that overflow 64 bits are refused. `field` names the option in errors.
    static Result<ByteSize> parse(std::string_view input, std::string_view field = "size");

    static ByteSize from_bytes(uint64_t bytes) { return ByteSize(bytes); }

    // This size if it is >= min_bytes, else "size: 10 MiB is below the minimum of 64 MiB".
    Result<ByteSize> at_least(uint64_t min_bytes, std::string_view field = "size") const;

    uint64_t bytes() const { return bytes_; }

    // Always exact: the largest binary unit in which the value has at most two decimals
    // ("512 MiB", "1 GiB", "1.5 GiB", "1.25 GiB", "100 KiB"), else plain bytes ("12345 B").
    std::string human() const;

    friend bool operator==(ByteSize, ByteSize) = default;
    friend std::strong_ordering operator<=>(ByteSize a, ByteSize b) { return a.bytes_ <=> b.bytes_; }

private:
    explicit ByteSize(uint64_t bytes) : bytes_(bytes) {}
    uint64_t bytes_ = 0;
};

// Shorthand for human() of a raw byte count.
std::string human_bytes(uint64_t bytes);

}  // namespace jailctl
