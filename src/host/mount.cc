#include "host/mount.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "util/fd.h"

namespace jailctl {
namespace {

constexpr int kUnmountAttempts = 10;
constexpr auto kUnmountRetryDelay = std::chrono::milliseconds(50);
constexpr size_t kMaxHoldersReported = 10;

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape_mountinfo(std::string_view field) {
    std::string out;
    out.reserve(field.size());
    auto is_octal = [](char c) { return c >= '0' && c <= '7'; };
    for (size_t i = 0; i < field.size(); ++i) {
        if (field[i] == '\\' && i + 3 < field.size() && is_octal(field[i + 1]) && is_octal(field[i + 2]) &&
            is_octal(field[i + 3])) {
            out += static_cast<char>((field[i + 1] - '0') * 64 + (field[i + 2] - '0') * 8 +
                                     (field[i + 3] - '0'));
            i += 3;
            continue;
        }
        out += field[i];
    }
    return out;
}

std::string normalize(const std::string& path) {
    auto normal = std::filesystem::path(path).lexically_normal().string();
    while (normal.size() > 1 && normal.back() == '/') normal.pop_back();
    return normal;
}

bool is_under(const std::string& path, const std::string& dir) {
    if (path == dir) return true;
    if (dir == "/") return !path.empty() && path.front() == '/';
    return path.size() > dir.size() && path.starts_with(dir) && path[dir.size()] == '/';
}

std::string read_link(const std::string& link) {
    char buf[4096];
    ssize_t n = ::readlink(link.c_str(), buf, sizeof buf);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

// "pid 812 (nginx) cwd; pid 900 (bash) fd 3 -> /srv/x": who keeps `dir` busy, as far as /proc shows.
std::string busy_holders(const std::string& dir) {
    namespace fs = std::filesystem;
    std::vector<std::string> holders;
    size_t total = 0;
    std::error_code ec;
    for (const auto& proc : fs::directory_iterator("/proc", ec)) {
        const std::string pid = proc.path().filename().string();
        if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
        std::vector<std::string> uses;
        for (const char* link : {"cwd", "root"})
            if (is_under(read_link(proc.path().string() + "/" + link), dir)) uses.emplace_back(link);
        std::error_code fd_ec;
        for (const auto& fd : fs::directory_iterator(proc.path() / "fd", fd_ec)) {
            std::string target = read_link(fd.path().string());
            if (is_under(target, dir))
                uses.push_back("fd " + fd.path().filename().string() + " -> " + target);
        }
        if (uses.empty()) continue;
        if (++total > kMaxHoldersReported) continue;
        std::string comm;
        std::getline(std::ifstream(proc.path() / "comm"), comm);
        std::string line = "pid " + pid + " (" + comm + ")";
        for (size_t i = 0; i < uses.size() && i < 3; ++i) line += (i == 0 ? " " : ", ") + uses[i];
        holders.push_back(line);
    }
    if (holders.empty()) return "no process found holding it (a mount below it, or another mount namespace?)";
    std::string out = "still used by ";
    for (size_t i = 0; i < holders.size(); ++i) out += (i ? "; " : "") + holders[i];
    if (total > holders.size()) out += "; and " + std::to_string(total - holders.size()) + " more";
    return out;
}

}  // namespace

Result<void> mount_ext4(const std::string& device, const std::string& target) {
    const std::string what = "mount " + device + " on " + target;
    struct stat dev_st {};
    if (::stat(device.c_str(), &dev_st) != 0) return fail_errno(what + ": stat " + device, errno);
    if (!S_ISBLK(dev_st.st_mode)) return fail(what + ": " + device + " is not a block device");

    Fd dir(::open(target.c_str(), O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC));
    if (!dir.valid()) {
        int err = errno;
        struct stat st {};
        if ((err == ENOTDIR || err == ELOOP) && ::lstat(target.c_str(), &st) == 0 && S_ISLNK(st.st_mode))
            return fail(what + ": the target is a symbolic link (refused)");
        return fail_errno(what + ": open target", err);
    }
    // The kernel resolves /proc/self/fd/N to the directory we opened, not to whatever the path
    // names now: no check-then-use window.
    const std::string via_fd = "/proc/self/fd/" + std::to_string(dir.get());
    if (::mount(device.c_str(), via_fd.c_str(), "ext4", MS_NOSUID | MS_NODEV | MS_NOATIME,
                "errors=remount-ro") != 0)
        return fail_errno(what, errno);
    return {};
}

Result<void> unmount(const std::string& target) {
    const std::string what = "unmount " + target;
    for (int attempt = 1;; ++attempt) {
        if (::umount2(target.c_str(), UMOUNT_NOFOLLOW) == 0) return {};
        int err = errno;
        if (err == ENOENT) return {};  // no such path: nothing mounted there
        if (err == EINVAL) {           // not a mount point (or a symlink, which we never follow)
            auto mounted = find_mount(target);
            if (!mounted) return std::unexpected(mounted.error().context(what));
            if (!*mounted) return {};
            return fail_errno(what, err);
        }
        if (err != EBUSY) return fail_errno(what, err);
        if (attempt >= kUnmountAttempts)
            return fail(what + ": " + std::strerror(err) + " after " + std::to_string(kUnmountAttempts) +
                        " attempts; " + busy_holders(normalize(target)));
        std::this_thread::sleep_for(kUnmountRetryDelay);
    }
}

Result<std::vector<MountInfo>> list_mounts() {
    std::ifstream in("/proc/self/mountinfo");
    if (!in) return fail_errno("list mounts: open /proc/self/mountinfo", errno);
    std::vector<MountInfo> mounts;
    std::string line;
    while (std::getline(in, line)) {
        // id parent major:minor root mount_point options [optional fields...] - fs_type source super_options
        std::istringstream fields(line);
        std::string id, parent, devno, root, point, options, word;
        if (!(fields >> id >> parent >> devno >> root >> point >> options)) continue;
        while (fields >> word && word != "-") {
        }
        std::string fs_type, source, super_options;
        if (!(fields >> fs_type >> source)) continue;
        fields >> super_options;
        mounts.push_back(MountInfo{unescape_mountinfo(point), unescape_mountinfo(source), fs_type, options,
                                   unescape_mountinfo(super_options)});
    }
    return mounts;
}

namespace {
// Definitely not a mount point, from one statx (STATX_ATTR_MOUNT_ROOT, Linux 5.8+): spares reading
// a thousand-line mountinfo for the common question "is this stopped jail's rootfs mounted?".
// False when unsure (old kernel, or it is a mount root): the caller reads mountinfo.
bool surely_not_mounted(const std::string& path) {
    struct statx st{};
    if (::statx(AT_FDCWD, path.c_str(), AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, STATX_BASIC_STATS, &st) != 0)
        return errno == ENOENT;
    return (st.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) && !(st.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}
}  // namespace

Result<std::optional<MountInfo>> find_mount(const std::string& mount_point) {
    if (surely_not_mounted(mount_point)) return std::nullopt;
    auto mounts = list_mounts();
    if (!mounts) return std::unexpected(mounts.error().context("find mount " + mount_point));
    const std::string wanted = normalize(mount_point);
    std::optional<MountInfo> found;
    for (auto& m : *mounts)
        if (m.mount_point == wanted) found = std::move(m);  // later lines are mounted on top: keep the last
    return found;
}

MountGuard& MountGuard::operator=(MountGuard&& other) noexcept {
    if (this != &other) {
        (void)unmount();
        target_ = std::exchange(other.target_, {});
    }
    return *this;
}

MountGuard::~MountGuard() { (void)unmount(); }

Result<MountGuard> MountGuard::mount(const std::string& device, const std::string& target) {
    if (auto ok = mount_ext4(device, target); !ok) return std::unexpected(ok.error());
    return MountGuard(target);
}

Result<void> MountGuard::unmount() {
    if (target_.empty()) return {};
    auto result = jailctl::unmount(target_);
    if (result) target_.clear();
    return result;
}

}  // namespace jailctl
