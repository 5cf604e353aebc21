#include "host/snapshot.h"

#include <fcntl.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <chrono>
#include <vector>

#include "util/fd.h"

namespace jailctl {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// Frozen filesystem: thawed by the destructor whatever happened in between. Termination signals
// are blocked meanwhile so that Ctrl-C cannot leave the jail frozen (they arrive after the thaw).
class FreezeGuard {
public:
    static Result<FreezeGuard> freeze(const std::string& dir) {
        Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!fd.valid()) return fail_errno("open " + dir + " to freeze it", errno);
        sigset_t block, old;
        sigemptyset(&block);
        for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaddset(&block, s);
        ::sigprocmask(SIG_BLOCK, &block, &old);
        if (::ioctl(fd.get(), FIFREEZE, 0) != 0) {
            int err = errno;
            ::sigprocmask(SIG_SETMASK, &old, nullptr);
            return fail_errno("freeze the filesystem at " + dir + " (FIFREEZE)", err);
        }
        return FreezeGuard(std::move(fd), old);
    }
    FreezeGuard(FreezeGuard&& o) noexcept : fd_(std::move(o.fd_)), old_(o.old_), t0_(o.t0_) {}
    FreezeGuard(const FreezeGuard&) = delete;
    ~FreezeGuard() { (void)thaw(); }

    // Thaws now; returns the time writers were blocked. Idempotent.
    Result<double> thaw() {
        if (!fd_.valid()) return ms_;
        int rc = ::ioctl(fd_.get(), FITHAW, 0);
        int err = errno;
        ms_ = ms_since(t0_);
        fd_.reset();
        ::sigprocmask(SIG_SETMASK, &old_, nullptr);
        if (rc != 0) return fail_errno("thaw the frozen filesystem (FITHAW)", err);
        return ms_;
    }

private:
    FreezeGuard(Fd fd, sigset_t old) : fd_(std::move(fd)), old_(old), t0_(Clock::now()) {}
    Fd fd_;
    sigset_t old_;
    Clock::time_point t0_;
    double ms_ = 0;
};

Result<uint64_t> copy_range(int in, int out, off_t from, off_t to, const std::string& image);

// Copies the allocated extents of `in` into `out` (already truncated to the full size).
Result<uint64_t> copy_extents(int in, int out, uint64_t size, const std::string& image) {
    uint64_t copied = 0;
    off_t pos = 0;
    while (static_cast<uint64_t>(pos) < size) {
        off_t data = ::lseek(in, pos, SEEK_DATA);
        if (data < 0) {
            if (errno == ENXIO) break;  // only a hole remains
            return fail_errno("seek data in " + image, errno);
        }
        off_t hole = ::lseek(in, data, SEEK_HOLE);
        if (hole < 0) return fail_errno("seek hole in " + image, errno);
        auto n = copy_range(in, out, data, hole, image);
        if (!n) return n;
        copied += *n;
        pos = hole;
    }
    return copied;
}

Result<uint64_t> copy_range(int in, int out, off_t from, off_t to, const std::string& image) {
    uint64_t copied = 0;
    off_t src = from, dst = from;
    while (src < to) {
        ssize_t n = ::copy_file_range(in, &src, out, &dst, static_cast<size_t>(to - src), 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            return fail_errno("copy " + image, errno);
        }
        if (n == 0) break;
        copied += static_cast<uint64_t>(n);
    }
    return copied;
}

// The written extents only, from FIEMAP: preallocated (unwritten) extents read as zeros and stay
// holes in the copy. A preallocated jail image is mostly unwritten, so this is what keeps the
// freeze short on ext4. Fails (and the caller falls back to SEEK_DATA) when FIEMAP is missing.
Result<uint64_t> copy_written_extents(int in, int out, uint64_t size, const std::string& image) {
    constexpr unsigned kBatch = 256;
    std::vector<char> buf(sizeof(fiemap) + kBatch * sizeof(fiemap_extent));
    auto* fm = reinterpret_cast<fiemap*>(buf.data());
    uint64_t start = 0, copied = 0;
    for (;;) {
        std::fill(buf.begin(), buf.end(), 0);
        fm->fm_start = start;
        fm->fm_length = FIEMAP_MAX_OFFSET - start;
        fm->fm_flags = FIEMAP_FLAG_SYNC;
        fm->fm_extent_count = kBatch;
        if (::ioctl(in, FS_IOC_FIEMAP, fm) != 0) return fail_errno("FIEMAP " + image, errno);
        if (fm->fm_mapped_extents == 0) break;
        bool last = false;
        for (unsigned i = 0; i < fm->fm_mapped_extents; ++i) {
            const fiemap_extent& e = fm->fm_extents[i];
            uint64_t end = std::min<uint64_t>(e.fe_logical + e.fe_length, size);
            if (!(e.fe_flags & FIEMAP_EXTENT_UNWRITTEN) && e.fe_logical < end) {
                auto n = copy_range(in, out, static_cast<off_t>(e.fe_logical), static_cast<off_t>(end), image);
                if (!n) return n;
                copied += *n;
            }
            start = e.fe_logical + e.fe_length;
            if (e.fe_flags & FIEMAP_EXTENT_LAST) last = true;
        }
        if (last || start >= size) break;
    }
    return copied;
}

