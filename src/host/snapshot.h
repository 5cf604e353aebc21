// Point-in-time copies of a jail's disk image, taken while the jail keeps running.
//
// The jail's ext4 is frozen (FIFREEZE: the kernel flushes it and blocks every writer) only for
// the copy of the image file itself, never for the archive write that follows:
//   1. FICLONE (reflink): the copy shares the extents; instant on XFS/btrfs hosts.
//   2. otherwise the allocated extents only (SEEK_DATA/SEEK_HOLE + copy_file_range), the copy
//      stays sparse. Its freeze time grows with the data the jail holds (ext4 hosts).
// The filesystem is thawed on every path (a guard; SIGINT/SIGTERM/SIGHUP are held back while
// it is frozen, since a jail left frozen is an outage). A stopped jail is copied without freeze.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "util/result.h"

namespace jailctl {

enum class SnapshotMethod { Reflink, ExtentCopy };
const char* to_string(SnapshotMethod method);  // "reflink" | "extent-copy"

struct SnapshotInfo {
    SnapshotMethod method = SnapshotMethod::ExtentCopy;
    bool frozen = false;       // the filesystem was frozen for the copy
    double freeze_ms = 0;      // writers blocked: FIFREEZE -> FITHAW (0 when not frozen)
    double copy_ms = 0;        // the copy alone
    uint64_t bytes_copied = 0; // data bytes copied (0 for a reflink)
};

// Copies `image` to `dest` (created, must not exist, mode 0600). When `mounted_rootfs` is not
// empty it is the directory where the image's filesystem is mounted: it is frozen for the copy.
// On failure `dest` is removed and the filesystem is thawed.
// `while_frozen`, when set, runs right after FIFREEZE and before the copy (the frozen window):
// fault-injection tests use it to fail or kill the process there; its error fails the snapshot.
using FrozenHook = std::function<Result<void>()>;
Result<SnapshotInfo> snapshot_image(const std::string& mounted_rootfs, const std::string& image,
                                    const std::string& dest, const FrozenHook& while_frozen = {});

// What a snapshot of an image kept under `dir` will be: Reflink when that filesystem clones
// files (FICLONE between two scratch files there works), else ExtentCopy; `filesystem` names it
// ("xfs", "ext4", "btrfs", "tmpfs", or the statfs magic in hex) for host check's message.
struct SnapshotSupport {
    SnapshotMethod method = SnapshotMethod::ExtentCopy;
    std::string filesystem;
};
Result<SnapshotSupport> snapshot_support(const std::string& dir);

}  // namespace jailctl
