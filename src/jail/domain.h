// Domain: a validated, canonical (lowercase ASCII / punycode) DNS name for a hosted site.
#pragma once

#include <compare>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace jailctl {

class Domain {
public:
    // Inputs longer than this are refused before they reach libidn2.
    static constexpr size_t kMaxInputBytes = 1024;
    // A DNS name has at most 253 characters, but a jail's domain also names its LXC container,
    // whose cgroups are "lxc.payload.<domain>" and "lxc.monitor.<domain>": a cgroup directory
    // name has at most 255 bytes, so 255 - 12 = 243 (and "www." + domain fits in 253).
    static constexpr size_t kMaxLength = 243;
    static constexpr size_t kMaxLabelLength = 63;

    // Lowercases, removes ONE trailing dot, converts an internationalised name to punycode
    // (libidn2, UTS#46 non-transitional: "faß.de" -> "xn--fa-hia.de"), then validates the ASCII
    // result with our own rules: labels of 1-63 chars from a-z 0-9 '-', not starting or ending
    // with '-', no "--" in positions 3-4 except a valid "xn--" A-label; at least two labels;
    // total length <= 243 (kMaxLength); last label not all digits (so no IPv4 written as a name).
    // Errors: fail_input("domain", ...) naming the offending label or character.
    static Result<Domain> parse(std::string_view input);

    // Canonical ASCII form, e.g. "xn--bcher-kva.example".
    const std::string& str() const { return name_; }

    friend bool operator==(const Domain&, const Domain&) = default;
    friend std::strong_ordering operator<=>(const Domain& a, const Domain& b) { return a.name_ <=> b.name_; }

    // host_names() of this domain.
    std::vector<std::string> host_names() const;

private:
    explicit Domain(std::string name) : name_(std::move(name)) {}
    std::string name_;
};

// The host names a jail serves, its canonical domain first: the domain and its "www." form
// ("example.com" -> example.com, www.example.com); a domain that already starts with "www."
// and has at least two more labels serves itself and the bare name ("www.example.com" ->
// www.example.com, example.com), never "www.www.". No two jails may share a host name
// (the registry refuses it), and nginx's server_name and the certificate's SAN list them.
std::vector<std::string> host_names(std::string_view canonical_domain);

// An alias of a jail (`alias add DOMAIN NAME`): every rule of Domain::parse, its canonical
// form; errors name the field "alias".
Result<std::string> parse_alias(std::string_view input);

// The domains whose jails serve `name` as one of their own names (host_names): `name` itself,
// and its www. or bare form when that domain's host_names hold `name`.
std::vector<std::string> domains_serving(std::string_view name);

}  // namespace jailctl
