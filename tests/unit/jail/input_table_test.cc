// One table of operator input for the three values jailctl create takes: domain, ip, size.
// Each row is its own test; on failure GoogleTest prints the row (input escaped).
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>

#include "jail/byte_size.h"
#include "jail/domain.h"
#include "jail/ipv4.h"
#include "util/text.h"

namespace jailctl {
namespace {

enum class Kind { Domain, Ip, IpSyntax, Size };

struct Row {
    Kind kind;
    std::string input;
    // Canonical output (Domain::str, Ipv4::str, decimal byte count) when accepted, nullopt when rejected.
    std::optional<std::string> want;
    // When rejected: a substring of the error message.
    std::string error_has = {};
    uint64_t min_bytes = 0;  // sizes only: checked with at_least() when non-zero
};

void PrintTo(const Row& row, std::ostream* os) {
    static constexpr const char* kNames[] = {"domain", "ip", "ip-syntax", "size"};
    std::string shown = quote_input(row.input);  // escaped and shortened as error messages are
    if (row.input.size() > kQuotedChars) shown += " (" + std::to_string(row.input.size()) + " bytes)";
    *os << kNames[static_cast<int>(row.kind)] << " " << shown << " -> "
        << (row.want ? "\"" + *row.want + "\"" : "error containing \"" + row.error_has + "\"");
}

std::string label_of(size_t n, char c = 'a') { return std::string(n, c); }

// A name of exactly `total` characters: labels of 63 joined by dots, ending in ".com".
std::string name_of_length(size_t total) {
    std::string name = ".com";
    while (name.size() + 64 <= total) name = "." + label_of(63) + name;
    size_t need = total - name.size();  // 1..63 characters for the first label
    return label_of(need, 'b') + name;
}

Row ok(Kind k, std::string in, std::string want) { return {k, std::move(in), std::move(want)}; }
Row bad(Kind k, std::string in, std::string error_has) {
    return {k, std::move(in), std::nullopt, std::move(error_has)};
}

constexpr uint64_t kMiB = uint64_t{1} << 20;
constexpr uint64_t kGiB = uint64_t{1} << 30;
constexpr uint64_t kTiB = uint64_t{1} << 40;
constexpr Kind D = Kind::Domain, I = Kind::Ip, S = Kind::IpSyntax, Z = Kind::Size;

const Row kRows[] = {
    // ---- domain: accepted
    ok(D, "example.com", "example.com"),
    ok(D, "Example.COM", "example.com"),
    ok(D, "example.com.", "example.com"),
    ok(D, "web001.example.net", "web001.example.net"),
    ok(D, "shop.example.co.uk", "shop.example.co.uk"),
    ok(D, "my-site.example", "my-site.example"),
    ok(D, "1und1.de", "1und1.de"),
    ok(D, "123.example", "123.example"),
    ok(D, "example.a1", "example.a1"),
    ok(D, "a.b", "a.b"),
    ok(D, "bücher.example", "xn--bcher-kva.example"),
    ok(D, "BÜCHER.Example", "xn--bcher-kva.example"),
    ok(D, "faß.de", "xn--fa-hia.de"),  // non-transitional: never "fass.de"
    ok(D, "xn--bcher-kva.example", "xn--bcher-kva.example"),
    ok(D, "XN--FA-HIA.DE.", "xn--fa-hia.de"),
    ok(D, "пример.рф", "xn--e1afmkfd.xn--p1ai"),
    ok(D, "ｅｘａｍｐｌｅ.com", "example.com"),  // UTS#46 maps full-width letters
    ok(D, label_of(63) + ".com", label_of(63) + ".com"),
    ok(D, name_of_length(243), name_of_length(243)),
    ok(D, name_of_length(243) + ".", name_of_length(243)),
    // ---- domain: rejected
    bad(D, "", "domain: empty"),
    bad(D, ".", "trailing dot"),
    bad(D, "example..com", "empty label ('..')"),
    bad(D, ".example.com", "starts with '.'"),
    bad(D, "example.com..", "empty label"),
    bad(D, "a_b.example", "domain: label 'a_b' has '_' (allowed: a-z 0-9 -)"),
    bad(D, "my site.example", "label 'my site' has a space"),
    bad(D, "example.com ", "label 'com ' has a space"),
    bad(D, " example.com", "has a space"),
    bad(D, "example.com/x", "has '/'"),
    bad(D, "http://example.com", "has ':'"),
    bad(D, "example.com:80", "has ':'"),
    bad(D, "*.example.com", "has '*'"),
    bad(D, "a@b.example", "has '@'"),
    bad(D, "bü_cher.example", "label 'bü_cher' has '_'"),
    bad(D, "a／b.com", "has '/'"),  // full-width solidus: libidn2 maps it to '/'
    bad(D, "-example.com", "label '-example' starts with '-'"),
    bad(D, "example-.com", "label 'example-' ends with '-'"),
    bad(D, "www.-shop.example", "label '-shop' starts with '-'"),
    bad(D, "ab--cd.example", "positions 3-4"),
    bad(D, "xn--zz.example", "label 'xn--zz' cannot be converted"),
    bad(D, "1.2.3.4", "is an IPv4 address"),
    bad(D, "1.2.3.4.", "is an IPv4 address"),
    bad(D, "example.123", "top-level label '123' is all digits"),
    bad(D, "localhost", "single label"),
    bad(D, "ß", "single label"),
    bad(D, label_of(64) + ".com", "is 64 characters long (at most 63)"),
    bad(D, name_of_length(244), "name is 244 characters long (at most 243 for a jail: LXC"),
    bad(D, name_of_length(253), "name is 253 characters long (at most 243"),
    bad(D, "exa\xffmple.com", "not valid UTF-8 (byte 0xff at offset 3)"),
    bad(D, "\xc3\x28.com", "not valid UTF-8"),
    bad(D, "\xc0\xae.com", "not valid UTF-8"),       // overlong '.'
    bad(D, "\xed\xa0\x80.com", "not valid UTF-8"),   // surrogate
    bad(D, "bücher.exampl\xc3", "not valid UTF-8"),  // truncated sequence
    bad(D, "exa\tmple.com", "control character U+0009 at offset 3"),
    bad(D, "example.com\n", "control character U+000A"),
    bad(D, std::string("exa\0mple.com", 12), "control character U+0000"),
    bad(D, "exa\x7fmple.com", "control character U+007F"),
    bad(D, "exa\xc2\x85mple.com", "control character U+0085"),
    bad(D, "ex\u200dample.com", "cannot be converted to punycode"),  // ZERO WIDTH JOINER
    bad(D, std::string(10240, 'a'), "input is 10240 bytes long (at most 1024)"),
    bad(D, std::string(5000, 'a') + ".com", "bytes long"),

    // ---- ip: accepted (parse, i.e. syntax + reserved ranges)
    ok(I, "203.0.113.10", "203.0.113.10"),
    ok(I, "198.51.100.255", "198.51.100.255"),
    ok(I, "1.0.0.0", "1.0.0.0"),
    ok(I, "1.2.3.4", "1.2.3.4"),
    ok(I, "126.255.255.255", "126.255.255.255"),
    ok(I, "128.0.0.0", "128.0.0.0"),
    ok(I, "169.253.255.255", "169.253.255.255"),
    ok(I, "169.255.0.0", "169.255.0.0"),
    ok(I, "223.255.255.255", "223.255.255.255"),
    ok(I, "10.0.0.1", "10.0.0.1"),
    ok(I, "192.168.0.1", "192.168.0.1"),
    // ---- ip: reserved ranges
    bad(I, "0.0.0.0", "ip: 0.0.0.0 is in 0.0.0.0/8"),
    bad(I, "0.255.255.255", "0.255.255.255 is in 0.0.0.0/8"),
    bad(I, "127.0.0.1", "ip: 127.0.0.1 is in 127.0.0.0/8 (loopback)"),
    bad(I, "127.255.255.255", "127.0.0.0/8 (loopback)"),
    bad(I, "169.254.0.1", "169.254.0.0/16 (link-local)"),
    bad(I, "224.0.0.1", "224.0.0.0/4 (multicast)"),
    bad(I, "239.255.255.255", "224.0.0.0/4 (multicast)"),
    bad(I, "240.0.0.1", "240.0.0.0/4 (reserved)"),
    bad(I, "255.255.255.254", "240.0.0.0/4"),
    bad(I, "255.255.255.255", "limited broadcast"),
    // ---- ip: syntax only (reserved addresses pass parse_syntax)
    ok(S, "0.255.255.255", "0.255.255.255"),
    ok(S, "127.0.0.1", "127.0.0.1"),
    ok(S, "255.255.255.255", "255.255.255.255"),
    ok(S, "0.0.0.0", "0.0.0.0"),
    // ---- ip: rejected syntax (parse and parse_syntax alike)
    bad(I, "", "ip: empty"),
    bad(I, "010.1.1.1", "part 1 has a leading zero"),
    bad(I, "1.2.3.04", "part 4 has a leading zero"),
    bad(I, "1.2.3", "only 3 of 4 numbers"),
    bad(I, "1.2.3.4.5", "after the fourth number"),
    bad(I, "0x7f.0.0.1", "'0x7f.0.0.1' is not an IPv4 address (unexpected 'x' after part 1"),
    bad(I, "1.2.3.4 x", "after the fourth number"),
    bad(I, " 1.2.3.4", "part 1 is not a decimal number"),
    bad(I, "1.2.3.4.", "after the fourth number"),
    bad(I, "+1.2.3.4", "not a decimal number"),
    bad(I, "1..2.3", "part 2 is not a decimal number"),
    bad(I, "256.1.1.1", "part 1 is above 255"),
    bad(I, "1.2.3.256", "part 4 is above 255"),
    bad(I, "1.2.3.-1", "part 4 is not a decimal number"),
    bad(I, "1.2.3.1000", "more than 3 digits"),
    bad(I, "1.2.3.4\n", "'1.2.3.4\\x0a' is not an IPv4 address"),
    bad(I, "10.1", "only 2 of 4 numbers"),
    bad(I, "example.com", "not a decimal number"),
    bad(I, "1.2.3.4/24", "after the fourth number"),
    bad(I, std::string(10240, '1'), "longer than 15"),
    bad(S, "010.1.1.1", "leading zero"),
    bad(S, "1.2.3.4 ", "after the fourth number"),

    // ---- size: accepted
    {Z, "64M", std::to_string(64 * kMiB), "", 64 * kMiB},
    ok(Z, "512M", std::to_string(512 * kMiB)),
    ok(Z, "512MiB", std::to_string(512 * kMiB)),
    ok(Z, "512mib", std::to_string(512 * kMiB)),
    ok(Z, "1G", std::to_string(kGiB)),
    ok(Z, "1GiB", std::to_string(kGiB)),
    ok(Z, "1g", std::to_string(kGiB)),
    ok(Z, "1GIB", std::to_string(kGiB)),
    ok(Z, "1536M", std::to_string(1536 * kMiB)),
    ok(Z, "100K", std::to_string(100 * 1024)),
    ok(Z, "2T", std::to_string(2 * kTiB)),
    ok(Z, "1073741824", std::to_string(kGiB)),
    ok(Z, "16777215T", std::to_string(16777215 * kTiB)),
    ok(Z, "18446744073709551615", "18446744073709551615"),
    // ---- size: rejected
    {Z, "63M", std::nullopt, "size: 63 MiB is below the minimum of 64 MiB", 64 * kMiB},
    {Z, "67108863", std::nullopt, "size: 67108863 B is below the minimum of 64 MiB", 64 * kMiB},
    bad(Z, "", "size: empty"),
    bad(Z, "0", "is zero"),
    bad(Z, "0M", "is zero"),
    bad(Z, "-1", "does not start with a digit"),
    bad(Z, "+1G", "does not start with a digit"),
    bad(Z, "1.5G", "has decimals"),
    bad(Z, "1 G", "has a space"),
    bad(Z, " 1G", "does not start with a digit"),
    bad(Z, "1G ", "has a space"),
    bad(Z, "1X", "unknown unit 'X'"),
    bad(Z, "1PB", "unknown unit 'PB'"),
    bad(Z, "1B", "unknown unit 'B'"),
    bad(Z, "1GG", "unknown unit"),
    bad(Z, "G", "does not start with a digit"),
    bad(Z, "0100M", "leading zero"),
    bad(Z, "99999999999999T", "too large"),
    bad(Z, "16777216T", "too large"),
    bad(Z, "18446744073709551616", "too large"),
    bad(Z, "1G\n", "unknown unit 'G\\x0a'"),
    // One quote_input for every field (issue 13): printable UTF-8 as typed, not as \xNN bytes,
    // C1 controls escaped, long input cut after 64 characters.
    bad(Z, "1Gö", "unknown unit 'Gö'"),
    bad(Z, "1G\xc2\x9b", "unknown unit 'G\\xc2\\x9b'"),
    bad(I, "1.2.3.4" + std::string(60, '0'), "'1.2.3.4" + std::string(57, '0') + "...' is not an IPv4"),
};

class InputTable : public ::testing::TestWithParam<Row> {};

// GCC 12's std::expected has no transform(): map by hand.
template <class T, class F>
Result<std::string> canonical(const Result<T>& r, F to_string) {
    if (!r) return std::unexpected(r.error());
    return to_string(*r);
}

Result<std::string> run(const Row& row) {
    switch (row.kind) {
        case Kind::Domain:
            return canonical(Domain::parse(row.input), [](const Domain& d) { return d.str(); });
        case Kind::Ip:
            return canonical(Ipv4::parse(row.input), [](Ipv4 ip) { return ip.str(); });
        case Kind::IpSyntax:
            return canonical(Ipv4::parse_syntax(row.input), [](Ipv4 ip) { return ip.str(); });
        case Kind::Size: {
            auto size = ByteSize::parse(row.input);
            if (size && row.min_bytes) size = size->at_least(row.min_bytes);
            return canonical(size, [](ByteSize b) { return std::to_string(b.bytes()); });
        }
    }
    return fail("unreachable");
}

TEST_P(InputTable, AcceptsOrRejects) {
    const Row& row = GetParam();
    Result<std::string> got = run(row);
    if (row.want) {
        ASSERT_TRUE(got.has_value()) << "rejected: " << got.error().message;
        EXPECT_EQ(*got, *row.want);
        // The canonical form is a fixed point: parsing it again gives it back.
        if (row.kind != Kind::Size) {
            Row again = row;
            again.input = *got;
            Result<std::string> reparsed = run(again);
            ASSERT_TRUE(reparsed.has_value()) << "canonical form rejected: " << reparsed.error().message;
            EXPECT_EQ(*reparsed, *got);
        }
    } else {
        ASSERT_FALSE(got.has_value()) << "accepted as \"" << *got << "\"";
        EXPECT_EQ(got.error().kind, ErrorKind::BadInput);
        EXPECT_NE(got.error().message.find(row.error_has), std::string::npos)
            << "message: " << got.error().message;
        // Messages name their field first and never carry raw control characters.
        const char* field = row.kind == Kind::Domain ? "domain: "
                            : row.kind == Kind::Size ? "size: "
                                                     : "ip: ";
        EXPECT_EQ(got.error().message.rfind(field, 0), 0u) << got.error().message;
        for (unsigned char c : got.error().message) EXPECT_GE(c, 0x20) << got.error().message;
        EXPECT_LT(got.error().message.size(), 400u) << got.error().message;
    }
}

INSTANTIATE_TEST_SUITE_P(DomainIpSize, InputTable, ::testing::ValuesIn(kRows));

}  // namespace
}  // namespace jailctl
