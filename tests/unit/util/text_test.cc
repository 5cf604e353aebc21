#include "util/text.h"

#include <gtest/gtest.h>

#include <string>

namespace jailctl {
namespace {

TEST(Quoted, PrintableAsciiAsItIs) { EXPECT_EQ(quote_input("example.com"), "'example.com'"); }

TEST(Quoted, EmptyInput) { EXPECT_EQ(quote_input(""), "''"); }

TEST(Quoted, ControlCharactersEscaped) {
    EXPECT_EQ(quote_input(std::string("a\0b", 3)), "'a\\x00b'");
    EXPECT_EQ(quote_input("1G\n"), "'1G\\x0a'");
    EXPECT_EQ(quote_input("x\x1b[2Jy"), "'x\\x1b[2Jy'");
    EXPECT_EQ(quote_input("del\x7f"), "'del\\x7f'");
}

// The drift between the three former copies: byte_size and ipv4 escaped every byte >= 0x7f
// ('b\xc3\xbccher'), domain passed every byte >= 0x80 through raw, invalid UTF-8 and the C1
// control characters included. The rule now: valid printable UTF-8 as it is, the rest escaped.
TEST(Quoted, PrintableUtf8AsItIs) { EXPECT_EQ(quote_input("bücher.example"), "'bücher.example'"); }

TEST(Quoted, C1ControlEscaped) {
    EXPECT_EQ(quote_input("a\xc2\x85z"), "'a\\xc2\\x85z'");  // U+0085 NEL
    EXPECT_EQ(quote_input("a\xc2\x9bz"), "'a\\xc2\\x9bz'");  // U+009B CSI: a terminal escape
    EXPECT_EQ(quote_input("a\xc2\xa0z"), "'a\xc2\xa0z'");    // U+00A0 is printable
}

TEST(Quoted, InvalidUtf8EscapedByteByByte) {
    EXPECT_EQ(quote_input("exa\xffmple"), "'exa\\xffmple'");
    EXPECT_EQ(quote_input("\xc3\x28"), "'\\xc3('");        // a lead byte without its continuation
    EXPECT_EQ(quote_input("\xc0\xae"), "'\\xc0\\xae'");     // overlong '.'
    EXPECT_EQ(quote_input("\xed\xa0\x80"), "'\\xed\\xa0\\x80'");  // surrogate
    EXPECT_EQ(quote_input("b\xc3"), "'b\\xc3'");            // truncated at the end
}

TEST(Quoted, ShortenedAfterKQuotedCharacters) {
    std::string label(kQuotedChars, 'a');
    EXPECT_EQ(quote_input(label), "'" + label + "'");  // a whole DNS label of 63 (and 64) fits
    EXPECT_EQ(quote_input(label + "b"), "'" + label + "...'");
    EXPECT_EQ(quote_input(std::string(100000, 'x')).size(), kQuotedChars + 5);
}

TEST(Quoted, ShortenedByCharactersNeverCuttingOne) {
    std::string umlauts;
    for (size_t i = 0; i < kQuotedChars + 1; ++i) umlauts += "ü";
    std::string shown;
    for (size_t i = 0; i < kQuotedChars; ++i) shown += "ü";
    EXPECT_EQ(quote_input(umlauts), "'" + shown + "...'");
}

TEST(LastLine, LastNonBlankLine) {
    EXPECT_EQ(last_line("first\nsecond\n"), "second");
    EXPECT_EQ(last_line("first\nsecond  \n\n \n"), "second");
    EXPECT_EQ(last_line("only"), "only");
    EXPECT_EQ(last_line("mkfs: bad size\r\n"), "mkfs: bad size");
    EXPECT_EQ(last_line("  indented last\n"), "  indented last");
}

TEST(LastLine, NothingPrinted) {
    EXPECT_EQ(last_line(""), "");
    EXPECT_EQ(last_line("\n \n\t\n"), "");
}

TEST(Hex, LowercaseContiguous) {
    const unsigned char bytes[] = {0x00, 0x0a, 0xff, 0x10};
    EXPECT_EQ(hex(bytes), "000aff10");
    EXPECT_EQ(hex(std::string_view("\x01\xab", 2)), "01ab");
    EXPECT_EQ(hex(std::string_view()), "");
}

TEST(Hex, FingerprintStyle) {
    const unsigned char bytes[] = {0xde, 0xad, 0x01};
    EXPECT_EQ(hex(bytes, {.upper = true, .separator = ':'}), "DE:AD:01");
    EXPECT_EQ(hex(std::span<const unsigned char>(bytes, 1), {.upper = true, .separator = ':'}), "DE");
}

TEST(Utf8Sequence, LengthAndCodePoint) {
    uint32_t cp = 0;
    EXPECT_EQ(utf8_sequence("a", 0, &cp), 1u);
    EXPECT_EQ(cp, 'a');
    EXPECT_EQ(utf8_sequence("ü", 0, &cp), 2u);
    EXPECT_EQ(cp, 0xfcu);
    EXPECT_EQ(utf8_sequence("\xf0\x9f\x98\x80", 0, &cp), 4u);
    EXPECT_EQ(cp, 0x1f600u);
    EXPECT_EQ(utf8_sequence("\xf4\x90\x80\x80", 0, &cp), 0u);  // above U+10FFFF
    EXPECT_EQ(utf8_sequence("\x80", 0, &cp), 0u);
}

}  // namespace
}  // namespace jailctl
