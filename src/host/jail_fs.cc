#include "host/jail_fs.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <random>

namespace jailctl {
namespace {

constexpr uint64_t kResolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;

int openat2_in_root(int root_fd, const std::string& rel, int flags, mode_t mode = 0) {
    open_how how{};
    how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
    how.mode = (flags & O_CREAT) ? mode : 0;
    how.resolve = kResolve;
    return static_cast<int>(syscall(SYS_openat2, root_fd, rel.empty() ? "." : rel.c_str(), &how, sizeof how));
}

std::pair<std::string, std::string> split(const std::string& rel_path) {
    auto slash = rel_path.rfind('/');
    if (slash == std::string::npos) return {"", rel_path};
    return {rel_path.substr(0, slash), rel_path.substr(slash + 1)};
}

std::string temp_name(const std::string& base) {
    static std::mt19937_64 gen{std::random_device{}()};  // uniqueness only, not secrecy
    return "." + base + ".jailctl-" + std::to_string(gen() % 1000000000);
}

}  // namespace

Result<Fd> open_jail_root(const std::string& rootfs) {
    int fd = ::open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return fail_errno("open jail root " + rootfs, errno);
    return Fd(fd);
}

Result<Fd> open_jail_dir(int root_fd, const std::string& rel_dir, int flags) {
    int fd = openat2_in_root(root_fd, rel_dir, flags);
    if (fd < 0) return fail_errno("open /" + rel_dir + " in the jail", errno);
    return Fd(fd);
}

namespace {
// The customer filled the disk (no root reserve: the quota is theirs): what frees it.
std::string full_disk_hint(int err) {
    return err == ENOSPC || err == EDQUOT ? " (the jail's disk is full: jailctl grow it, or the customer deletes files)" : "";
}
}  // namespace

Result<void> write_jail_file(int root_fd, const std::string& rel_path, const std::string& content, mode_t mode,
                             uid_t uid, gid_t gid, uint32_t id_base) {
    auto [dir, base] = split(rel_path);
    auto dir_fd = open_jail_dir(root_fd, dir, O_RDONLY | O_DIRECTORY);
    if (!dir_fd) return std::unexpected(dir_fd.error());
    std::string tmp = temp_name(base);
    Fd fd(::openat(dir_fd->get(), tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (const int err = errno; !fd.valid()) return fail_errno("create /" + rel_path + " in the jail" + full_disk_hint(err), err);
    auto cleanup_fail = [&](const std::string& what, int err) {
        ::unlinkat(dir_fd->get(), tmp.c_str(), 0);
        return fail_errno(what + " /" + rel_path + " in the jail" + full_disk_hint(err), err);
    };
    for (size_t off = 0; off < content.size();) {
        ssize_t n = ::write(fd.get(), content.data() + off, content.size() - off);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return cleanup_fail("write", errno);
        off += static_cast<size_t>(n);
    }
    if (::fchown(fd.get(), id_base + uid, id_base + gid) != 0) return cleanup_fail("chown", errno);
    if (::fchmod(fd.get(), mode) != 0) return cleanup_fail("chmod", errno);
    if (::renameat(dir_fd->get(), tmp.c_str(), dir_fd->get(), base.c_str()) != 0)
        return cleanup_fail("install", errno);
    return {};
}

Result<std::string> read_jail_file(int root_fd, const std::string& rel_path, size_t max_bytes) {
    int raw = openat2_in_root(root_fd, rel_path, O_RDONLY | O_NOFOLLOW);
    if (raw < 0) return fail_errno("open /" + rel_path + " in the jail", errno);
    Fd fd(raw);
    std::string out;
    char buf[8192];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail_errno("read /" + rel_path + " in the jail", errno);
        if (n == 0) break;
        out.append(buf, static_cast<size_t>(n));
        if (out.size() > max_bytes) return fail("read /" + rel_path + " in the jail: larger than expected");
    }
    return out;
}

Result<void> remove_jail_file(int root_fd, const std::string& rel_path) {
    auto [dir, base] = split(rel_path);
    auto dir_fd = open_jail_dir(root_fd, dir, O_RDONLY | O_DIRECTORY);
    if (!dir_fd) return errno == ENOENT ? Result<void>{} : std::unexpected(dir_fd.error());
    if (::unlinkat(dir_fd->get(), base.c_str(), 0) != 0 && errno != ENOENT)
        return fail_errno("remove /" + rel_path + " in the jail", errno);
    return {};
}

Result<void> make_jail_dir(int root_fd, const JailDir& d, uint32_t id_base, bool keep_existing) {
    auto [parent, base] = split(d.path);
    auto parent_fd = open_jail_dir(root_fd, parent, O_RDONLY | O_DIRECTORY);
    if (!parent_fd) return std::unexpected(parent_fd.error());
    if (::mkdirat(parent_fd->get(), base.c_str(), 0700) != 0) {
        if (errno != EEXIST) return fail_errno("create directory /" + d.path + " in the jail", errno);
        if (keep_existing) return {};
    }
    Fd dir(::openat(parent_fd->get(), base.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dir.valid()) return fail_errno("open directory /" + d.path + " in the jail", errno);
    if (::fchown(dir.get(), id_base + d.uid, id_base + d.gid) != 0 || ::fchmod(dir.get(), d.mode) != 0)
        return fail_errno("set owner and mode of /" + d.path + " in the jail", errno);
    return {};
}

Result<void> write_jail_tree(const std::string& rootfs, const JailTree& tree, uint32_t id_base) {
    auto root = open_jail_root(rootfs);
    if (!root) return std::unexpected(root.error());
    for (const auto& d : tree.dirs)
        if (auto r = make_jail_dir(root->get(), d, id_base); !r) return r;
    for (const auto& f : tree.files) {
        if (auto r = write_jail_file(root->get(), f.path, f.content, f.mode, f.uid, f.gid, id_base); !r) return r;
    }
    for (const auto& l : tree.links) {
        auto [parent, base] = split(l.path);
        auto parent_fd = open_jail_dir(root->get(), parent, O_RDONLY | O_DIRECTORY);
        if (!parent_fd) return std::unexpected(parent_fd.error());
        if (::symlinkat(l.target.c_str(), parent_fd->get(), base.c_str()) != 0)
            return fail_errno("create link /" + l.path + " in the jail", errno);
        if (::fchownat(parent_fd->get(), base.c_str(), id_base, id_base, AT_SYMLINK_NOFOLLOW) != 0)
            return fail_errno("chown link /" + l.path + " in the jail", errno);
    }
    return {};
}

}  // namespace jailctl
