// The name of a jail's FTP account, derived from its domain.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "jail/domain.h"

namespace jailctl {

inline constexpr size_t kMaxFtpUserLength = 32;

// Derives the FTP account name from the domain. Rule, applied to Domain::str() (a-z 0-9 - .):
//   1. every label starting with "xn--" loses the two hyphens after "xn" ("xn--bcher-kva" -> "xnbcher-kva");
//   2. labels are concatenated without dots ("shop.example.com" -> "shopexamplecom");
//   3. if the result starts with a digit, it gets the prefix "u" ("1und1.de" -> "u1und1de");
//   4. it is cut to 32 characters and trailing '-' are removed;
//   5. if it equals a user or group name of the jail's system (root, bin, www-data, ftp, ...),
//      "-ftp" is appended ("b.in" -> "bin-ftp").
// The result always matches Debian's NAME_REGEX ^[a-z][-a-z0-9_]*$ and has at most 32 characters.
// Different domains may map to the same name ("example.com", "examplec.om"): the registry keeps
// names unique on the host with ftp_user_variant(), so support staff find the jail from a user.
std::string derive_ftp_user(const Domain& domain);

// The n-th candidate for an FTP user (n >= 1): `base` itself for 1, else base + "-<n>", the
// base cut so that the result keeps at most 32 characters ("examplecom-2").
std::string ftp_user_variant(const std::string& base, int n);

// True if `name` is a user or group that the jail's base system or its services own.
bool is_reserved_system_name(std::string_view name);

}  // namespace jailctl
