#include "util/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "util/fd.h"

namespace jailctl {
namespace {

std::string directory_of(const std::string& path) {
    auto slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

Result<void> sync_directory(const std::string& dir) {
    Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd.valid()) return fail_errno("open directory " + dir, errno);
    if (::fsync(fd.get()) != 0 && errno != EINVAL) return fail_errno("fsync directory " + dir, errno);
    return {};
}

// The temporary file's mode, content and (when durable) its data on disk.
Result<void> fill(int fd, const std::string& temp, std::string_view content, const AtomicWriteOptions& options) {
    if (::fchmod(fd, options.mode) != 0) return fail_errno("chmod " + temp, errno);
    if (auto r = write_all(fd, content, temp); !r) return r;
    if (options.durable && ::fsync(fd) != 0) return fail_errno("fsync " + temp, errno);
    return {};
}

}  // namespace

Result<void> write_all(int fd, std::string_view content, const std::string& what) {
    while (!content.empty()) {
        ssize_t n = ::write(fd, content.data(), content.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail_errno("write " + what, errno);
        if (n == 0) return fail_errno("write " + what, EIO);
        content.remove_prefix(static_cast<size_t>(n));
    }
    return {};
}

Result<void> write_file_atomically(const std::string& path, std::string_view content, AtomicWriteOptions options) {
    std::string temp = path + ".tmp.XXXXXX";
    Fd fd(::mkostemp(temp.data(), O_CLOEXEC));
    if (!fd.valid()) return fail_errno("create " + path + ".tmp.*", errno);
    auto written = fill(fd.get(), temp, content, options);
    if (written && ::close(fd.release()) != 0) written = fail_errno("close " + temp, errno);
    if (written && ::rename(temp.c_str(), path.c_str()) != 0)
        written = fail_errno("rename " + temp + " to " + path, errno);
    if (!written) {
        ::unlink(temp.c_str());
        return written;
    }
    if (options.durable) return sync_directory(directory_of(path));
    return {};
}

}  // namespace jailctl
