// The jail's ext4 filesystem, through e2fsprogs (the format's own authority): mkfs.ext4, e2fsck,
// resize2fs, run with argv (never a shell), "--" before every positional argument.
// Every function that works on an image FILE refuses (Conflict) while the image is attached to a
// loop device: checking or rewriting a mounted ext4 from the side corrupts it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "util/result.h"

namespace jailctl {

// Longest ext4 volume label.
inline constexpr size_t kMaxExt4Label = 16;

// The journal jailctl gives a filesystem of `fs_bytes`: mke2fs's default from 512 MiB up
// (16 MiB, 32 MiB from 1 GiB, 64 MiB from 2 GiB, 128 MiB from 16 GiB); below, 1/32 of the
// size and at least 4 MiB (mke2fs's minimum, 1024 blocks), where mke2fs would take 16 MiB of
// a 128 MiB disk (12 %) for a site that writes little metadata.
uint64_t ext4_journal_bytes(uint64_t fs_bytes);

// Formats the image file (not a loop device) with ext4 whose root directory belongs to
// root_uid:root_gid (the jail's root in its host id range). `label`: 1-16 of [A-Za-z0-9._-].
// Options and why they were chosen are in ext4.cc.
Result<void> format_ext4(const std::string& image, uint32_t root_uid, uint32_t root_gid,
                         std::string_view label);

enum class FsckMode {
    Preen,      // -p: repair what is safe without questions; only if the fs is not marked clean
    CheckOnly,  // -f -n: full check, change nothing
    Repair,     // -f -y: full check, answer yes to every repair
};
enum class FsckOutcome { Clean, Fixed, ErrorsRemain };
struct FsckReport {
    FsckOutcome outcome = FsckOutcome::Clean;
    int exit_status = 0;  // e2fsck's own: 0 clean, 1 fixed, 2 fixed (reboot), 4 errors left
    std::string output;
};
// Runs e2fsck on the image. Exit status with bit 8 (operational error), 16 (usage), 32
// (cancelled) or 128 (library) set, or death by a signal, is an Error, not a report.
Result<FsckReport> fsck_ext4(const std::string& image, FsckMode mode);

// Offline grow: e2fsck -f -p, then resize2fs to the image file's current size.
// Errors left by e2fsck stop it (run a Repair first).
Result<void> resize_ext4_offline(const std::string& image);

// Online grow of the filesystem mounted from `loop_device` to the device's size (call
// LOOP_SET_CAPACITY first). The kernel allows this only with CAP_SYS_RESOURCE: when resize2fs
// reports "Operation not permitted" the Error has kind HostNotReady (see
// online_resize_not_permitted) so the caller can fall back to stop + offline grow.
Result<void> resize_ext4_online(const std::string& loop_device);

// True for the Error resize_ext4_online returns when the kernel refused the resize (EPERM).
bool online_resize_not_permitted(const Error& error);

// Hint before trying: does this process hold CAP_SYS_RESOURCE (needed by ext4 online resize)?
bool has_cap_sys_resource();

}  // namespace jailctl
