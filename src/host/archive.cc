#include "host/archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sched.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "host/ext4.h"
#include "host/jail_fs.h"
#include "host/loop.h"
#include "util/fd.h"
#include "util/progress.h"

namespace jailctl {
namespace {

constexpr size_t kBufSize = 1 << 20;
constexpr size_t kMaxPath = 4096;
constexpr const char* kRootName = "rootfs";

std::unexpected<Error> bad_entry(const std::string& path, const std::string& why) {
    return fail_input("archive entry '" + path + "'", why);
}

// ---- libarchive owners
struct ReadDeleter {
    void operator()(archive* a) const { archive_read_free(a); }
};
struct WriteDeleter {
    void operator()(archive* a) const { archive_write_free(a); }
};
struct EntryDeleter {
    void operator()(archive_entry* e) const { archive_entry_free(e); }
};
using ReadArchive = std::unique_ptr<archive, ReadDeleter>;
using WriteArchive = std::unique_ptr<archive, WriteDeleter>;
using Entry = std::unique_ptr<archive_entry, EntryDeleter>;

std::string archive_message(archive* a) {
    const char* s = archive_error_string(a);
    return s ? s : "unknown libarchive error";
}

Result<ReadArchive> open_read(int fd, const std::string& path) {
    ReadArchive a(archive_read_new());
    archive_read_support_filter_zstd(a.get());
    archive_read_support_format_tar(a.get());
    if (::lseek(fd, 0, SEEK_SET) != 0) return fail_errno("seek " + path, errno);
    if (archive_read_open_fd(a.get(), fd, kBufSize) != ARCHIVE_OK)
        return fail_input("archive", path + ": " + archive_message(a.get()));
    return a;
}

EntryMeta meta_of(archive_entry* e) {
    EntryMeta m;
    const char* p = archive_entry_pathname(e);
    m.path = p ? p : "";
    if (archive_entry_hardlink(e)) {
        m.type = EntryType::Hardlink;
        m.link_target = archive_entry_hardlink(e);
    } else {
        switch (archive_entry_filetype(e)) {
        case AE_IFREG: m.type = EntryType::File; break;
        case AE_IFDIR: m.type = EntryType::Dir; break;
        case AE_IFLNK:
            m.type = EntryType::Symlink;
            m.link_target = archive_entry_symlink(e) ? archive_entry_symlink(e) : "";
            break;
        default: m.type = EntryType::Other;
        }
    }
    m.mode = archive_entry_perm(e) & 07777;
    m.uid = archive_entry_uid(e);
    m.gid = archive_entry_gid(e);
    m.size = archive_entry_size_is_set(e) ? archive_entry_size(e) : 0;
    m.mtime = archive_entry_mtime(e);
    return m;
}

std::string dirname_of(const std::string& p) {
    auto slash = p.rfind('/');
    return slash == std::string::npos ? "" : p.substr(0, slash);
}
std::string basename_of(const std::string& p) {
    auto slash = p.rfind('/');
    return slash == std::string::npos ? p : p.substr(slash + 1);
}

uint64_t round_block(uint64_t n) { return (n + 4095) / 4096 * 4096; }

Result<Manifest> read_manifest_entry(archive* a, const std::string& path) {
    archive_entry* e = nullptr;
    int rc = archive_read_next_header(a, &e);
    if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN)
        return fail_input("archive", path + ": " + (rc == ARCHIVE_EOF ? "empty" : archive_message(a)));
    if (std::string(archive_entry_pathname(e) ? archive_entry_pathname(e) : "") != "manifest.json" ||
        archive_entry_filetype(e) != AE_IFREG)
        return fail_input("archive", path + ": the first entry is not manifest.json (not a jailctl archive)");
    if (archive_entry_size(e) > static_cast<int64_t>(kMaxManifestBytes))
        return fail_input("archive", path + ": manifest.json is larger than 64 KiB");
    std::string text(static_cast<size_t>(archive_entry_size(e)), '\0');
    la_ssize_t n = archive_read_data(a, text.data(), text.size());
    if (n < 0 || static_cast<size_t>(n) != text.size())
        return fail_input("archive", path + ": manifest.json: " + archive_message(a));
    auto m = parse_manifest(text);
    if (!m) return std::unexpected(m.error().context("archive " + path));
    return m;
}

// ---- writing (runs in the child that owns the private mount)

struct Walker {
    archive* a;
    uint32_t id_base;
    ContentDigest& digest;
    ArchiveStats& stats;
    Progress& progress;
    std::vector<char> buf = std::vector<char>(kBufSize);
    std::string shadow, certificate;  // captured while archiving (bounded)

