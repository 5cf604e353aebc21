#include "host/ext4.h"

#include <sys/capability.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <vector>

#include "host/loop.h"
#include "util/command.h"
#include "util/text.h"

namespace jailctl {
namespace {

// e2fsck exit status bits that mean "could not do its job" rather than "found something".
constexpr int kFsckOperationalError = 8 | 16 | 32 | 128;
constexpr int kFsckErrorsLeft = 4;
constexpr int kFsckFixed = 1 | 2;

bool valid_label(std::string_view label) {
    if (label.empty() || label.size() > kMaxExt4Label) return false;
    for (char c : label)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '_' || c == '-'))
            return false;
    return true;
}

// The image must be a regular file (not followed through a symlink) and not attached to any
// loop device: e2fsprogs on a file cannot tell that a kernel has it mounted.
Result<struct stat> check_detached_image(const std::string& image, const std::string& what) {
    struct stat st {};
    if (::lstat(image.c_str(), &st) != 0) return fail_errno(what + ": stat", errno);
    if (!S_ISREG(st.st_mode)) return fail(what + ": not a regular file");
    auto loops = find_loops_for(image);
    // An autoclear device whose filesystem was just unmounted (a stop, an archiver's namespace
    // that died) goes by itself once the kernel has released it: give it up to 3 s.
    const auto all_autoclear = [&] {
        return std::ranges::all_of(*loops, [](const LoopInfo& l) { return l.autoclear; });
    };
    for (int i = 0; i < 150 && loops && !loops->empty() && all_autoclear(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        loops = find_loops_for(image);
    }
    if (!loops) return std::unexpected(loops.error().context(what));
    if (!loops->empty())
        return fail(ErrorKind::Conflict, what + ": the image is attached to " + loops->front().device +
                                             " (unmount and detach it first)");
    return st;
}

// The tool's own "resize2fs: ..." complaint if it printed one, else its last line.
std::string tool_error_line(const std::string& output, const std::string& prefix) {
    if (auto at = output.find(prefix); at != std::string::npos && (at == 0 || output[at - 1] == '\n'))
        return output.substr(at, output.find('\n', at) - at);
    return last_line(output);
}

}  // namespace

// mkfs.ext4 options, measured on this host (e2fsprogs 1.47.0, kernel 6.18, ext4 host disk):
// - -b 4096 -I 256 -i 16384: pinned, because mke2fs.conf would otherwise pick 1 KiB blocks and a
//   1:4096 inode ratio for images up to 512 MiB ("small") and fewer inodes for big ones. 256-byte
//   inodes carry timestamps past 2038. One inode per 16 KiB suits hosting (many small files);
//   fewer inodes (-i 65536) did not make mkfs measurably faster: 512 MiB 9-10 ms either way,
//   8 GiB 25-35 ms, because mke2fs zeroes the inode tables with fallocate(ZERO_RANGE).
// - -m 0: no root reserve; the whole quota is the customer's.
// - -J size: ext4_journal_bytes(), a smaller journal than mke2fs's on disks below 512 MiB.
// - -E nodiscard: essential. mke2fs discards a device before formatting; on an image FILE that is
//   fallocate(PUNCH_HOLE), which threw away the preallocation: a 512 MiB fallocated image kept
//   16 MiB of its 512 MiB after a default mkfs. With nodiscard it stays fully reserved.
// - lazy_itable_init/lazy_journal_init: =0 on a preallocated image (same cost, measured above,
//   and no ext4lazyinit thread writing behind the jail's back after mount); =1 on a sparse image,
//   whose holes already read as zeros: =0 allocated 197 MiB of a sparse 8 GiB image, =1 4 MiB.
// - -e remount-ro: also stored in the superblock, so any mount of the image (an operator's by
//   hand included) turns read-only on errors instead of continuing.
// - features: mke2fs.conf's ext4 defaults (metadata_csum, 64bit, extents, flex_bg, resize_inode
//   for online growth) are kept: checksums are what lets e2fsck trust what it repairs. No mmp:
//   its kmmpd thread writes every image every few seconds; attaching refuses an image that is
//   already attached instead (LoopDevice::attach).
uint64_t ext4_journal_bytes(uint64_t size) {
    constexpr uint64_t MiB = 1ull << 20;
    if (size < 512 * MiB) return std::max<uint64_t>(4 * MiB, size / 32 / MiB * MiB);
    return size < 1024 * MiB ? 16 * MiB : size < 2048 * MiB ? 32 * MiB : size < 16384 * MiB ? 64 * MiB : 128 * MiB;
}

