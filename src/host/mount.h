// Mounting jail filesystems: mount(2)/umount2(2) only, and /proc/self/mountinfo to look.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "util/result.h"

namespace jailctl {

// Mounts the ext4 filesystem on `device` at `target` with MS_NOSUID|MS_NODEV|MS_NOATIME and
// "errors=remount-ro". `target` must be a real directory: it is opened with
// O_PATH|O_NOFOLLOW|O_DIRECTORY and the mount goes onto that open directory through
// /proc/self/fd/N, so a symlink swapped in after the check cannot redirect the mount
// (an lstat-then-mount check would leave that window open).
Result<void> mount_ext4(const std::string& device, const std::string& target);

// Unmounts `target` (never following a symlink). EBUSY is retried (10 x 50 ms); after that the
// error lists the processes whose fds, cwd or root are under `target` (best effort).
// Not mounted or not existing: OK (idempotent).
Result<void> unmount(const std::string& target);

struct MountInfo {
    std::string mount_point;    // unescaped (\040 -> ' ')
    std::string source;         // "/dev/loop7"
    std::string fs_type;        // "ext4"
    std::string options;        // per-mount options: "rw,nosuid,nodev,noatime"
    std::string super_options;  // filesystem options: "rw,errors=remount-ro"
};

// The topmost mount whose mount point is `mount_point` (an absolute path, compared after lexical
// normalisation, symlinks not resolved), or nullopt when it is not a mount point.
Result<std::optional<MountInfo>> find_mount(const std::string& mount_point);
// Every mount of this mount namespace, in /proc/self/mountinfo order (one read: `status` of a
// thousand jails asks once, not once per jail).
Result<std::vector<MountInfo>> list_mounts();

// Owner of a mount for the create task's undo: unmounts on destruction unless release()d.
class MountGuard {
public:
    MountGuard() = default;
    explicit MountGuard(std::string target) : target_(std::move(target)) {}
    MountGuard(MountGuard&& other) noexcept : target_(std::exchange(other.target_, {})) {}
    MountGuard& operator=(MountGuard&& other) noexcept;
    MountGuard(const MountGuard&) = delete;
    MountGuard& operator=(const MountGuard&) = delete;
    ~MountGuard();

    // mount_ext4, and a guard that owns the result.
    static Result<MountGuard> mount(const std::string& device, const std::string& target);

    const std::string& target() const { return target_; }
    bool owns() const { return !target_.empty(); }
    // Keep the mount: the guard forgets it.
    std::string release() { return std::exchange(target_, {}); }
    // Unmount now and report the outcome (the destructor cannot).
    Result<void> unmount();

private:
    std::string target_;
};

}  // namespace jailctl
