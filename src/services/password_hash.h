// FTP password hashes for the jail's /etc/shadow: yescrypt ("$y$") from libcrypt,
// salted from getrandom(2). The plain password is never stored or logged.
#pragma once

#include <string>
#include <string_view>

#include "util/result.h"

namespace jailctl {

// A fresh yescrypt hash of `password` with a random salt at the lowest cost, e.g. "$y$j75$<salt>$<hash>":
// for generated passwords only (their entropy, not the hash's cost, defeats guessing).
// Fails on an empty password or one containing a NUL byte.
Result<std::string> hash_password(std::string_view password);

// True when `password` matches `hash` (compared in constant time); false on any error.
bool verify_password(std::string_view password, const std::string& hash);

}  // namespace jailctl
