// Text for messages: user input quoted safely, a tool's last output line, bytes as hex.
// One copy of each, so that every error message escapes and shortens input the same way.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace jailctl {

// Length in bytes of the UTF-8 sequence at s[i] if it is well formed (shortest form, no
// surrogates, <= U+10FFFF), 0 otherwise. Sets *cp to the code point.
size_t utf8_sequence(std::string_view s, size_t i, uint32_t* cp);

// True for the control characters C0 (U+0000-U+001F), DEL (U+007F) and C1 (U+0080-U+009F):
// a terminal acts on them (C1 0x9B is CSI), so no message prints them raw.
constexpr bool is_control(uint32_t cp) { return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f); }

// How many characters of input quote_input() shows before "...": a whole DNS label (63) fits.
inline constexpr size_t kQuotedChars = 64;

// User input in single quotes for an error message: printable UTF-8 as it is (an operator
// recognises 'bücher'), control characters and bytes that are not valid UTF-8 as \xNN,
// and at most kQuotedChars characters followed by "..." (never a cut multi-byte character).
// So a message, and its --json twin, never carries raw control bytes, invalid UTF-8 or
// kilobytes of input. (Not named `quoted`: for a std::string argument, argument-dependent
// lookup would silently pick std::quoted instead.)
std::string quote_input(std::string_view input);

// A TERM value safe to pass into a jail: 1 to 64 of a-z 0-9 - + . (xterm-256color, vt100).
bool is_terminal_type(std::string_view term);

// The last non-blank line of a program's output, without trailing blanks ("" when there
// is none): what an error message quotes of a failed tool.
std::string last_line(std::string_view output);

// Bytes as hex: lowercase and contiguous by default ("0a1b"), or e.g. uppercase pairs joined
// by ':' for a certificate fingerprint ("0A:1B").
struct HexStyle {
    bool upper = false;
    char separator = '\0';  // '\0': none
};
std::string hex(std::span<const unsigned char> bytes, HexStyle style = {});
inline std::string hex(std::string_view bytes, HexStyle style = {}) {
    return hex({reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size()}, style);
}

}  // namespace jailctl
