#include "services/password_hash.h"

#include <crypt.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <memory>
#include <span>

#include "util/random.h"

namespace jailctl {
namespace {

constexpr std::size_t kSaltBytes = 16;  // libxcrypt's recommendation for yescrypt
constexpr unsigned long kYescryptCost = 1;  // "$y$j75$": see hash_password

bool has_nul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

bool equal_constant_time(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    unsigned char diff = 0;
    for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
    return diff == 0;
}

// crypt_data is ~32 KiB: on the heap, and wiped afterwards (it held the password).
struct CryptData {
    std::unique_ptr<crypt_data> data = std::make_unique<crypt_data>();
    ~CryptData() { explicit_bzero(data.get(), sizeof(crypt_data)); }
};

}  // namespace

Result<std::string> hash_password(std::string_view password) {
    if (password.empty()) return fail_input("password", "is empty");
    if (has_nul(password)) return fail_input("password", "contains a NUL byte");
    std::array<uint8_t, kSaltBytes> random{};
    random_bytes(random);
    std::array<char, CRYPT_GENSALT_OUTPUT_SIZE> setting{};
    // Cost 1 (1 MiB, ~1.3 ms), not libxcrypt's default 5 (16 MiB, ~58 ms): a work factor slows the
    // guessing of a human's password; ours are 139 random bits, which no guessing reaches at any
    // cost. The default made the hash and vsftpd's check of it most of a create's CPU (two 58 ms
    // evaluations): 20 creates at once on two cores waited for each other's hashing.
    if (!crypt_gensalt_rn("$y$", kYescryptCost, reinterpret_cast<const char*>(random.data()), static_cast<int>(random.size()), setting.data(),
                          static_cast<int>(setting.size())))
        return fail_errno("hash password: crypt_gensalt_rn($y$)", errno);
    explicit_bzero(random.data(), random.size());

    CryptData cd;
    std::string phrase(password);
    const char* out = crypt_rn(phrase.c_str(), setting.data(), cd.data.get(), sizeof(crypt_data));
    const int err = errno;
    explicit_bzero(phrase.data(), phrase.size());
    if (!out || out[0] == '*') return fail_errno("hash password: crypt_rn(yescrypt)", err ? err : EINVAL);
    return std::string(out);
}

bool verify_password(std::string_view password, const std::string& hash) {
    if (password.empty() || has_nul(password) || hash.empty() || hash[0] == '*' || hash[0] == '!') return false;
    CryptData cd;
    std::string phrase(password);
    const char* out = crypt_rn(phrase.c_str(), hash.c_str(), cd.data.get(), sizeof(crypt_data));
    explicit_bzero(phrase.data(), phrase.size());
    if (!out || out[0] == '*') return false;
    return equal_constant_time(out, hash);
}

}  // namespace jailctl
