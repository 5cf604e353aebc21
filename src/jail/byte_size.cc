#include "jail/byte_size.h"

#include <array>
#include <cstdio>

#include "util/text.h"

namespace jailctl {
namespace {

struct Unit {
    const char* suffix;  // as accepted after the number, lowercase
    const char* name;    // as printed
    uint64_t factor;
};

// Printed units, largest first: IEC binary, as the kernel, e2fsprogs and df -h count.
constexpr std::array<Unit, 5> kUnits = {{
    {"t", "TiB", uint64_t{1} << 40},
    {"g", "GiB", uint64_t{1} << 30},
    {"m", "MiB", uint64_t{1} << 20},
    {"k", "KiB", uint64_t{1} << 10},
    {"", "B", 1},
}};

// Accepted units, as Incus reads them: a bare letter and the IEC name are binary (K = KiB =
// 1024, as jailctl always read them), the SI name is decimal (KB = 1000, MB = 10^6: what a
// disk vendor and `df -H` mean). Case-insensitive.
constexpr std::array<Unit, 12> kInputUnits = {{
    {"k", "KiB", uint64_t{1} << 10},          {"kib", "KiB", uint64_t{1} << 10},
    {"m", "MiB", uint64_t{1} << 20},          {"mib", "MiB", uint64_t{1} << 20},
    {"g", "GiB", uint64_t{1} << 30},          {"gib", "GiB", uint64_t{1} << 30},
    {"t", "TiB", uint64_t{1} << 40},          {"tib", "TiB", uint64_t{1} << 40},
    {"kb", "kB", 1000},                       {"mb", "MB", 1'000'000},
    {"gb", "GB", 1'000'000'000},               {"tb", "TB", 1'000'000'000'000},
}};

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

}  // namespace

Result<ByteSize> ByteSize::parse(std::string_view input, std::string_view field_name) {
    const std::string field(field_name);
    const std::string hint =
        " (expected a whole number with an optional unit: K, M, G, T or KiB, MiB, GiB, TiB (1024-based), "
        "or kB, MB, GB, TB (1000-based); e.g. 512M)";
    if (input.empty()) return fail_input(field, "empty" + hint);

    size_t digits = 0;
    uint64_t value = 0;
    for (; digits < input.size() && input[digits] >= '0' && input[digits] <= '9'; ++digits) {
        auto d = static_cast<uint64_t>(input[digits] - '0');
        if (value > (UINT64_MAX - d) / 10)
            return fail_input(field, quote_input(input) + " is too large (at most 2^64-1 bytes)");
        value = value * 10 + d;
    }
    if (digits == 0) return fail_input(field, quote_input(input) + " does not start with a digit" + hint);
    if (digits > 1 && input[0] == '0') return fail_input(field, quote_input(input) + " has a leading zero" + hint);

    std::string_view suffix = input.substr(digits);
    uint64_t factor = 1;
    if (!suffix.empty()) {
        std::string s = lower(suffix);
        const Unit* unit = nullptr;
        for (const Unit& u : kInputUnits)
            if (s == u.suffix) unit = &u;
        if (unit == nullptr) {
            if (suffix.find(' ') != std::string_view::npos)
                return fail_input(
                    field, quote_input(input) + " has a space; write the unit right after the number (e.g. 1G)");
            if (suffix[0] == '.' || suffix[0] == ',')
                return fail_input(field,
                                  quote_input(input) + " has decimals; use a smaller unit (e.g. 1536M, not 1.5G)");
            return fail_input(field, quote_input(input) + " has an unknown unit " + quote_input(suffix) + hint);
        }
        factor = unit->factor;
    }
    if (value == 0) return fail_input(field, quote_input(input) + " is zero; the size must be positive");
    if (value > UINT64_MAX / factor)
        return fail_input(field, quote_input(input) + " is too large (at most 2^64-1 bytes)");
    return ByteSize(value * factor);
}

Result<ByteSize> ByteSize::parse_disk(std::string_view input, std::string_view field) {
    constexpr uint64_t kBlock = 4096;
    auto size = parse(input, field);
    if (!size) return size;
    if (size->bytes_ > UINT64_MAX - kBlock)
        return fail_input(std::string(field), quote_input(input) + " is too large (at most 2^64-1 bytes)");
    return ByteSize((size->bytes_ + kBlock - 1) / kBlock * kBlock);
}

Result<ByteSize> ByteSize::at_least(uint64_t min_bytes, std::string_view field) const {
    if (bytes_ < min_bytes)
        // In bytes when rounding would print the minimum itself ("64.0 MiB is below 64 MiB").
        return fail_input(std::string(field), (bytes_ % 1024 == 0 ? human() : std::to_string(bytes_) + " B") +
                                                  " is below the minimum of " + human_bytes(min_bytes));
    return *this;
}

std::string ByteSize::human() const { return human_bytes(bytes_); }

std::string human_bytes(uint64_t bytes) {
    const Unit* unit = &kUnits.back();
    for (const Unit& u : kUnits)
        if (bytes >= u.factor) {
            unit = &u;
            break;
        }
    uint64_t whole = bytes / unit->factor;
    uint64_t rest = bytes % unit->factor;
    if (rest == 0) return std::to_string(whole) + " " + unit->name;
    // Exactly two decimals or fewer? rest * 100 cannot overflow: rest < 2^40.
    if (rest * 100 % unit->factor == 0) {
        uint64_t hundredths = rest * 100 / unit->factor;
        char frac[4];
        if (hundredths % 10 == 0)
            std::snprintf(frac, sizeof frac, "%u", static_cast<unsigned>(hundredths / 10));
        else
            std::snprintf(frac, sizeof frac, "%02u", static_cast<unsigned>(hundredths));
        return std::to_string(whole) + "." + frac + " " + unit->name;
    }
    // Not exact (free space, a file's size): one decimal, rounded, in the same unit.
    char buf[48];
    std::snprintf(buf, sizeof buf, "%.1f %s", static_cast<double>(bytes) / static_cast<double>(unit->factor),
                  unit->name);
    return buf;
}

}  // namespace jailctl
