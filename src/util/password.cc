#include "util/password.h"

#include <fcntl.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <vector>

namespace jailctl {
namespace {

// Bytes at or above this are discarded: 224 = 4 * 56, so the 224 accepted values map onto the
// 56 symbols exactly 4 times each. Modulo alone would favour the first 32 symbols (5 vs 4).
constexpr unsigned kAcceptBelow = 256 / kPasswordAlphabet.size() * kPasswordAlphabet.size();
static_assert(kAcceptBelow == 224);

// Fallback for kernels or seccomp filters without getrandom(2); still the kernel's CSPRNG.
bool read_urandom(std::span<uint8_t> out) {
    int fd = ::open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    size_t done = 0;
    while (done < out.size()) {
        ssize_t n = ::read(fd, out.data() + done, out.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        done += static_cast<size_t>(n);
    }
    ::close(fd);
    return done == out.size();
}

// Fills `out` from getrandom(2): retries on EINTR, loops on short reads. There is no safe
// way to continue without randomness, so this aborts instead of returning weak bytes.
void kernel_random_bytes(std::span<uint8_t> out) {
    size_t done = 0;
    while (done < out.size()) {
        ssize_t n = ::getrandom(out.data() + done, out.size() - done, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            if ((errno == ENOSYS || errno == EPERM) && read_urandom(out.subspan(done))) return;
            std::abort();
        }
        done += static_cast<size_t>(n);
    }
}

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

std::string generate_password(size_t length) { return generate_password_from(length, kernel_random_bytes); }

}  // namespace jailctl
