// Random bytes from the kernel's CSPRNG: salts, passwords, probe names.
#pragma once

#include <cstdint>
#include <span>

namespace jailctl {

// Fills all of `out` from getrandom(2) (retrying on EINTR, looping on short reads), or from
// /dev/urandom where a kernel or seccomp filter lacks getrandom. Aborts if the kernel gives no
// randomness at all: there is no safe way to go on with predictable bytes.
void random_bytes(std::span<uint8_t> out);

}  // namespace jailctl