Result<SnapshotInfo> copy_image(int in, int out, const std::string& image) {
    SnapshotInfo info;
    auto t0 = Clock::now();
    if (::ioctl(out, FICLONE, in) == 0) {
        info.method = SnapshotMethod::Reflink;
        info.copy_ms = ms_since(t0);
        return info;
    }
    struct stat st {};
    if (::fstat(in, &st) != 0) return fail_errno("stat " + image, errno);
    if (::ftruncate(out, st.st_size) != 0) return fail_errno("size the copy of " + image, errno);
    auto copied = copy_written_extents(in, out, static_cast<uint64_t>(st.st_size), image);
    if (!copied) copied = copy_extents(in, out, static_cast<uint64_t>(st.st_size), image);
    if (!copied) return std::unexpected(copied.error());
    info.method = SnapshotMethod::ExtentCopy;
    info.bytes_copied = *copied;
    info.copy_ms = ms_since(t0);
    return info;
}

}  // namespace

const char* to_string(SnapshotMethod method) {
    return method == SnapshotMethod::Reflink ? "reflink" : "extent-copy";
}

Result<SnapshotInfo> snapshot_image(const std::string& mounted_rootfs, const std::string& image,
                                    const std::string& dest, const FrozenHook& while_frozen) {
    Fd in(::open(image.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!in.valid()) return fail_errno("open " + image, errno);
    Fd out(::open(dest.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!out.valid()) return fail_errno("create " + dest, errno);

    Result<SnapshotInfo> info;
    double freeze_ms = 0;
    if (!mounted_rootfs.empty()) {
        auto frozen = FreezeGuard::freeze(mounted_rootfs);
        if (!frozen) {
            info = std::unexpected(frozen.error());
        } else {
            if (auto hooked = while_frozen ? while_frozen() : Result<void>{}; !hooked)
                info = std::unexpected(hooked.error());
            else
                info = copy_image(in.get(), out.get(), image);
            auto thawed = frozen->thaw();
            if (!thawed) info = std::unexpected(thawed.error());
            else freeze_ms = *thawed;
        }
    } else {
        info = copy_image(in.get(), out.get(), image);
    }
    // No fsync: the copy is a scratch file read back at once (and deleted) by the archiver.
    if (!info) {
        ::unlink(dest.c_str());
        return info;
    }
    info->frozen = !mounted_rootfs.empty();
    info->freeze_ms = freeze_ms;
    return info;
}

Result<SnapshotSupport> snapshot_support(const std::string& dir) {
    SnapshotSupport support;
    struct statfs fs {};
    if (::statfs(dir.c_str(), &fs) != 0) return fail_errno("statfs " + dir, errno);
    switch (static_cast<unsigned long>(fs.f_type)) {
        case 0x58465342: support.filesystem = "xfs"; break;
        case 0xEF53: support.filesystem = "ext4"; break;
        case 0x9123683E: support.filesystem = "btrfs"; break;
        case 0x01021994: support.filesystem = "tmpfs"; break;
        default: {
            char hex[24];
            std::snprintf(hex, sizeof hex, "0x%lx", static_cast<unsigned long>(fs.f_type));
            support.filesystem = hex;
        }
    }
    // Two unnamed files (O_TMPFILE: nothing to clean up, whatever happens), one block of data.
    Fd src(::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
    Fd dst(::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
    if (!src.valid() || !dst.valid()) return fail_errno("scratch file in " + dir, errno);
    std::vector<char> block(4096, 'j');
    if (::pwrite(src.get(), block.data(), block.size(), 0) != static_cast<ssize_t>(block.size()))
        return fail_errno("write a scratch file in " + dir, errno);
    if (::ioctl(dst.get(), FICLONE, src.get()) == 0) support.method = SnapshotMethod::Reflink;
    return support;
}

}  // namespace jailctl
