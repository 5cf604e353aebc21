// Random passwords for the jails' FTP accounts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

namespace jailctl {

// Letters and digits without the look-alikes 0 O o 1 l I: 24 + 24 + 8 = 56 symbols,
// about 5.8 bits each; 24 symbols give about 139 bits.
inline constexpr std::string_view kPasswordAlphabet =
    "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789";
static_assert(kPasswordAlphabet.size() == 56);
inline constexpr size_t kDefaultPasswordLength = 24;  // requirement: >= 20

// A password of `length` symbols of kPasswordAlphabet from getrandom(2). No composition rules
// (NIST SP 800-63B): length does the work. Aborts if the kernel gives no randomness at all,
// rather than ever falling back to a predictable source.
std::string generate_password(size_t length = kDefaultPasswordLength);

// The algorithm of generate_password with an injected byte source (tests): bytes are mapped
// to symbols by rejection sampling — a byte >= 224 (the largest multiple of 56 <= 256) is
// discarded, the others are taken modulo 56, so every symbol is exactly equally likely.
// random_bytes must fill the whole span it is given.
std::string generate_password_from(size_t length,
                                   const std::function<void(std::span<uint8_t>)>& random_bytes);

}  // namespace jailctl
