#include "util/text.h"

namespace jailctl {

size_t utf8_sequence(std::string_view s, size_t i, uint32_t* cp) {
    auto b0 = static_cast<unsigned char>(s[i]);
    size_t len;
    uint32_t min;
    if (b0 < 0x80) {
        *cp = b0;
        return 1;
    } else if ((b0 & 0xe0) == 0xc0) {
        len = 2, min = 0x80, *cp = b0 & 0x1f;
    } else if ((b0 & 0xf0) == 0xe0) {
        len = 3, min = 0x800, *cp = b0 & 0x0f;
    } else if ((b0 & 0xf8) == 0xf0) {
        len = 4, min = 0x10000, *cp = b0 & 0x07;
    } else {
        return 0;
    }
    if (i + len > s.size()) return 0;
    for (size_t k = 1; k < len; ++k) {
        auto b = static_cast<unsigned char>(s[i + k]);
        if ((b & 0xc0) != 0x80) return 0;
        *cp = (*cp << 6) | (b & 0x3f);
    }
    if (*cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff)) return 0;
    return len;
}

bool is_terminal_type(std::string_view term) {
    return !term.empty() && term.size() <= 64 &&
           term.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-+.") == std::string_view::npos;
}

std::string quote_input(std::string_view input) {
    std::string out = "'";
    size_t i = 0;
    for (size_t shown = 0; i < input.size() && shown < kQuotedChars; ++shown) {
        uint32_t cp = 0;
        size_t len = utf8_sequence(input, i, &cp);
        if (len != 0 && !is_control(cp)) {
            out.append(input.substr(i, len));
            i += len;
            continue;
        }
        // A control character is escaped byte by byte (C1 U+0085 is "\xc2\x85"); a byte that
        // starts no valid sequence is escaped alone and the next byte is looked at afresh.
        for (size_t end = i + (len ? len : 1); i < end; ++i) out += "\\x" + hex(input.substr(i, 1));
    }
    if (i < input.size()) out += "...";
    return out + "'";
}

std::string last_line(std::string_view output) {
    constexpr std::string_view kBlank = " \t\r\n";
    auto end = output.find_last_not_of(kBlank);
    if (end == std::string_view::npos) return {};
    auto start = output.rfind('\n', end);
    start = start == std::string_view::npos ? 0 : start + 1;
    return std::string(output.substr(start, end - start + 1));
}

std::string hex(std::span<const unsigned char> bytes, HexStyle style) {
    const char* digits = style.upper ? "0123456789ABCDEF" : "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * (style.separator ? 3 : 2));
    for (size_t i = 0; i < bytes.size(); ++i) {
        if (i && style.separator) out += style.separator;
        out += digits[bytes[i] >> 4];
        out += digits[bytes[i] & 0xf];
    }
    return out;
}

}  // namespace jailctl
