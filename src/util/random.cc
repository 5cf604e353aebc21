#include "util/random.h"

#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

namespace jailctl {
namespace {

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

}  // namespace

void random_bytes(std::span<uint8_t> out) {
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

}  // namespace jailctl
