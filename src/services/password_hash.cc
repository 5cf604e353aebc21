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
    // count 0: libxcrypt's default cost for yescrypt.
    if (!crypt_gensalt_rn("$y$", 0, reinterpret_cast<const char*>(random.data()), static_cast<int>(random.size()), setting.data(),
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