Result<void> format_ext4(const std::string& image, uint32_t root_uid, uint32_t root_gid,
                         std::string_view label) {
    const std::string what = "format " + image + " as ext4";
    if (!valid_label(label))
        return fail_input("label", "'" + std::string(label) + "' must be 1-" + std::to_string(kMaxExt4Label) +
                                       " characters of A-Z a-z 0-9 . _ -");
    auto st = check_detached_image(image, what);
    if (!st) return std::unexpected(st.error());
    const bool sparse = static_cast<uint64_t>(st->st_blocks) * 512 < static_cast<uint64_t>(st->st_size);
    const std::string lazy = sparse ? "1" : "0";
    // clang-format off
    std::vector<std::string> argv = {
        "mkfs.ext4", "-q", "-F", "-t", "ext4",
        "-b", "4096", "-I", "256", "-i", "16384", "-m", "0", "-e", "remount-ro",
        "-J", "size=" + std::to_string(ext4_journal_bytes(static_cast<uint64_t>(st->st_size)) >> 20),
        "-L", std::string(label),
        "-E", "root_owner=" + std::to_string(root_uid) + ":" + std::to_string(root_gid) +
              ",nodiscard,lazy_itable_init=" + lazy + ",lazy_journal_init=" + lazy,
        "--", image};
    // clang-format on
    if (auto run = run_checked(argv); !run) return std::unexpected(run.error().context(what));
    return {};
}

Result<FsckReport> fsck_ext4(const std::string& image, FsckMode mode) {
    const std::string what = "check filesystem of " + image;
    if (auto st = check_detached_image(image, what); !st) return std::unexpected(st.error());
    std::vector<std::string> argv = {"e2fsck"};
    switch (mode) {
        case FsckMode::Preen:
            argv.push_back("-p");
            break;
        case FsckMode::CheckOnly:
            argv.insert(argv.end(), {"-f", "-n"});
            break;
        case FsckMode::Repair:
            argv.insert(argv.end(), {"-f", "-y"});
            break;
    }
    argv.insert(argv.end(), {"--", image});
    auto run = run_command(argv);
    if (!run) return std::unexpected(run.error().context(what));
    const int status = run->exit_status;
    if (status & kFsckOperationalError) {
        return fail(what + ": " + exit_message("e2fsck", *run));
    }
    FsckReport report{FsckOutcome::Clean, status, std::move(run->output)};
    if (status & kFsckErrorsLeft)
        report.outcome = FsckOutcome::ErrorsRemain;
    else if (status & kFsckFixed)
        report.outcome = FsckOutcome::Fixed;
    return report;
}

Result<void> resize_ext4_offline(const std::string& image) {
    const std::string what = "grow filesystem of " + image + " offline";
    if (auto st = check_detached_image(image, what); !st) return std::unexpected(st.error());
    // resize2fs insists on a freshly checked filesystem; -f forces the check even when marked clean.
    auto fsck = run_command({"e2fsck", "-f", "-p", "--", image});
    if (!fsck) return std::unexpected(fsck.error().context(what));
    if (fsck->exit_status & (kFsckOperationalError | kFsckErrorsLeft))
        return fail(what + ": e2fsck -f -p exited with status " + std::to_string(fsck->exit_status) +
                    " (errors need a repair first): " + last_line(fsck->output));
    auto run = run_command({"resize2fs", "--", image});
    if (!run) return std::unexpected(run.error().context(what));
    if (run->exit_status != 0)
        return fail(what + ": resize2fs exited with status " + std::to_string(run->exit_status) + ": " +
                    tool_error_line(run->output, "resize2fs: "));
    return {};
}

Result<void> resize_ext4_online(const std::string& loop_device) {
    const std::string what = "grow filesystem on " + loop_device + " online";
    if (!loop_device.starts_with("/dev/loop"))
        return fail_input("device", "not a loop device: " + loop_device);
    auto run = run_command({"resize2fs", "--", loop_device});
    if (!run) return std::unexpected(run.error().context(what));
    if (run->exit_status == 0) return {};
    // EXT4_IOC_RESIZE_FS failed with EPERM: resize2fs 1.47 says "Permission denied to resize
    // filesystem", older versions print strerror ("Operation not permitted").
    if (run->output.find("Permission denied to resize") != std::string::npos ||
        run->output.find("Operation not permitted") != std::string::npos)
        return fail(ErrorKind::HostNotReady,
                    what +
                        ": the kernel refused (Operation not permitted): ext4 online resize needs "
                        "CAP_SYS_RESOURCE, which this process lacks; stop the jail and grow it offline");
    return fail(what + ": resize2fs exited with status " + std::to_string(run->exit_status) + ": " +
                tool_error_line(run->output, "resize2fs: "));
}

bool online_resize_not_permitted(const Error& error) { return error.kind == ErrorKind::HostNotReady; }

bool has_cap_sys_resource() {
    cap_t caps = cap_get_proc();
    if (!caps) return false;
    cap_flag_value_t effective = CAP_CLEAR;
    bool held = cap_get_flag(caps, CAP_SYS_RESOURCE, CAP_EFFECTIVE, &effective) == 0 && effective == CAP_SET;
    cap_free(caps);
    return held;
}

}  // namespace jailctl
