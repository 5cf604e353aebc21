#include "util/password.h"

#include <string.h>

#include <vector>

#include "util/random.h"

namespace jailctl {
namespace {

// Bytes at or above this are discarded: 224 = 4 * 56, so the 224 accepted values map onto the
// 56 symbols exactly 4 times each. Modulo alone would favour the first 32 symbols (5 vs 4).
constexpr unsigned kAcceptBelow = 256 / kPasswordAlphabet.size() * kPasswordAlphabet.size();
static_assert(kAcceptBelow == 224);

}  // namespace

std::string generate_password_from(size_t length,
                                   const std::function<void(std::span<uint8_t>)>& random_bytes) {
    std::string password;
    password.reserve(length);
    // 224/256 of the bytes are accepted: ask for a little more than needed, refill as required.
    std::vector<uint8_t> buffer(length + length / 4 + 8);
    while (password.size() < length) {
        random_bytes(buffer);
        for (uint8_t b : buffer) {
            if (b >= kAcceptBelow) continue;
            password += kPasswordAlphabet[b % kPasswordAlphabet.size()];
            if (password.size() == length) break;
        }
    }
    explicit_bzero(buffer.data(), buffer.size());  // the bytes determine the password
    return password;
}

std::string generate_password(size_t length) { return generate_password_from(length, random_bytes); }

}  // namespace jailctl
