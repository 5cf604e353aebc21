// The jail's disk: one image file per jail, whose size is the jail's hard quota.
// Files only; the loop device, filesystem and mount live in loop.h, ext4.h, mount.h.
#pragma once

#include <cstdint>
#include <string>

#include "util/result.h"

namespace jailctl {

// Filesystem block size of every image: sizes must be multiples of it.
inline constexpr uint64_t kImageBlockSize = 4096;

// Creates `path` (O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600) exactly `bytes` long: fallocate(2), a real
// reservation, unless `sparse` (ftruncate, thin provisioning). fsyncs the file and its directory.
// On any failure the partial file is removed; ENOSPC names the size asked for and the space free.
Result<void> create_image(const std::string& path, uint64_t bytes, bool sparse);

// Bytes an unprivileged writer may still use on the filesystem holding `dir` (f_bavail * f_frsize).
Result<uint64_t> free_bytes(const std::string& dir);

// A mounted filesystem's use as df shows it: used = blocks in use, free = what a writer may
// still use; used_percent = used / (used + free), rounded up like df (a jail's ext4 has no root
// reserve, so used + free is the whole filesystem after its own overhead).
struct DiskUse {
    uint64_t used_bytes = 0, free_bytes = 0;
    int used_percent() const;
};
Result<DiskUse> disk_use(const std::string& dir);
// A disk this full is worth a warning: status marks it, test warns.
inline constexpr int kDiskFullPercent = 90;

// Grows the image to `new_bytes` (fallocate for the new part unless `sparse`). Same size: no-op.
// Refuses to shrink (BadInput "size: ..."). On failure the file keeps its old size.
Result<void> grow_image(const std::string& path, uint64_t new_bytes, bool sparse);

}  // namespace jailctl
