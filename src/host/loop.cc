#include "host/loop.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string_view>

namespace jailctl {
namespace {

// Another process may take the device LOOP_CTL_GET_FREE offered us before we configure it.
constexpr int kAttachAttempts = 16;

// Flags every jail device gets:
// - AUTOCLEAR: the device's lifetime is its mount's; nothing to detach after a clean unmount.
// - DIRECT_IO: reads and writes bypass the page cache of the backing file, so a block is cached
//   once (by the jail's ext4) instead of twice. Measured on this host, 256 MiB written + fsync
//   through ext4 on the loop device: buffered 2.05 s and +512 MiB page cache; direct 1.31 s and
//   +256 MiB. With 1,000 jails the doubled cache is the difference that matters. Requested by
//   configure(), which retries without it when the kernel refuses direct I/O for the file.
// - never PARTSCAN: the kernel must not parse partition tables a tenant could write.
constexpr uint32_t kBaseFlags = LO_FLAGS_AUTOCLEAR;

// First line of a sysfs file ("" when absent). Plain read(2): find_loops_for reads one per
// loop device, a thousand on a full host.
std::string read_sysfs_line(const std::string& file) {
    Fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return "";
    char buf[4096 + 16];  // PATH_MAX and " (deleted)"
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    std::string_view text(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
    return std::string(text.substr(0, text.find('\n')));
}

bool valid_loop_device_path(const std::string& device) {
    constexpr std::string_view prefix = "/dev/loop";
    if (!device.starts_with(prefix) || device.size() == prefix.size() || device.size() > prefix.size() + 7)
        return false;
    for (size_t i = prefix.size(); i < device.size(); ++i)
        if (device[i] < '0' || device[i] > '9') return false;
    return true;
}

void fill_info(loop_info64& info, const std::string& image, uint32_t flags) {
    info = {};
    info.lo_flags = flags;
    // Display name only (LO_NAME_SIZE = 64, truncated); /sys/.../backing_file has the full path.
    std::strncpy(reinterpret_cast<char*>(info.lo_file_name), image.c_str(), LO_NAME_SIZE - 1);
}

// Kernels before 5.8 have no LOOP_CONFIGURE: SET_FD, then SET_STATUS64 for autoclear, then
// LOOP_SET_DIRECT_IO (best effort). Returns 0 or the errno of the failing step.
int configure_legacy(int dev, int image_fd, const std::string& image, uint32_t flags) {
    if (::ioctl(dev, LOOP_SET_FD, image_fd) != 0) return errno;
    loop_info64 info;
    fill_info(info, image,
              flags & ~(LO_FLAGS_DIRECT_IO | LO_FLAGS_READ_ONLY));  // read-only follows the fd mode
    if (::ioctl(dev, LOOP_SET_STATUS64, &info) != 0) {
        int err = errno;
        ::ioctl(dev, LOOP_CLR_FD, 0);
        return err;
    }
    if (flags & LO_FLAGS_DIRECT_IO) (void)::ioctl(dev, LOOP_SET_DIRECT_IO, 1UL);
    return 0;
}

// LOOP_CONFIGURE with direct I/O; without it if the kernel refuses direct I/O for this backing
// file; the legacy sequence if the kernel does not know LOOP_CONFIGURE.
int configure(int dev, int image_fd, const std::string& image, uint32_t flags) {
    loop_config config{};
    config.fd = static_cast<uint32_t>(image_fd);
    fill_info(config.info, image, flags | LO_FLAGS_DIRECT_IO);
    if (::ioctl(dev, LOOP_CONFIGURE, &config) == 0) return 0;
    int err = errno;
    if (err != EINVAL && err != ENOTTY) return err;
    fill_info(config.info, image, flags);
    if (::ioctl(dev, LOOP_CONFIGURE, &config) == 0) return 0;
    err = errno;
    if (err != EINVAL && err != ENOTTY) return err;
    return configure_legacy(dev, image_fd, image, flags | LO_FLAGS_DIRECT_IO);
}

Result<void> clear_fd(int fd, const std::string& device) {
    if (::ioctl(fd, LOOP_CLR_FD, 0) != 0) {
        int err = errno;
        if (err == ENXIO) return {};  // not attached (any more)
        return fail_errno("detach loop device " + device, err);
    }
    return {};
}

}  // namespace

Result<LoopDevice> LoopDevice::attach(const std::string& image, bool read_only) {
    const std::string what = "attach " + image + " to a loop device";
    Fd image_fd(::open(image.c_str(), (read_only ? O_RDONLY : O_RDWR) | O_NOFOLLOW | O_CLOEXEC));
    if (!image_fd.valid()) return fail_errno(what + ": open", errno);
    struct stat st {};
    if (::fstat(image_fd.get(), &st) != 0) return fail_errno(what + ": fstat", errno);
    if (!S_ISREG(st.st_mode)) return fail(what + ": not a regular file");

    auto existing = find_loops_for(image);
    if (!existing) return std::unexpected(existing.error().context(what));
    if (!existing->empty())
        return fail(ErrorKind::Conflict, what + ": already attached to " + existing->front().device);

    Fd control(::open("/dev/loop-control", O_RDWR | O_CLOEXEC));
    if (!control.valid()) return fail_errno(what + ": open /dev/loop-control", errno);
    const uint32_t flags = kBaseFlags | (read_only ? LO_FLAGS_READ_ONLY : 0);

    int last_err = EBUSY;
    for (int attempt = 0; attempt < kAttachAttempts; ++attempt) {
        int number = ::ioctl(control.get(), LOOP_CTL_GET_FREE);
        if (number < 0) return fail_errno(what + ": LOOP_CTL_GET_FREE", errno);
        std::string path = "/dev/loop" + std::to_string(number);
        Fd dev(::open(path.c_str(), O_RDWR | O_CLOEXEC));
        if (!dev.valid()) {
            last_err = errno;
            if (last_err == ENOENT || last_err == ENXIO) continue;  // removed under us
            return fail_errno(what + ": open " + path, last_err);
        }
        last_err = configure(dev.get(), image_fd.get(), image, flags);
        if (last_err == EBUSY) continue;  // another process configured it first: ask again
        if (last_err != 0) return fail_errno(what + ": configure " + path, last_err);
        loop_info64 info{};
        bool dio = ::ioctl(dev.get(), LOOP_GET_STATUS64, &info) == 0 && (info.lo_flags & LO_FLAGS_DIRECT_IO);
        return LoopDevice(std::move(dev), std::move(path), number, dio);
    }
    return fail_errno(what + ": no free loop device after " + std::to_string(kAttachAttempts) + " attempts",
                      last_err);
}

Result<void> LoopDevice::set_capacity() {
    if (!fd_.valid()) return fail("set capacity of " + path_ + ": device already detached");
    if (::ioctl(fd_.get(), LOOP_SET_CAPACITY, 0) != 0) return fail_errno("set capacity of " + path_, errno);
    return {};
}

Result<void> LoopDevice::detach() {
    if (!fd_.valid()) return {};
    auto result = clear_fd(fd_.get(), path_);
    fd_.reset();
    return result;
}

namespace {
// Loop devices with a backing file. /proc/partitions lists exactly the block devices with a
// non-zero size, which for loops means attached (to a non-empty file; jailctl's images never are):
// one read, where /sys/block holds every loop device ever created (a thousand idle ones after a
// busy day cost ~10 ms to probe one by one). /sys/block is the fallback.
Result<std::vector<std::string>> attached_loop_names() {
    std::vector<std::string> names;
    std::ifstream partitions("/proc/partitions");
    if (partitions) {
        std::string line;
        while (std::getline(partitions, line)) {
            std::istringstream fields(line);
            std::string major, minor, blocks, name;
            if (fields >> major >> minor >> blocks >> name && name.starts_with("loop")) names.push_back(name);
        }
        return names;
    }
    DIR* dir = ::opendir("/sys/block");
    if (dir == nullptr) return fail_errno("open /sys/block", errno);
    while (dirent* entry = ::readdir(dir))
        if (std::string_view(entry->d_name).starts_with("loop")) names.emplace_back(entry->d_name);
    ::closedir(dir);
    return names;
}

// "<jails>/<a>/disk.img" and "<jails>/<b>/disk.img": two jails' images.
bool sibling_jail_image(const std::string& backing, const std::filesystem::path& wanted) {
    std::filesystem::path other(backing);
    return other.filename() == wanted.filename() && other.parent_path() != wanted.parent_path() &&
           other.parent_path().parent_path() == wanted.parent_path().parent_path();
}
}  // namespace

Result<std::vector<LoopInfo>> find_loops_for(const std::string& image) {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::path wanted = fs::absolute(image, ec).lexically_normal();
    if (ec) return fail("find loop devices of " + image + ": " + ec.message());
    std::optional<struct stat> image_st;
    if (struct stat st{}; ::stat(image.c_str(), &st) == 0) {
        image_st = st;
        if (auto canonical = fs::canonical(image, ec); !ec) wanted = canonical;
    }

    std::vector<LoopInfo> found;
    auto names = attached_loop_names();
    if (!names) return std::unexpected(names.error().context("find loop devices of " + image));
    for (const std::string& name : *names) {
        std::string sys = "/sys/block/" + name + "/loop/";
        std::string backing = read_sysfs_line(sys + "backing_file");
        if (backing.empty()) continue;  // not attached
        bool same = backing == wanted.string() || backing == wanted.string() + " (deleted)";
        // Another path to the same file (a bind mount, a hard link): compare inodes — except for
        // the other jails' images, siblings of this one under the same jails directory (canonical
        // paths there name distinct files; skipping their stat keeps a scan of a thousand loop
        // devices to one sysfs read each).
        if (!same && image_st && !sibling_jail_image(backing, wanted)) {
            struct stat st {};
            same = ::stat(backing.c_str(), &st) == 0 && st.st_dev == image_st->st_dev &&
                   st.st_ino == image_st->st_ino;
        }
        if (same) found.push_back({"/dev/" + name, backing, read_sysfs_line(sys + "autoclear") == "1"});
    }
    return found;
}

Result<void> detach_loop(const std::string& device) {
    if (!valid_loop_device_path(device)) return fail_input("device", "not a loop device path: " + device);
    Fd fd(::open(device.c_str(), O_RDWR | O_CLOEXEC));
    if (!fd.valid()) {
        int err = errno;
        if (err == ENOENT || err == ENXIO) return {};
        return fail_errno("detach loop device " + device + ": open", err);
    }
    return clear_fd(fd.get(), device);
}

Result<void> set_loop_capacity(const std::string& device) {
    if (!valid_loop_device_path(device)) return fail_input("device", "not a loop device path: " + device);
    Fd fd(::open(device.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return fail_errno("set capacity of " + device + ": open", errno);
    if (::ioctl(fd.get(), LOOP_SET_CAPACITY, 0) != 0) return fail_errno("set capacity of " + device, errno);
    return {};
}

}  // namespace jailctl
