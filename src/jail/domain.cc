#include "jail/domain.h"

#include <idn2.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <vector>

#include "util/text.h"

namespace jailctl {
namespace {

constexpr std::string_view kField = "domain";
constexpr std::string_view kAllowed = "(allowed: a-z 0-9 -)";

bool is_ascii(std::string_view s) {
    for (unsigned char c : s)
        if (c >= 0x80) return false;
    return true;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool all_digits(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (!is_digit(c)) return false;
    return true;
}

// Rejects non-UTF-8 input and control characters (C0, DEL, C1) anywhere in it.
Result<void> check_encoding(std::string_view input) {
    for (size_t i = 0; i < input.size();) {
        uint32_t cp = 0;
        size_t len = utf8_sequence(input, i, &cp);
        if (len == 0) {
            char buf[96];
            std::snprintf(buf, sizeof buf, "not valid UTF-8 (byte 0x%02x at offset %zu)",
                          static_cast<unsigned char>(input[i]), i);
            return fail_input(std::string(kField), buf);
        }
        if (is_control(cp)) {
            char buf[96];
            std::snprintf(buf, sizeof buf, "control character U+%04X at offset %zu", cp, i);
            return fail_input(std::string(kField), buf);
        }
        i += len;
    }
    return {};
}

std::vector<std::string_view> split_labels(std::string_view name) {
    std::vector<std::string_view> labels;
    size_t start = 0;
    for (;;) {
        size_t dot = name.find('.', start);
        labels.push_back(name.substr(start, dot == std::string_view::npos ? dot : dot - start));
        if (dot == std::string_view::npos) return labels;
        start = dot + 1;
    }
}

// Names an ASCII character that may not appear in a label, or nullopt if it may.
std::optional<std::string> forbidden_char(char c) {
    if ((c >= 'a' && c <= 'z') || is_digit(c) || c == '-') return std::nullopt;
    if (c == ' ') return std::string("a space");
    return "'" + std::string(1, c) + "'";
}

// Our rules for one ASCII label (already lowercased).
Result<void> check_label(std::string_view label) {
    const std::string field(kField);
    if (label.empty()) return fail_input(field, "empty label");
    for (char c : label)
        if (auto what = forbidden_char(c))
            return fail_input(field,
                              "label " + quote_input(label) + " has " + *what + " " + std::string(kAllowed));
    if (label.size() > Domain::kMaxLabelLength)
        return fail_input(field, "label " + quote_input(label) + " is " + std::to_string(label.size()) +
                                     " characters long (at most 63)");
    if (label.front() == '-') return fail_input(field, "label " + quote_input(label) + " starts with '-'");
    if (label.back() == '-') return fail_input(field, "label " + quote_input(label) + " ends with '-'");
    // "ab--" is reserved for IDNA-style labels (RFC 5891 4.2.3.1); only "xn--" is in use.
    if (label.size() >= 4 && label.substr(2, 2) == "--" && !label.starts_with("xn"))
        return fail_input(
            field, "label " + quote_input(label) + " has '--' in positions 3-4 (reserved; only xn-- is allowed)");
    return {};
}

// libidn2 UTS#46 lookup, non-transitional, so that "ß" stays "ß" (xn--...) instead of "ss".
// Returns the ASCII name or libidn2's error code.
std::expected<std::string, int> to_ascii(std::string_view text) {
    std::string in(text);  // NUL-terminated copy; the input has no NULs (control chars are rejected)
    char* out = nullptr;
    int rc = idn2_lookup_u8(reinterpret_cast<const uint8_t*>(in.c_str()), reinterpret_cast<uint8_t**>(&out),
                            IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
    std::unique_ptr<char, decltype(&idn2_free)> owned(out, &idn2_free);
    if (rc != IDN2_OK) return std::unexpected(rc);
    return std::string(out);
}

// Converts the whole name; when that fails, converts label by label to name the culprit.
Result<std::string> convert(std::string_view name) {
    auto whole = to_ascii(name);
    if (whole) return std::move(*whole);
    for (std::string_view label : split_labels(name)) {
        if (auto one = to_ascii(label); !one)
            return fail_input(std::string(kField), "label " + quote_input(label) +
                                                       " cannot be converted to punycode (" +
                                                       idn2_strerror(one.error()) + ")");
    }
    return fail_input(std::string(kField), quote_input(name) + " cannot be converted to punycode (" +
                                               idn2_strerror(whole.error()) + ")");
}

// Our rules for the whole ASCII result.
Result<void> check_ascii_name(std::string_view name) {
    const std::string field(kField);
    std::vector<std::string_view> labels = split_labels(name);
    for (std::string_view label : labels)
        if (auto ok = check_label(label); !ok) return ok;
    if (labels.size() < 2)
        return fail_input(field, quote_input(name) + " has a single label (need at least two, e.g. example.com)");
    if (name.size() > Domain::kMaxLength)
        return fail_input(field, "name is " + std::to_string(name.size()) + " characters long (at most " +
                                     std::to_string(Domain::kMaxLength) +
                                     " for a jail: LXC names its cgroups lxc.payload.<domain>, at most 255 characters)");
    if (labels.size() == 4 && all_digits(labels[0]) && all_digits(labels[1]) && all_digits(labels[2]) &&
        all_digits(labels[3]))
        return fail_input(field, quote_input(name) + " is an IPv4 address, not a domain name");
    if (all_digits(labels.back()))
        return fail_input(field, "top-level label " + quote_input(labels.back()) + " is all digits");
    return {};
}

}  // namespace

std::vector<std::string> host_names(std::string_view domain) {
    constexpr std::string_view kWww = "www.";
    if (domain.starts_with(kWww) && domain.find('.', kWww.size()) != std::string_view::npos)
        return {std::string(domain), std::string(domain.substr(kWww.size()))};
    return {std::string(domain), std::string(kWww) + std::string(domain)};
}

Result<std::string> parse_alias(std::string_view input) {
    auto name = Domain::parse(input);
    if (!name) {
        Error e = name.error();
        if (e.message.starts_with("domain: ")) e.message = "alias: " + e.message.substr(8);
        return std::unexpected(e);
    }
    return name->str();
}

std::vector<std::string> domains_serving(std::string_view name) {
    std::vector<std::string> out;
    std::vector<std::string> candidates = {std::string(name), "www." + std::string(name)};
    if (name.starts_with("www.")) candidates.emplace_back(name.substr(4));
    for (auto& c : candidates) {
        const auto served = host_names(c);
        if (std::ranges::find(served, name) != served.end()) out.push_back(std::move(c));
    }
    return out;
}

std::vector<std::string> Domain::host_names() const { return jailctl::host_names(name_); }

Result<Domain> Domain::parse(std::string_view input) {
    const std::string field(kField);
    if (input.empty()) return fail_input(field, "empty");
    if (input.size() > kMaxInputBytes)
        return fail_input(field, "input is " + std::to_string(input.size()) + " bytes long (at most " +
                                     std::to_string(kMaxInputBytes) + ")");
    if (auto ok = check_encoding(input); !ok) return std::unexpected(ok.error());

    // Lowercase the ASCII letters; libidn2 maps the rest (UTS#46).
    std::string name(input);
    for (char& c : name)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (name.back() == '.') name.pop_back();
    if (name.empty()) return fail_input(field, "no label before the trailing dot");

    // Structure and ASCII characters first, with our messages: libidn2 happily converts
    // "a..b", "a_b" and "a b", and its own errors do not name the label.
    for (std::string_view label : split_labels(name)) {
        if (label.empty()) {
            if (name.front() == '.')
                return fail_input(field, quote_input(input) + " starts with '.' (empty label)");
            return fail_input(field, quote_input(input) + " has an empty label ('..')");
        }
        if (is_ascii(label)) {
            if (auto ok = check_label(label); !ok) return std::unexpected(ok.error());
        } else {
            for (char c : label)
                if (static_cast<unsigned char>(c) < 0x80)
                    if (auto what = forbidden_char(c))
                        return fail_input(
                            field, "label " + quote_input(label) + " has " + *what + " " + std::string(kAllowed));
        }
    }

    // Always through libidn2, also for ASCII names: it rejects invalid "xn--" A-labels.
    auto ascii = convert(name);
    if (!ascii) return std::unexpected(ascii.error());
    // libidn2 converts, it does not validate our rules (UTS#46 maps e.g. U+FF0F to '/').
    if (auto ok = check_ascii_name(*ascii); !ok) return std::unexpected(ok.error());
    return Domain(std::move(*ascii));
}

}  // namespace jailctl
