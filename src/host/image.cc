#include "host/image.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>

#include "jail/byte_size.h"
#include "util/fd.h"

namespace jailctl {
namespace {

std::string parent_dir(const std::string& path) {
    auto parent = std::filesystem::path(path).parent_path();
    return parent.empty() ? std::string(".") : parent.string();
}

Result<void> check_size(uint64_t bytes) {
    if (bytes == 0) return fail_input("size", "must be greater than zero");
    if (bytes % kImageBlockSize != 0)
        return fail_input("size", std::to_string(bytes) + " bytes is not a multiple of " +
                                      std::to_string(kImageBlockSize) + " bytes");
    if (bytes > static_cast<uint64_t>(INT64_MAX))
        return fail_input("size", human_bytes(bytes) + " is too large");
    return {};
}

// ENOSPC/EDQUOT: say how much was asked for and how much the filesystem has.
std::unexpected<Error> no_space(const std::string& what, const std::string& dir, uint64_t asked, int err) {
    std::string msg = what + ": " + std::strerror(err) + " (asked for " + human_bytes(asked);
    if (auto avail = free_bytes(dir)) msg += ", " + human_bytes(*avail) + " free in " + dir;
    msg += ")";
    return fail(msg);
}

Result<void> fsync_dir(const std::string& dir) {
    Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd.valid()) return fail_errno("open directory " + dir, errno);
    if (::fsync(fd.get()) != 0) return fail_errno("fsync directory " + dir, errno);
    return {};
}

// Reserves [offset, offset+len) and extends the file size, or only sets the size when sparse.
int extend(int fd, uint64_t offset, uint64_t len, bool sparse) {
    if (sparse) return ::ftruncate(fd, static_cast<off_t>(offset + len)) == 0 ? 0 : errno;
    for (;;) {
        if (::fallocate(fd, 0, static_cast<off_t>(offset), static_cast<off_t>(len)) == 0) return 0;
        if (errno != EINTR) return errno;
    }
}

}  // namespace

Result<uint64_t> free_bytes(const std::string& dir) {
    struct statvfs st {};
    if (::statvfs(dir.c_str(), &st) != 0) return fail_errno("statvfs " + dir, errno);
    return static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
}

int DiskUse::used_percent() const {
    uint64_t total = used_bytes + free_bytes;
    if (total == 0) return 0;
    return static_cast<int>((used_bytes * 100 + total - 1) / total);
}

Result<DiskUse> disk_use(const std::string& dir) {
    struct statvfs st {};
    if (::statvfs(dir.c_str(), &st) != 0) return fail_errno("statvfs " + dir, errno);
    return DiskUse{static_cast<uint64_t>(st.f_blocks - st.f_bfree) * st.f_frsize,
                   static_cast<uint64_t>(st.f_bavail) * st.f_frsize};
}

Result<void> create_image(const std::string& path, uint64_t bytes, bool sparse) {
    if (auto ok = check_size(bytes); !ok) return ok;
    const std::string what =
        "create image " + path + " (" + human_bytes(bytes) + (sparse ? ", sparse)" : ")");
    Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd.valid()) {
        int err = errno;
        if (err == EEXIST) return fail(ErrorKind::Conflict, what + ": the file already exists");
        return fail_errno(what, err);
    }
    // From here on the file is ours: remove it on any failure so no half-made image stays behind.
    auto remove_partial = [&](std::unexpected<Error> error) {
        fd.reset();
        ::unlink(path.c_str());
        return error;
    };
    if (int err = extend(fd.get(), 0, bytes, sparse); err != 0) {
        if (err == ENOSPC || err == EDQUOT) {
            fd.reset();
            ::unlink(path.c_str());  // free the partial reservation before measuring what is left
            return no_space(what, parent_dir(path), bytes, err);
        }
        if (err == EOPNOTSUPP)
            return remove_partial(fail(what + ": the filesystem cannot preallocate (fallocate: " +
                                       std::strerror(err) + "); use a sparse image"));
        return remove_partial(fail_errno(what + (sparse ? ": ftruncate" : ": fallocate"), err));
    }
    if (::fsync(fd.get()) != 0) return remove_partial(fail_errno(what + ": fsync", errno));
    if (auto ok = fsync_dir(parent_dir(path)); !ok)
        return remove_partial(std::unexpected(ok.error().context(what)));
    return {};
}

Result<void> grow_image(const std::string& path, uint64_t new_bytes, bool sparse) {
    if (auto ok = check_size(new_bytes); !ok) return ok;
    const std::string what = "grow image " + path + " to " + human_bytes(new_bytes);
    Fd fd(::open(path.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid()) return fail_errno(what + ": open", errno);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return fail_errno(what + ": fstat", errno);
    if (!S_ISREG(st.st_mode)) return fail(what + ": not a regular file");
    const auto old_bytes = static_cast<uint64_t>(st.st_size);
    if (new_bytes < old_bytes)
        return fail_input("size", "cannot shrink image " + path + " from " + human_bytes(old_bytes) +
                                      " to " + human_bytes(new_bytes) + " (images only grow)");
    if (new_bytes == old_bytes) return {};
    if (int err = extend(fd.get(), old_bytes, new_bytes - old_bytes, sparse); err != 0) {
        // A failed fallocate may leave blocks past the old end: truncating back releases them.
        (void)::ftruncate(fd.get(), static_cast<off_t>(old_bytes));
        if (err == ENOSPC || err == EDQUOT)
            return no_space(what, parent_dir(path), new_bytes - old_bytes, err);
        return fail_errno(what + (sparse ? ": ftruncate" : ": fallocate"), err);
    }
    if (::fsync(fd.get()) != 0) return fail_errno(what + ": fsync", errno);
    return {};
}

}  // namespace jailctl