    int64_t jail_id(uint32_t host_id) {
        if (host_id >= id_base && host_id - id_base < kJailIdCount) return host_id - id_base;
        ++stats.unmapped_ids;
        return kOverflowId;
    }

    Result<void> write_header(const std::string& rel, const struct stat& st, EntryType type,
                              const std::string& link = "") {
        EntryMeta m;
        m.type = type;
        m.mode = st.st_mode & 07777;
        if (m.mode & (S_ISUID | S_ISGID)) {
            m.mode &= ~static_cast<uint32_t>(S_ISUID | S_ISGID);
            ++stats.stripped_setid;
        }
        m.uid = jail_id(st.st_uid);
        m.gid = jail_id(st.st_gid);
        m.size = type == EntryType::File ? st.st_size : 0;
        m.mtime = st.st_mtim.tv_sec;
        m.link_target = link;
        m.path = rel.empty() ? kRootName : std::string(kRootName) + "/" + rel;
        digest.add_entry(rel, m);

        Entry e(archive_entry_new());
        archive_entry_set_pathname(e.get(), m.path.c_str());
        archive_entry_set_filetype(e.get(), type == EntryType::Dir ? AE_IFDIR
                                            : type == EntryType::Symlink ? AE_IFLNK : AE_IFREG);
        archive_entry_set_perm(e.get(), m.mode);
        archive_entry_set_uid(e.get(), m.uid);
        archive_entry_set_gid(e.get(), m.gid);
        archive_entry_set_size(e.get(), m.size);
        archive_entry_set_mtime(e.get(), st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
        if (type == EntryType::Symlink) archive_entry_set_symlink(e.get(), link.c_str());
        if (archive_write_header(a, e.get()) != ARCHIVE_OK)
            return fail("archive " + m.path + ": " + archive_message(a));
        ++stats.entries;
        return {};
    }

    Result<void> write_file(int dfd, const std::string& name, const std::string& rel, const struct stat& st) {
        Fd fd(::openat(dfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC));
        if (!fd.valid()) return fail_errno("open " + rel + " in the snapshot", errno);
        if (auto r = write_header(rel, st, EntryType::File); !r) return r;
        std::string* capture = nullptr;
        if (st.st_size <= 65536) capture = rel == "etc/shadow" ? &shadow : rel == "etc/ssl/jailctl/ftp.crt" ? &certificate : nullptr;
        int64_t left = st.st_size;
        while (left > 0) {
            ssize_t n = ::read(fd.get(), buf.data(), std::min<int64_t>(left, static_cast<int64_t>(buf.size())));
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) return fail_errno("read " + rel + " in the snapshot", errno);
            if (n == 0) return fail("read " + rel + " in the snapshot: file shorter than its size");
            digest.add_data(buf.data(), static_cast<size_t>(n));
            if (capture) capture->append(buf.data(), static_cast<size_t>(n));
            if (archive_write_data(a, buf.data(), static_cast<size_t>(n)) != n)
                return fail("archive " + rel + ": " + archive_message(a));
            left -= n;
            stats.file_bytes += static_cast<uint64_t>(n);
            progress.add(static_cast<uint64_t>(n));
        }
        return {};
    }

