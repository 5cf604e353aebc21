// Domain: a validated, canonical (lowercase ASCII / punycode) DNS name for a hosted site.
#pragma once

#include <compare>
#include <cstddef>
#include <string>
#include <string_view>

#include "util/result.h"

namespace jailctl {

class Domain {
public:
    // Inputs longer than this are refused before they reach libidn2.
    static constexpr size_t kMaxInputBytes = 1024;
    // 249 so that "www." + domain still fits the 253 characters of a DNS name.
    static constexpr size_t kMaxLength = 249;
    static constexpr size_t kMaxLabelLength = 63;

    // Lowercases, removes ONE trailing dot, converts an internationalised name to punycode
    // (libidn2, UTS#46 non-transitional: "faß.de" -> "xn--fa-hia.de"), then validates the ASCII
    // result with our own rules: labels of 1-63 chars from a-z 0-9 '-', not starting or ending
    // with '-', no "--" in positions 3-4 except a valid "xn--" A-label; at least two labels;
    // total length <= 249; last label not all digits (so no IPv4 written as a name).
    // Errors: fail_input("domain", ...) naming the offending label or character.
    static Result<Domain> parse(std::string_view input);

    // Canonical ASCII form, e.g. "xn--bcher-kva.example".
    const std::string& str() const { return name_; }

    friend bool operator==(const Domain&, const Domain&) = default;
    friend std::strong_ordering operator<=>(const Domain& a, const Domain& b) { return a.name_ <=> b.name_; }

private:
    explicit Domain(std::string name) : name_(std::move(name)) {}
    std::string name_;
};

}  // namespace jailctl
