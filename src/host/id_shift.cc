#include "host/id_shift.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>

#include "jail/registry.h"
#include "util/fd.h"

namespace jailctl {

uint32_t shift_id(uint32_t id, uint32_t from_base, uint32_t to_base) {
    if (id >= from_base && id - from_base < kIdRangeSize) return to_base + (id - from_base);
    if (id >= to_base && id - to_base < kIdRangeSize) return id;
    return to_base + 65534;
}

namespace {

// Shifts every entry of the directory `dir` (already shifted itself), depth first.
Result<void> shift_tree(int dir, const std::string& where, const IdShift& shift, ShiftStats& stats) {
    int fd = ::openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return fail_errno("open " + where, errno);
    DIR* d = ::fdopendir(fd);
    if (!d) {
        int err = errno;
        ::close(fd);
        return fail_errno("read " + where, err);
    }
    std::unique_ptr<DIR, int (*)(DIR*)> owner(d, ::closedir);
    while (dirent* e = ::readdir(d)) {
        std::string name = e->d_name;
        if (name == "." || name == "..") continue;
        struct stat st {};
        if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return fail_errno("stat " + where + name, errno);
        if (::fchownat(dir, name.c_str(), shift.map(st.st_uid), shift.map(st.st_gid), AT_SYMLINK_NOFOLLOW) != 0)
            return fail_errno("chown " + where + name, errno);
        ++stats.inodes;
        if (S_ISDIR(st.st_mode)) {
            Fd sub(::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (!sub.valid()) return fail_errno("open " + where + name, errno);
            if (auto r = shift_tree(sub.get(), where + name + "/", shift, stats); !r) return r;
        }
    }
    return {};
}

}  // namespace

Result<ShiftStats> shift_ids(const std::string& rootfs, const IdShift& shift) {
    // One fd per directory level: deep trees need more than the default 1024.
    struct rlimit lim {};
    if (::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
        lim.rlim_cur = lim.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &lim);
    }
    Fd root(::open(rootfs.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!root.valid()) return fail_errno("open " + rootfs, errno);
    struct stat st {};
    if (::fstat(root.get(), &st) != 0) return fail_errno("stat " + rootfs, errno);
    if (::fchown(root.get(), shift.map(st.st_uid), shift.map(st.st_gid)) != 0) return fail_errno("chown " + rootfs, errno);
    ShiftStats stats{1};
    if (auto r = shift_tree(root.get(), rootfs + "/", shift, stats); !r) return std::unexpected(r.error());
    return stats;
}

}  // namespace jailctl