    // Children of the directory `dfd` (jail path `rel`), depth-first, names sorted.
    Result<void> walk(int dfd, const std::string& rel) {
        std::vector<std::string> names;
        {
            int dup = ::fcntl(dfd, F_DUPFD_CLOEXEC, 0);
            DIR* dir = dup >= 0 ? ::fdopendir(dup) : nullptr;
            if (!dir) {
                if (dup >= 0) ::close(dup);
                return fail_errno("list " + (rel.empty() ? "/" : rel) + " in the snapshot", errno);
            }
            while (dirent* d = ::readdir(dir)) {
                std::string n = d->d_name;
                if (n != "." && n != "..") names.push_back(std::move(n));
            }
            ::closedir(dir);
        }
        std::sort(names.begin(), names.end());
        for (const auto& name : names) {
            std::string child = rel.empty() ? name : rel + "/" + name;
            struct stat st {};
            if (::fstatat(dfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
                return fail_errno("stat " + child + " in the snapshot", errno);
            if (S_ISDIR(st.st_mode)) {
                if (auto r = write_header(child, st, EntryType::Dir); !r) return r;
                Fd sub(::openat(dfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
                if (!sub.valid()) return fail_errno("open " + child + " in the snapshot", errno);
                if (auto r = walk(sub.get(), child); !r) return r;
            } else if (S_ISREG(st.st_mode)) {
                if (auto r = write_file(dfd, name, child, st); !r) return r;
            } else if (S_ISLNK(st.st_mode)) {
                std::string target(kMaxPath + 1, '\0');
                ssize_t n = ::readlinkat(dfd, name.c_str(), target.data(), target.size());
                if (n < 0) return fail_errno("read link " + child + " in the snapshot", errno);
                target.resize(static_cast<size_t>(n));
                if (auto r = write_header(child, st, EntryType::Symlink, target); !r) return r;
            } else {
                ++stats.skipped_special;
            }
        }
        return {};
    }
};

// The child's work: private mount namespace, read-only loop + mount, walk, write the body.
// `progress_label`: the verb shown on a terminal's progress line ("" = none).
Result<ArchiveStats> archive_body(const std::string& image, const std::string& mnt, uint32_t id_base, int out_fd,
                                  const std::string& progress_label) {
    if (::unshare(CLONE_NEWNS) != 0) return fail_errno("unshare the mount namespace", errno);
    if (::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
        return fail_errno("make the mount namespace private", errno);
    auto loop = LoopDevice::attach(image, true);
    if (!loop) return std::unexpected(loop.error());
    // Buffered, not direct I/O, for this one read-only pass: the snapshot was just written
    // through the page cache, and the walk's many small reads would each wait for the disk.
    if (loop->direct_io()) {
        Fd dev(::open(loop->path().c_str(), O_RDONLY | O_CLOEXEC));
        if (dev.valid()) (void)::ioctl(dev.get(), LOOP_SET_DIRECT_IO, 0UL);
    }
    if (::mount(loop->path().c_str(), mnt.c_str(), "ext4", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "noload") != 0)
        return fail_errno("mount " + image + " read-only on " + mnt, errno);
    struct Unmount {
        std::string m;
        ~Unmount() { ::umount2(m.c_str(), MNT_DETACH); }
    } unmount_guard{mnt};

    Fd root(::open(mnt.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!root.valid()) return fail_errno("open " + mnt, errno);
    struct statvfs vfs {};
    uint64_t used = 0;
    if (::fstatvfs(root.get(), &vfs) == 0) used = (vfs.f_blocks - vfs.f_bfree) * vfs.f_frsize;
    struct rlimit lim {};  // one fd per directory level of a deep tree
    if (::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
        lim.rlim_cur = lim.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &lim);
    }

    WriteArchive a(archive_write_new());
    archive_write_set_format_pax_restricted(a.get());
    archive_write_set_bytes_per_block(a.get(), 1 << 20);
    archive_write_set_bytes_in_last_block(a.get(), 1);
    archive_write_add_filter_zstd(a.get());
    (void)archive_write_set_filter_option(a.get(), "zstd", "compression-level", "3");
    (void)archive_write_set_filter_option(a.get(), "zstd", "threads", "2");
    if (archive_write_open_fd(a.get(), out_fd) != ARCHIVE_OK) return fail("start the archive: " + archive_message(a.get()));

    ContentDigest digest;
    ArchiveStats stats;
    Progress progress(!progress_label.empty(), progress_label, used);
    Walker w{a.get(), id_base, digest, stats, progress};
    struct stat st {};
    if (::fstat(root.get(), &st) != 0) return fail_errno("stat " + mnt, errno);
    if (auto r = w.write_header("", st, EntryType::Dir); !r) return std::unexpected(r.error());
    if (auto r = w.walk(root.get(), ""); !r) return std::unexpected(r.error());
    if (archive_write_close(a.get()) != ARCHIVE_OK) return fail("finish the archive: " + archive_message(a.get()));
    stats.content_sha256 = digest.hex();
    stats.ftp_password_hash = std::move(w.shadow);  // the whole file; the parent picks the line
    stats.certificate_pem = std::move(w.certificate);
    return stats;
}

// Runs archive_body in a child; its result comes back as one line on a pipe.
Result<ArchiveStats> archive_body_in_child(const std::string& image, const std::string& mnt, uint32_t id_base,
                                           int out_fd, const std::string& progress_label) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return fail_errno("pipe", errno);
    Fd rd(p[0]), wr(p[1]);
    pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) return fail_errno("fork the archiver", errno);
    if (pid == 0) {
        // A killed jailctl takes its archiver along (repair then removes the .partial file).
        if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent) ::_exit(1);
        rd.reset();
        auto r = archive_body(image, mnt, id_base, out_fd, progress_label);
        nlohmann::json j;
        if (r)
            j = {{"entries", r->entries},         {"file_bytes", r->file_bytes},
                 {"skipped", r->skipped_special}, {"stripped", r->stripped_setid},
                 {"unmapped", r->unmapped_ids},   {"sha256", r->content_sha256},
                 {"shadow", r->ftp_password_hash}, {"certificate", r->certificate_pem}};
        else
            j = {{"error", r.error().message}};
        std::string msg = j.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
        (void)!::write(wr.get(), msg.data(), msg.size());
        ::_exit(r ? 0 : 1);
    }
    wr.reset();
    std::string msg;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(rd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        msg.append(buf, static_cast<size_t>(n));
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    auto j = nlohmann::json::parse(msg, nullptr, false);
    if (j.is_object() && j.contains("error") && j["error"].is_string()) return fail(j["error"].get<std::string>());
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !j.is_object() || !j.contains("sha256"))
        return fail("the archiver process died (wait status " + std::to_string(status) + ")");
    ArchiveStats s;
    s.entries = j.value("entries", 0ull), s.file_bytes = j.value("file_bytes", 0ull);
    s.skipped_special = j.value("skipped", 0ull), s.stripped_setid = j.value("stripped", 0ull);
    s.unmapped_ids = j.value("unmapped", 0ull);
    s.content_sha256 = j.value("sha256", std::string());
    s.ftp_password_hash = j.value("shadow", std::string());
    s.certificate_pem = j.value("certificate", std::string());
    return s;
}

// tar header + data of manifest.json, without the end-of-archive blocks, compressed as one
// zstd frame with its checksum.
Result<std::string> manifest_frame(const Manifest& m) {
    std::string json = manifest_to_json(m);
    std::vector<char> tar(json.size() + 8192);
    size_t used = 0;
    WriteArchive a(archive_write_new());
    archive_write_set_format_pax_restricted(a.get());
    archive_write_set_bytes_per_block(a.get(), 0);
    if (archive_write_open_memory(a.get(), tar.data(), tar.size(), &used) != ARCHIVE_OK)
        return fail("manifest: " + archive_message(a.get()));
    Entry e(archive_entry_new());
    archive_entry_set_pathname(e.get(), "manifest.json");
    archive_entry_set_filetype(e.get(), AE_IFREG);
    archive_entry_set_perm(e.get(), 0644);
    archive_entry_set_size(e.get(), static_cast<la_int64_t>(json.size()));
    archive_entry_set_mtime(e.get(), ::time(nullptr), 0);
    if (archive_write_header(a.get(), e.get()) != ARCHIVE_OK ||
        archive_write_data(a.get(), json.data(), json.size()) != static_cast<la_ssize_t>(json.size()) ||
        archive_write_close(a.get()) != ARCHIVE_OK)
        return fail("manifest: " + archive_message(a.get()));
    if (used < 1024 + 512 || used % 512 != 0) return fail("manifest: unexpected tar size " + std::to_string(used));
    used -= 1024;  // the end-of-archive blocks: the rootfs entries follow
    std::string frame(ZSTD_compressBound(used), '\0');
    ZSTD_CCtx* cctx = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, 3);
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
    size_t n = ZSTD_compress2(cctx, frame.data(), frame.size(), tar.data(), used);
    ZSTD_freeCCtx(cctx);
    if (ZSTD_isError(n)) return fail(std::string("manifest: zstd: ") + ZSTD_getErrorName(n));
    frame.resize(n);
    return frame;
}

Result<void> write_all_at(int fd, const void* data, size_t n, off_t off, const std::string& path) {
    const char* p = static_cast<const char*>(data);
    while (n > 0) {
        ssize_t w = ::pwrite(fd, p, n, off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return fail_errno("write " + path, errno);
        p += w, n -= static_cast<size_t>(w), off += w;
    }
    return {};
}

Result<void> fsync_dir_of(const std::string& path) {
    std::string dir = dirname_of(path);
    Fd fd(::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd.valid() || ::fsync(fd.get()) != 0) return fail_errno("fsync " + dir, errno);
    return {};
}

}  // namespace

// ---- path and entry rules

Result<std::string> entry_jail_path(const std::string& archive_path, EntryType type) {
    std::string p = archive_path;
    if (p.empty()) return bad_entry(p, "empty path");
    if (p.size() > kMaxPath) return bad_entry(p.substr(0, 64) + "...", "path longer than 4096 bytes");
    if (p.find('\0') != std::string::npos) return bad_entry(p, "NUL byte in the path");
    if (p[0] == '/') return bad_entry(p, "absolute path");
    if (type == EntryType::Dir && p.size() > 1 && p.back() == '/') p.pop_back();
    if (p == kRootName) return std::string();
    if (p.rfind(std::string(kRootName) + "/", 0) != 0) return bad_entry(p, "outside rootfs/");
    std::string rel = p.substr(std::strlen(kRootName) + 1);
    size_t start = 0;
    for (;;) {
        size_t end = rel.find('/', start);
        std::string comp = rel.substr(start, end == std::string::npos ? std::string::npos : end - start);
        if (comp.empty()) return bad_entry(archive_path, "empty path component");
        if (comp == ".") return bad_entry(archive_path, "'.' path component");
        if (comp == "..") return bad_entry(archive_path, "'..' path component (path traversal)");
        if (end == std::string::npos) break;
        start = end + 1;
    }
    return rel;
}

Result<void> check_symlink_target(const std::string& link_path, const std::string& target) {
    if (target.empty()) return bad_entry(link_path, "symlink with an empty target");
    if (target.size() > kMaxPath) return bad_entry(link_path, "symlink target longer than 4096 bytes");
    if (target.find('\0') != std::string::npos) return bad_entry(link_path, "NUL byte in the symlink target");
    // Resolve lexically: an absolute target starts at the jail root, a relative one at the
    // link's directory; ".." may never leave the jail root.
    std::vector<std::string> stack;
    if (target[0] != '/') {
        std::string dir = dirname_of(link_path);
        size_t start = 0;
        while (!dir.empty() && start <= dir.size()) {
            size_t end = dir.find('/', start);
            if (end == std::string::npos) end = dir.size();
            stack.push_back(dir.substr(start, end - start));
            start = end + 1;
        }
    }
    size_t start = 0;
    while (start <= target.size()) {
        size_t end = target.find('/', start);
        if (end == std::string::npos) end = target.size();
        std::string comp = target.substr(start, end - start);
        start = end + 1;
        if (comp.empty() || comp == ".") continue;
        if (comp == "..") {
            if (stack.empty()) return bad_entry(link_path, "symlink to '" + target + "' points outside the jail");
            stack.pop_back();
        } else {
            stack.push_back(comp);
        }
    }
    return {};
}

Result<std::string> EntryChecker::check(const EntryMeta& e) {
    auto rel = entry_jail_path(e.path, e.type);
    if (!rel) return rel;
    switch (e.type) {
    case EntryType::File:
    case EntryType::Dir:
    case EntryType::Symlink: break;
    case EntryType::Hardlink: return bad_entry(e.path, "hard link (not supported in jailctl archives)");
    case EntryType::Other: return bad_entry(e.path, "device node, fifo or socket (not allowed)");
    }
    if (e.mode & (S_ISUID | S_ISGID)) return bad_entry(e.path, "setuid/setgid bit (not allowed)");
    if (e.uid < 0 || e.uid >= kJailIdCount || e.gid < 0 || e.gid >= kJailIdCount)
        return bad_entry(e.path, "owner " + std::to_string(e.uid) + ":" + std::to_string(e.gid) +
                                     " outside the jail's ids 0-65535");
    if (e.size < 0 || (e.type != EntryType::File && e.size != 0)) return bad_entry(e.path, "invalid size");
    if (rel->empty()) {
        if (e.type != EntryType::Dir) return bad_entry(e.path, "the jail root is not a directory");
        if (!dirs_.empty() || !others_.empty()) return bad_entry(e.path, "duplicate jail root");
    } else {
        if (dirs_.empty()) return bad_entry(e.path, "comes before the jail root directory 'rootfs'");
        if (!dirs_.count(dirname_of(*rel))) return bad_entry(e.path, "its parent directory is not in the archive before it");
        if (dirs_.count(*rel) || others_.count(*rel)) return bad_entry(e.path, "duplicate entry");
    }
    if (e.type == EntryType::Symlink)
        if (auto r = check_symlink_target(*rel, e.link_target); !r) return std::unexpected(r.error());
    if (e.type == EntryType::Dir) {
        dirs_.insert(*rel);
        needed_ += 4096;
    } else {
        others_.insert(*rel);
        if (e.type == EntryType::File) {
            needed_ += round_block(static_cast<uint64_t>(e.size));
            file_bytes_ += static_cast<uint64_t>(e.size);
        } else if (e.link_target.size() >= 60) {
            needed_ += 4096;  // not a fast symlink
        }
    }
    ++entries_;
    return rel;
}

uint64_t usable_bytes(uint64_t size) {
    const uint64_t MiB = 1ull << 20;
    uint64_t overhead = ext4_journal_bytes(size) + size / 64 /* inode tables, 256 B per 16 KiB */ + size / 50 /* margin */ + 2 * MiB;
    return size > overhead ? size - overhead : 0;
}

uint64_t inode_count(uint64_t size) { return size / 16384; }

// ---- digest

ContentDigest::ContentDigest() : ctx_(EVP_MD_CTX_new()) {
    EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), EVP_sha256(), nullptr);
}
ContentDigest::~ContentDigest() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }

void ContentDigest::add_entry(const std::string& jail_path, const EntryMeta& e) {
    char type = e.type == EntryType::Dir ? 'd' : e.type == EntryType::Symlink ? 'l' : 'f';
    char head[160];
    int n = std::snprintf(head, sizeof head, "%c %o %lld %lld %lld %lld ", type, e.mode, static_cast<long long>(e.uid),
                          static_cast<long long>(e.gid), static_cast<long long>(e.mtime),
                          static_cast<long long>(e.size));
    add_data(head, static_cast<size_t>(n));
    add_data(jail_path.data(), jail_path.size());
    add_data("", 1);
    add_data(e.link_target.data(), e.link_target.size());
    add_data("", 1);
}

void ContentDigest::add_data(const void* data, size_t n) {
    EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data, n);
}

std::string ContentDigest::hex() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), md, &len);
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned i = 0; i < len; ++i) {
        out += digits[md[i] >> 4];
        out += digits[md[i] & 15];
    }
    return out;
}

// ---- write

Result<ArchiveStats> write_archive(const std::string& image, uint32_t id_base, Manifest manifest,
                                   const std::string& output, bool progress) {
    std::string partial = output + ".partial";
    Fd out(::open(partial.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!out.valid()) return fail_errno("create " + partial, errno);
    struct Remove {
        std::string p;
        bool keep = false;
        ~Remove() {
            if (!keep) ::unlink(p.c_str());
        }
    } remove_partial{partial};
    std::string mnt = output + ".mnt";
    if (::mkdir(mnt.c_str(), 0700) != 0) return fail_errno("create " + mnt, errno);
    struct Rmdir {
        std::string p;
        ~Rmdir() { ::rmdir(p.c_str()); }
    } remove_mnt{mnt};

    if (::lseek(out.get(), static_cast<off_t>(kManifestReserve), SEEK_SET) < 0) return fail_errno("seek " + partial, errno);
    // backup or export, as the manifest says, on the progress line
    auto stats = archive_body_in_child(image, mnt, id_base, out.get(), progress ? manifest.kind : std::string());
    // The child's mount died with its namespace; its loop device detaches itself (autoclear).
    // Make sure before going on: nothing of a backup may outlive it.
    for (int i = 0; i < 100; ++i) {
        auto loops = find_loops_for(image);
        if (loops && loops->empty()) break;
        if (loops && i == 99)
            for (const auto& l : *loops) (void)detach_loop(l.device);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (!stats) return stats;

    // etc/shadow -> the FTP account's hash (field 2 of its line).
    std::string shadow = std::move(stats->ftp_password_hash);
    stats->ftp_password_hash.clear();
    for (size_t pos = 0; pos < shadow.size();) {
        size_t end = shadow.find('\n', pos);
        if (end == std::string::npos) end = shadow.size();
        std::string line = shadow.substr(pos, end - pos);
        pos = end + 1;
        if (line.rfind(manifest.ftp_user + ":", 0) != 0) continue;
        std::string rest = line.substr(manifest.ftp_user.size() + 1);
        stats->ftp_password_hash = rest.substr(0, rest.find(':'));
    }
    manifest.ftp_password_hash = stats->ftp_password_hash;
    if (stats->certificate_pem.rfind("-----BEGIN CERTIFICATE-----", 0) == 0) manifest.certificate_pem = stats->certificate_pem;
    manifest.content_sha256 = stats->content_sha256;
    manifest.entries = stats->entries;
    manifest.file_bytes = stats->file_bytes;
    auto frame = manifest_frame(manifest);
    if (!frame) return std::unexpected(frame.error());
    if (frame->size() + 8 > kManifestReserve) return fail("manifest: compressed manifest larger than the 64 KiB reserved");
    auto skip_len = static_cast<uint32_t>(kManifestReserve - frame->size() - 8);
    unsigned char skip[8] = {0x50, 0x2A, 0x4D, 0x18,  // skippable frame magic 0x184D2A50, little endian
                             static_cast<unsigned char>(skip_len), static_cast<unsigned char>(skip_len >> 8),
                             static_cast<unsigned char>(skip_len >> 16), static_cast<unsigned char>(skip_len >> 24)};
    if (auto r = write_all_at(out.get(), frame->data(), frame->size(), 0, partial); !r) return std::unexpected(r.error());
    if (auto r = write_all_at(out.get(), skip, sizeof skip, static_cast<off_t>(frame->size()), partial); !r)
        return std::unexpected(r.error());
    // The padding of the skippable frame must be bytes a reader sees (zeros): the hole left by
    // the seek reads as zeros, but write them so that the file is not sparse in a copy.
    std::string zeros(skip_len, '\0');
    if (auto r = write_all_at(out.get(), zeros.data(), zeros.size(), static_cast<off_t>(frame->size() + 8), partial); !r)
        return std::unexpected(r.error());
    if (::fsync(out.get()) != 0) return fail_errno("fsync " + partial, errno);
    struct stat st {};
    ::fstat(out.get(), &st);
    stats->archive_bytes = static_cast<uint64_t>(st.st_size);
    out.reset();
    if (::rename(partial.c_str(), output.c_str()) != 0) return fail_errno("rename " + partial + " to " + output, errno);
    remove_partial.keep = true;
    if (auto r = fsync_dir_of(output); !r) return std::unexpected(r.error());
    return stats;
}

// ---- read

Result<Manifest> read_manifest(const std::string& path) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return fail_input("archive", "open " + path + ": " + std::strerror(errno));
    auto a = open_read(fd.get(), path);
    if (!a) return std::unexpected(a.error());
    return read_manifest_entry(a->get(), path);
}

namespace {

// One pass over the archive: `on_entry` gets each checked entry after the manifest and reads
// its data through `read`, which feeds the digest.
using DataSink = std::function<Result<void>(const void*, size_t, int64_t offset)>;
using EntryHandler = std::function<Result<DataSink>(const std::string& rel, const EntryMeta& m)>;

Result<VerifiedArchive> scan(const std::string& path, const std::string& expected_sha, const EntryHandler& handler,
                             const char* what, bool show_progress) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return fail_input("archive", "open " + path + ": " + std::strerror(errno));
    auto a = open_read(fd.get(), path);
    if (!a) return std::unexpected(a.error());
    auto manifest = read_manifest_entry(a->get(), path);
    if (!manifest) return std::unexpected(manifest.error());
    if (!expected_sha.empty() && manifest->content_sha256 != expected_sha)
        return fail_input("archive", path + ": changed since it was verified");
    EntryChecker checker;
    ContentDigest digest;
    Progress progress(show_progress, what, manifest->file_bytes);
    for (;;) {
        archive_entry* e = nullptr;
        int rc = archive_read_next_header(a->get(), &e);
        if (rc == ARCHIVE_EOF) break;
        if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN)
            return fail_input("archive", path + ": corrupted or truncated: " + archive_message(a->get()));
        EntryMeta m = meta_of(e);
        auto rel = checker.check(m);
        if (!rel) return std::unexpected(rel.error());
        digest.add_entry(*rel, m);
        auto sink = handler(*rel, m);
        if (!sink) return std::unexpected(sink.error());
        if (m.type != EntryType::File) continue;
        int64_t got = 0;
        for (;;) {
            const void* buf = nullptr;
            size_t n = 0;
            la_int64_t off = 0;
            int r = archive_read_data_block(a->get(), &buf, &n, &off);
            if (r == ARCHIVE_EOF) break;
            if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
                return fail_input("archive", path + ": corrupted or truncated in " + m.path + ": " +
                                                 archive_message(a->get()));
            if (off != got) return fail_input("archive", path + ": sparse entry " + m.path + " (not a jailctl archive)");
            digest.add_data(buf, n);
            if (*sink)
                if (auto w = (*sink)(buf, n, off); !w) return std::unexpected(w.error());
            got += static_cast<int64_t>(n);
            progress.add(n);
        }
        if (got != m.size) return fail_input("archive", path + ": " + m.path + " is truncated");
        if (*sink)
            if (auto w = (*sink)(nullptr, 0, got); !w) return std::unexpected(w.error());  // end of file
    }
    std::string sha = digest.hex();
    if (sha != manifest->content_sha256)
        return fail_input("archive", path + ": content sha256 " + sha + " does not match the manifest's " +
                                         manifest->content_sha256 + " (corrupted or altered)");
    if (checker.entries() != manifest->entries || checker.file_bytes() != manifest->file_bytes)
        return fail_input("archive", path + ": entry count or size differs from the manifest");
    return VerifiedArchive{*manifest, checker.needed_bytes(), checker.entries()};
}

}  // namespace

Result<VerifiedArchive> verify_archive(const std::string& path, bool progress) {
    return scan(
        path, "", [](const std::string&, const EntryMeta&) -> Result<DataSink> { return DataSink{}; }, "verify",
        progress);
}

Result<ArchiveStats> extract_archive(const std::string& path, const std::string& rootfs, uint32_t id_base,
                                     const std::string& expected_sha256, bool progress) {
    auto root = open_jail_root(rootfs);
    if (!root) return std::unexpected(root.error());
    struct DirTime {
        std::string rel;
        int64_t mtime;
    };
    std::vector<DirTime> dir_times;
    std::string parent_rel = "\x01";  // cache of the last parent directory
    Fd parent;
    Fd current_file;
    std::string current_rel;
    int64_t current_mtime = 0;
    ArchiveStats stats;

    auto open_parent = [&](const std::string& rel) -> Result<int> {
        std::string p = dirname_of(rel);
        if (p != parent_rel || !parent.valid()) {
            auto fd = open_jail_dir(root->get(), p);
            if (!fd) return std::unexpected(fd.error());
            parent = std::move(*fd);
            parent_rel = p;
        }
        return parent.get();
    };

    auto handler = [&](const std::string& rel, const EntryMeta& m) -> Result<DataSink> {
        uid_t uid = static_cast<uid_t>(m.uid) + id_base;
        gid_t gid = static_cast<gid_t>(m.gid) + id_base;
        ++stats.entries;
        if (rel.empty() || m.type == EntryType::Dir) {
            Fd dir;
            if (rel.empty()) {
                dir = Fd(::openat(root->get(), ".", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            } else {
                auto pfd = open_parent(rel);
                if (!pfd) return std::unexpected(pfd.error());
                std::string name = basename_of(rel);
                if (::mkdirat(*pfd, name.c_str(), 0700) != 0 && errno != EEXIST)  // lost+found exists
                    return fail_errno("create directory " + rel + " in the jail", errno);
                dir = Fd(::openat(*pfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            }
            if (!dir.valid()) return fail_errno("open directory /" + rel + " in the jail", errno);
            if (::fchown(dir.get(), uid, gid) != 0 || ::fchmod(dir.get(), m.mode) != 0)
                return fail_errno("set owner and mode of /" + rel + " in the jail", errno);
            dir_times.push_back({rel, m.mtime});
            return DataSink{};
        }
        auto pfd = open_parent(rel);
        if (!pfd) return std::unexpected(pfd.error());
        std::string name = basename_of(rel);
        if (m.type == EntryType::Symlink) {
            if (::symlinkat(m.link_target.c_str(), *pfd, name.c_str()) != 0)
                return fail_errno("create symlink " + rel + " in the jail", errno);
            timespec ts[2] = {{m.mtime, 0}, {m.mtime, 0}};
            if (::fchownat(*pfd, name.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW) != 0 ||
                ::utimensat(*pfd, name.c_str(), ts, AT_SYMLINK_NOFOLLOW) != 0)
                return fail_errno("set owner of symlink " + rel + " in the jail", errno);
            return DataSink{};
        }
        // Regular file: created exclusively (never an existing name, never through a symlink).
        current_file = Fd(::openat(*pfd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
        if (!current_file.valid()) return fail_errno("create " + rel + " in the jail", errno);
        if (::fchown(current_file.get(), uid, gid) != 0 || ::fchmod(current_file.get(), m.mode) != 0)
            return fail_errno("set owner and mode of " + rel + " in the jail", errno);
        current_rel = rel;
        current_mtime = m.mtime;
        return DataSink([&](const void* data, size_t n, int64_t off) -> Result<void> {
            if (data == nullptr) {  // end of the file
                timespec ts[2] = {{current_mtime, 0}, {current_mtime, 0}};
                if (::futimens(current_file.get(), ts) != 0) return fail_errno("set mtime of " + current_rel, errno);
                current_file.reset();
                return {};
            }
            if (auto r = write_all_at(current_file.get(), data, n, off, "/" + current_rel + " in the jail"); !r) return r;
            stats.file_bytes += n;
            return {};
        });
    };
    auto verified = scan(path, expected_sha256, handler, "restore", progress);
    if (!verified) return std::unexpected(verified.error());
    // Directory mtimes last (creating their children changed them), deepest first.
    for (auto it = dir_times.rbegin(); it != dir_times.rend(); ++it) {
        auto fd = it->rel.empty() ? Result<Fd>(Fd(::openat(root->get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)))
                                  : open_jail_dir(root->get(), it->rel, O_RDONLY | O_DIRECTORY);
        if (!fd) return std::unexpected(fd.error());
        timespec ts[2] = {{it->mtime, 0}, {it->mtime, 0}};
        if (::futimens(fd->get(), ts) != 0) return fail_errno("set mtime of /" + it->rel + " in the jail", errno);
    }
    Fd sync_fd(::openat(root->get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!sync_fd.valid() || ::syncfs(sync_fd.get()) != 0) return fail_errno("sync the jail filesystem", errno);
    stats.content_sha256 = verified->manifest.content_sha256;
    return stats;
}

}  // namespace jailctl
