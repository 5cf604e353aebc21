#include "host/archive.h"

#include <archive.h>
#include <archive_entry.h>
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
#include <unistd.h>
#define ZSTD_STATIC_LINKING_ONLY  // ZSTD_writeSkippableFrame (exported by libzstd 1.5, marked experimental)
#include <zstd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <span>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "host/ext4.h"
#include "host/jail_fs.h"
#include "host/loop.h"
#include "util/atomic_file.h"
#include "util/fd.h"
#include "util/progress.h"
#include "util/text.h"

namespace jailctl {
namespace {

constexpr const char* kRootName = "rootfs";
constexpr const char* kInSnapshot = " in the snapshot";

std::unexpected<Error> bad_entry(const std::string& path, const std::string& why) {
    return fail_input("archive entry '" + (path.size() > 256 ? path.substr(0, 64) + "..." : path) + "'", why);
}

// ---- libarchive owners (reading: host/tree.h)
struct WriteDeleter {
    void operator()(archive* a) const { archive_write_free(a); }
};
struct EntryDeleter {
    void operator()(archive_entry* e) const { archive_entry_free(e); }
};
using WriteArchive = std::unique_ptr<archive, WriteDeleter>;
using Entry = std::unique_ptr<archive_entry, EntryDeleter>;

uint64_t round_block(uint64_t n) { return (n + 4095) / 4096 * 4096; }

Result<Manifest> read_manifest_entry(TarReader& tar, const std::string& path) {
    auto e = tar.next();
    if (!e) return std::unexpected(e.error());
    if (!*e) return fail_input("archive", path + ": empty");
    if ((*e)->path != "manifest.json" || (*e)->type != EntryType::File)
        return fail_input("archive", path + ": the first entry is not manifest.json (not a jailctl archive)");
    if ((*e)->size > static_cast<int64_t>(kMaxManifestBytes))
        return fail_input("archive", path + ": manifest.json is larger than 64 KiB");
    std::string text;
    auto read = tar.read_data([&](const DataBlock& b) -> Result<void> {
        if (b.data) text.append(static_cast<const char*>(b.data), b.size);
        else text.append(b.size, '\0');
        return {};
    });
    if (!read) return std::unexpected(read.error());
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
    std::atomic<uint64_t>& consumed;  // file bytes archived so far, for ReadAhead
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

    // One entry met by walk_tree: its header, and a regular file's bytes; special files are skipped.
    Result<void> add(const TreeEntry& t) {
        switch (t.meta.type) {
        case EntryType::Dir:
        case EntryType::Symlink: return write_header(t.meta.path, t.st, t.meta.type, t.meta.link_target);
        case EntryType::File: return write_file(t);
        default: ++stats.skipped_special; return {};
        }
    }

    Result<void> write_file(const TreeEntry& t) {
        const std::string& rel = t.meta.path;
        if (auto r = write_header(rel, t.st, EntryType::File); !r) return r;
        std::string* capture = nullptr;
        if (t.meta.size <= 65536) capture = rel == "etc/shadow" ? &shadow : rel == "etc/ssl/jailctl/ftp.crt" ? &certificate : nullptr;
        return read_tree_file(t, [&](const DataBlock& b) -> Result<void> {
            digest.add_data(b.data, b.size);
            if (capture) capture->append(static_cast<const char*>(b.data), b.size);
            if (archive_write_data(a, b.data, b.size) != static_cast<la_ssize_t>(b.size))
                return fail("archive " + rel + ": " + archive_message(a));
            stats.file_bytes += b.size;
            consumed.store(stats.file_bytes, std::memory_order_relaxed);
            progress.add(b.size);
            return {};
        }, kInSnapshot);
    }
};

// Reads ahead of the archiver: a second walk of the same tree, in the same order, asks the
// kernel for each file's pages (POSIX_FADV_WILLNEED queues the reads, it does not wait for
// them) while the archiver hashes and compresses the files before it, at most kWindow bytes
// ahead. A snapshot's filesystem is freshly mounted, nothing of it cached: without this the
// archiver waits for the disk once per small file, one file at a time. Best effort: its
// errors are the walk's own, which the archiver meets and reports itself.
class ReadAhead {
public:
    ReadAhead(int root, const std::atomic<uint64_t>& consumed)
        : root_(::openat(root, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)), consumed_(consumed), thread_([this] { run(); }) {}
    ~ReadAhead() {
        stop_ = true;
        thread_.join();
    }
    ReadAhead(const ReadAhead&) = delete;
    ReadAhead& operator=(const ReadAhead&) = delete;

private:
    static constexpr uint64_t kWindow = 128ull << 20;

    void run() {
        if (!root_.valid()) return;
        uint64_t issued = 0;
        (void)walk_tree(root_.get(), [&](const TreeEntry& t) -> Result<void> {
            if (stop_) return fail("stopped");
            if (t.meta.type != EntryType::File || t.meta.size == 0) return {};
            while (issued > consumed_.load(std::memory_order_relaxed) + kWindow)
                if (stop_) return fail("stopped");
                else std::this_thread::sleep_for(std::chrono::microseconds(500));
            Fd fd(::openat(t.dir_fd, t.name.c_str(), O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC));
            if (fd.valid()) (void)::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_WILLNEED);
            issued += static_cast<uint64_t>(t.meta.size);
            return {};
        });
    }

    Fd root_;
    const std::atomic<uint64_t>& consumed_;
    std::atomic<bool> stop_{false};
    std::thread thread_;  // last: started once the members it uses exist
};

Result<std::string> manifest_frame(const Manifest& m);
void fill_manifest(Manifest& manifest, ArchiveStats& stats);

// Where libarchive's blocks go. Into a regular file, each 8 MiB written is handed to writeback
// at once (sync_file_range WRITE queues it, without waiting): the fsync that makes the archive
// durable then finds little left to write, instead of the whole archive at the end.
struct Output {
    int fd;
    bool regular = false;
    off_t pos = 0, queued = 0;  // written so far; handed to writeback so far

    static la_ssize_t write(archive* a, void* self, const void* buf, size_t n) {
        auto* out = static_cast<Output*>(self);
        if (auto r = write_all(out->fd, std::string_view(static_cast<const char*>(buf), n), "the archive"); !r) {
            archive_set_error(a, EIO, "%s", r.error().message.c_str());
            return -1;
        }
        out->pos += static_cast<off_t>(n);
        if (out->regular && out->pos - out->queued >= (8 << 20)) {
            (void)::sync_file_range(out->fd, out->queued, out->pos - out->queued, SYNC_FILE_RANGE_WRITE);
            out->queued = out->pos;
        }
        return static_cast<la_ssize_t>(n);
    }
};

// The tree below `root` as the archive's body (the rootfs entries), zstd-compressed into `out_fd`.
Result<ArchiveStats> archive_tree(int root, uint32_t id_base, int out_fd, const std::string& progress_label, uint64_t used) {
    WriteArchive a(archive_write_new());
    archive_write_set_format_pax_restricted(a.get());
    archive_write_set_bytes_per_block(a.get(), 1 << 20);
    archive_write_set_bytes_in_last_block(a.get(), 1);
    archive_write_add_filter_zstd(a.get());
    (void)archive_write_set_filter_option(a.get(), "zstd", "compression-level", "3");
    (void)archive_write_set_filter_option(a.get(), "zstd", "threads", "2");
    Output output{out_fd};
    struct stat out_st {};
    if (::fstat(out_fd, &out_st) == 0 && S_ISREG(out_st.st_mode)) {
        output.regular = true;
        output.pos = output.queued = ::lseek(out_fd, 0, SEEK_CUR);
    }
    if (archive_write_open2(a.get(), &output, nullptr, Output::write, nullptr, nullptr) != ARCHIVE_OK)
        return fail("start the archive: " + archive_message(a.get()));

    ContentDigest digest;
    ArchiveStats stats;
    Progress progress(!progress_label.empty(), progress_label, used);
    std::atomic<uint64_t> consumed{0};
    Walker w{a.get(), id_base, digest, stats, progress, consumed};
    ReadAhead read_ahead(root, consumed);
    struct stat st {};
    if (::fstat(root, &st) != 0) return fail_errno("stat the snapshot's root", errno);
    if (auto r = w.write_header("", st, EntryType::Dir); !r) return std::unexpected(r.error());
    if (auto r = walk_tree(root, [&w](const TreeEntry& t) { return w.add(t); }, kInSnapshot); !r)
        return std::unexpected(r.error());
    if (archive_write_close(a.get()) != ARCHIVE_OK) return fail("finish the archive: " + archive_message(a.get()));
    stats.content_sha256 = digest.hex();
    stats.ftp_password_hash = std::move(w.shadow);  // the whole file; the parent picks the line
    stats.certificate_pem = std::move(w.certificate);
    return stats;
}

// The child's work: private mount namespace, read-only loop + mount, walk, write the body.
// `progress_label`: the verb shown on a terminal's progress line ("" = none). `stream`: the
// manifest of an archive written to a pipe (see write_archive_stream), written first.
Result<ArchiveStats> archive_body(const std::string& image, const std::string& mnt, uint32_t id_base, int out_fd,
                                  const std::string& progress_label, const Manifest* stream) {
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
    if (!stream) return archive_tree(root.get(), id_base, out_fd, progress_label, used);

    // The manifest first, marked streamed (no digest: the tree is read once, as it is sent),
    // with what restore's identity needs from the tree: the FTP account's hash, the FTPS
    // certificate.
    Manifest manifest = *stream;
    manifest.streamed = true;
    ArchiveStats identity;
    identity.ftp_password_hash = read_jail_file(root.get(), "etc/shadow", 65536).value_or("");
    identity.certificate_pem = read_jail_file(root.get(), "etc/ssl/jailctl/ftp.crt", 65536).value_or("");
    fill_manifest(manifest, identity);
    manifest.content_sha256.clear(), manifest.entries = 0, manifest.file_bytes = 0;
    auto frame = manifest_frame(manifest);
    if (!frame) return std::unexpected(frame.error());
    if (auto r = write_all(out_fd, *frame, "the archive stream"); !r) return std::unexpected(r.error());
    auto stats = archive_tree(root.get(), id_base, out_fd, progress_label, used);
    if (stats) stats->ftp_password_hash = std::move(identity.ftp_password_hash);  // already the account's field
    return stats;
}

// Runs archive_body in a child; its result comes back as one line on a pipe.
Result<ArchiveStats> archive_body_in_child(const std::string& image, const std::string& mnt, uint32_t id_base,
                                           int out_fd, const std::string& progress_label, const Manifest* stream) {
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
        auto r = archive_body(image, mnt, id_base, out_fd, progress_label, stream);
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
    if (type == EntryType::Dir && p.size() > 1 && p.back() == '/') p.pop_back();
    auto clean = safe_relative_path(p, PathForm::Canonical);
    if (!clean) return bad_entry(archive_path, clean.error());
    if (p == kRootName) return std::string();
    if (p.rfind(std::string(kRootName) + "/", 0) != 0) return bad_entry(archive_path, "outside rootfs/");
    return p.substr(std::strlen(kRootName) + 1);
}

Result<void> check_symlink_target(const std::string& link_path, const std::string& target) {
    if (target.empty()) return bad_entry(link_path, "symlink with an empty target");
    if (target.size() > kMaxTreePath) return bad_entry(link_path, "symlink target longer than 4096 bytes");
    if (target.find('\0') != std::string::npos) return bad_entry(link_path, "NUL byte in the symlink target");
    // An absolute target starts at the jail root, a relative one at the link's directory.
    if (!symlink_stays_inside(link_path, target))
        return bad_entry(link_path, "symlink to '" + target + "' points outside the jail");
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

// The hashing thread and the chunks it is handed, in order. At most kInFlight chunks wait:
// a caller faster than sha256 waits for it instead of buffering the whole archive.
struct ContentDigest::Hasher {
    static constexpr size_t kChunk = 1 << 20, kInFlight = 8;
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    std::vector<char> filling;  // the caller's current chunk
    std::mutex mutex;
    std::condition_variable changed;
    std::deque<std::vector<char>> full;    // to hash, oldest first
    std::vector<std::vector<char>> spare;  // hashed, for reuse
    bool closing = false;
    std::thread thread;

    Hasher() {
        EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
        filling.reserve(kChunk);
        thread = std::thread([this] { run(); });
    }
    ~Hasher() {
        close();
        EVP_MD_CTX_free(ctx);
    }
    void run() {
        std::unique_lock lock(mutex);
        for (;;) {
            changed.wait(lock, [this] { return closing || !full.empty(); });
            if (full.empty()) return;  // closing, all hashed
            std::vector<char> chunk = std::move(full.front());
            full.pop_front();
            lock.unlock();
            EVP_DigestUpdate(ctx, chunk.data(), chunk.size());
            chunk.clear();
            lock.lock();
            spare.push_back(std::move(chunk));
            changed.notify_all();
        }
    }
    void hand_over() {
        std::unique_lock lock(mutex);
        changed.wait(lock, [this] { return full.size() < kInFlight; });
        full.push_back(std::move(filling));
        if (!spare.empty()) {
            filling = std::move(spare.back());
            spare.pop_back();
        } else {
            filling = {};
            filling.reserve(kChunk);
        }
        changed.notify_all();
    }
    void add(const char* data, size_t n) {
        while (n > 0) {
            size_t take = std::min(n, kChunk - filling.size());
            filling.insert(filling.end(), data, data + take);
            data += take, n -= take;
            if (filling.size() == kChunk) hand_over();
        }
    }
    void close() {  // everything added is hashed once this returns
        if (!thread.joinable()) return;
        if (!filling.empty()) hand_over();
        {
            std::lock_guard lock(mutex);
            closing = true;
        }
        changed.notify_all();
        thread.join();
    }
};

ContentDigest::ContentDigest() : hasher_(std::make_unique<Hasher>()) {}
ContentDigest::~ContentDigest() = default;

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

void ContentDigest::add_data(const void* data, size_t n) { hasher_->add(static_cast<const char*>(data), n); }

void ContentDigest::add_data(const DataBlock& block) {
    if (block.data) return add_data(block.data, block.size);
    static const std::vector<char> zeros(1 << 16);  // a hole of a sparse entry: its zeros
    for (size_t left = block.size; left > 0;) {
        size_t n = std::min(left, zeros.size());
        add_data(zeros.data(), n);
        left -= n;
    }
}

std::string ContentDigest::hex() {
    hasher_->close();
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(hasher_->ctx, md, &len);
    return jailctl::hex(std::span<const unsigned char>(md, len));
}

namespace {

// The manifest's content fields from the archiver's stats: etc/shadow -> the FTP account's
// hash (field 2 of its line), the FTPS certificate, the digest and counts.
void fill_manifest(Manifest& manifest, ArchiveStats& stats) {
    std::string shadow = std::move(stats.ftp_password_hash);
    stats.ftp_password_hash.clear();
    for (size_t pos = 0; pos < shadow.size();) {
        size_t end = shadow.find('\n', pos);
        if (end == std::string::npos) end = shadow.size();
        std::string line = shadow.substr(pos, end - pos);
        pos = end + 1;
        if (line.rfind(manifest.ftp_user + ":", 0) != 0) continue;
        std::string rest = line.substr(manifest.ftp_user.size() + 1);
        stats.ftp_password_hash = rest.substr(0, rest.find(':'));
    }
    manifest.ftp_password_hash = stats.ftp_password_hash;
    if (stats.certificate_pem.rfind("-----BEGIN CERTIFICATE-----", 0) == 0) manifest.certificate_pem = stats.certificate_pem;
    manifest.content_sha256 = stats.content_sha256;
    manifest.entries = stats.entries;
    manifest.file_bytes = stats.file_bytes;
}

// archive_body_in_child, then the wait for its loop device to be gone: nothing of an archive
// run may outlive it.
Result<ArchiveStats> archive_image(const std::string& image, const std::string& mnt, uint32_t id_base, int out_fd,
                                   const std::string& progress_label, const Manifest* stream = nullptr) {
    auto stats = archive_body_in_child(image, mnt, id_base, out_fd, progress_label, stream);
    // The child's mount died with its namespace; its loop device detaches itself (autoclear).
    for (int i = 0; i < 100; ++i) {
        auto loops = find_loops_for(image);
        if (loops && loops->empty()) break;
        if (loops && i == 99)
            for (const auto& l : *loops) (void)detach_loop(l.device);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return stats;
}

struct ScratchDir {
    std::string p;
    ~ScratchDir() { ::rmdir(p.c_str()); }
};

}  // namespace

// ---- write

Result<ArchiveStats> write_archive(const std::string& image, uint32_t id_base, Manifest manifest,
                                   const std::string& output, bool progress, const std::function<void()>& release_image) {
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
    ScratchDir remove_mnt{mnt};

    if (::lseek(out.get(), static_cast<off_t>(kManifestReserve), SEEK_SET) < 0) return fail_errno("seek " + partial, errno);
    // backup or export, as the manifest says, on the progress line
    auto stats = archive_image(image, mnt, id_base, out.get(), progress ? manifest.kind : std::string());
    std::jthread release;  // joined on every return below
    if (release_image) release = std::jthread(release_image);
    if (!stats) return stats;
    fill_manifest(manifest, *stats);
    auto frame = manifest_frame(manifest);
    if (!frame) return std::unexpected(frame.error());
    if (frame->size() + 8 > kManifestReserve) return fail("manifest: compressed manifest larger than the 64 KiB reserved");
    // The rest of the reserved space is a skippable frame of zeros, which every zstd decoder
    // ignores; its padding is written (not left as a hole) so that a copy of the file is not sparse.
    const std::string zeros(kManifestReserve - frame->size() - 8, '\0');
    std::string padding(zeros.size() + 8, '\0');
    size_t skip = ZSTD_writeSkippableFrame(padding.data(), padding.size(), zeros.data(), zeros.size(), 0);
    if (ZSTD_isError(skip)) return fail(std::string("manifest: zstd skippable frame: ") + ZSTD_getErrorName(skip));
    if (auto r = write_all_at(out.get(), frame->data(), frame->size(), 0, partial); !r) return std::unexpected(r.error());
    if (auto r = write_all_at(out.get(), padding.data(), skip, static_cast<off_t>(frame->size()), partial); !r)
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

Result<ArchiveStats> write_archive_stream(const std::string& image, uint32_t id_base, Manifest manifest, int out_fd,
                                          const std::string& mnt, bool progress) {
    if (::mkdir(mnt.c_str(), 0700) != 0) return fail_errno("create " + mnt, errno);
    ScratchDir remove_mnt{mnt};
    auto stats = archive_image(image, mnt, id_base, out_fd, progress ? manifest.kind : std::string(), &manifest);
    if (stats) fill_manifest(manifest, *stats);  // the FTP account's hash, as write_archive's stats have it
    return stats;
}

// ---- read

namespace {

Result<TarReader> open_archive(const std::string& path, Fd& fd) {
    fd = Fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return fail_input("archive", "open " + path + ": " + std::strerror(errno));
    return TarReader::open(fd.get(), path, TarReader::Filters::Zstd, "archive");
}

}  // namespace

Result<Manifest> read_manifest(const std::string& path) {
    Fd fd;
    auto tar = open_archive(path, fd);
    if (!tar) return std::unexpected(tar.error());
    return read_manifest_entry(*tar, path);
}

namespace {

// What happens to a regular file's data while scanning: each block, then the end (its size).
struct FileSink {
    DataSink block;
    std::function<Result<void>(int64_t size)> end;
};
// Called with each checked entry after the manifest; a FileSink for a file whose data is wanted.
using EntryHandler = std::function<Result<std::optional<FileSink>>(const std::string& rel, const EntryMeta& m)>;

// The entries after the manifest, in one pass: every entry checked and digested, then handed
// to `handler`; the digest, count and size checked against `manifest` at the end.
Result<VerifiedArchive> scan_entries(TarReader& tar, const Manifest& manifest, const std::string& path,
                                     const EntryHandler& handler, const char* what, bool show_progress) {
    const auto differs = [&] { return fail_input("archive", path + ": entry count or size differs from the manifest"); };
    EntryChecker checker;
    ContentDigest digest;
    Progress progress(show_progress, what, manifest.file_bytes);
    for (;;) {
        auto next = tar.next();
        if (!next) return std::unexpected(next.error());
        if (!*next) break;
        const EntryMeta& m = **next;
        auto rel = checker.check(m);
        if (!rel) return std::unexpected(rel.error());
        // Before reading: a (sparse) entry larger than the manifest says is not hashed for nothing.
        if (!manifest.streamed && checker.file_bytes() > manifest.file_bytes) return differs();
        digest.add_entry(*rel, m);
        auto sink = handler(*rel, m);
        if (!sink) return std::unexpected(sink.error());
        if (m.type != EntryType::File) continue;
        auto size = tar.read_data([&](const DataBlock& b) -> Result<void> {
            digest.add_data(b);
            if (*sink)
                if (auto w = (*sink)->block(b); !w) return w;
            progress.add(b.size);
            return {};
        });
        if (!size) return std::unexpected(size.error());
        if (*sink)
            if (auto w = (*sink)->end(*size); !w) return std::unexpected(w.error());
    }
    std::string sha = digest.hex();
    if (manifest.streamed) return VerifiedArchive{manifest, checker.needed_bytes(), checker.entries()};
    if (sha != manifest.content_sha256)
        return fail_input("archive", path + ": content sha256 " + sha + " does not match the manifest's " +
                                         manifest.content_sha256 + " (corrupted or altered)");
    if (checker.entries() != manifest.entries || checker.file_bytes() != manifest.file_bytes) return differs();
    return VerifiedArchive{manifest, checker.needed_bytes(), checker.entries()};
}

// One pass over the archive file `path`: its manifest, then scan_entries.
Result<VerifiedArchive> scan(const std::string& path, const std::string& expected_sha, const EntryHandler& handler,
                             const char* what, bool show_progress) {
    Fd fd;
    auto tar = open_archive(path, fd);
    if (!tar) return std::unexpected(tar.error());
    auto manifest = read_manifest_entry(*tar, path);
    if (!manifest) return std::unexpected(manifest.error());
    if (manifest->streamed)
        return fail_input("archive", path + ": was written to a stream (no content digest): only an import from that "
                                            "stream reads it; export to a file instead");
    if (!expected_sha.empty() && manifest->content_sha256 != expected_sha)
        return fail_input("archive", path + ": changed since it was verified");
    return scan_entries(*tar, *manifest, path, handler, what, show_progress);
}

}  // namespace

Result<VerifiedArchive> verify_archive(const std::string& path, bool progress) {
    return scan(
        path, "", [](const std::string&, const EntryMeta&) -> Result<std::optional<FileSink>> { return std::nullopt; },
        "verify", progress);
}

namespace {

// Extracts what `scanner` hands over (see extract_archive) into the jail root `rootfs`.
Result<ArchiveStats> extract_with(const std::string& rootfs, uint32_t id_base,
                                  const std::function<Result<VerifiedArchive>(const EntryHandler&)>& scanner, bool sync) {
    auto root = open_jail_root(rootfs);
    if (!root) return std::unexpected(root.error());
    TreeWriter writer(root->get(), "", TreeWriter::Existing::Refuse);
    struct DirTime {
        std::string rel;
        int64_t mtime;
    };
    std::vector<DirTime> dir_times;
    Fd file;  // the regular file being written
    ArchiveStats stats;

    auto handler = [&](const std::string& rel, const EntryMeta& m) -> Result<std::optional<FileSink>> {
        const Owner owner{static_cast<uid_t>(m.uid) + id_base, static_cast<gid_t>(m.gid) + id_base};
        ++stats.entries;
        if (m.type == EntryType::Dir) {  // the jail root ("") included: the checker saw to it
            auto dir = writer.make_dir(rel, owner, m.mode);
            if (!dir) return std::unexpected(dir.error());
            dir_times.push_back({rel, m.mtime});
            return std::nullopt;
        }
        if (m.type == EntryType::Symlink) {
            if (auto r = writer.symlink(rel, m.link_target, owner, m.mtime); !r) return std::unexpected(r.error());
            return std::nullopt;
        }
        // Regular file: created exclusively (never an existing name, never through a symlink).
        auto created = writer.create_file(rel, owner, m.mode);
        if (!created) return std::unexpected(created.error());
        file = std::move(*created);
        return FileSink{[&, rel](const DataBlock& b) -> Result<void> {
                            stats.file_bytes += b.size;
                            return writer.write_block(file.get(), rel, b);
                        },
                        [&, rel, mtime = m.mtime](int64_t size) -> Result<void> {
                            auto done = writer.finish_file(file.get(), rel, size, mtime);
                            file.reset();
                            return done;
                        }};
    };
    auto verified = scanner(handler);
    if (!verified) return std::unexpected(verified.error());
    // Directory mtimes last (creating their children changed them), deepest first.
    for (auto it = dir_times.rbegin(); it != dir_times.rend(); ++it) {
        auto fd = writer.open_dir(it->rel);
        if (!fd) return std::unexpected(fd.error());
        timespec ts[2] = {{it->mtime, 0}, {it->mtime, 0}};
        if (::futimens(fd->get(), ts) != 0) return fail_errno("set mtime of /" + it->rel + " in the jail", errno);
    }
    if (sync)
        if (auto r = sync_jail_tree(rootfs); !r) return std::unexpected(r.error());
    stats.content_sha256 = verified->manifest.content_sha256;
    return stats;
}

}  // namespace

Result<ArchiveStats> extract_archive(const std::string& path, const std::string& rootfs, uint32_t id_base,
                                     const std::string& expected_sha256, bool progress) {
    return extract_with(rootfs, id_base, [&](const EntryHandler& handler) {
        return scan(path, expected_sha256, handler, "restore", progress);
    }, true);
}

Result<void> sync_jail_tree(const std::string& rootfs) {
    Fd fd(::open(rootfs.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid() || ::syncfs(fd.get()) != 0) return fail_errno("sync the jail filesystem " + rootfs, errno);
    return {};
}

Result<ArchiveStream> open_archive_stream(int fd, const std::string& name) {
    auto tar = TarReader::open(fd, name, TarReader::Filters::Zstd, "archive");
    if (!tar) return std::unexpected(tar.error());
    auto manifest = read_manifest_entry(*tar, name);
    if (!manifest) return std::unexpected(manifest.error());
    return ArchiveStream{name, std::move(*tar), std::move(*manifest)};
}

Result<ArchiveStats> extract_archive_stream(ArchiveStream& in, const std::string& rootfs, uint32_t id_base, bool progress) {
    return extract_with(rootfs, id_base, [&](const EntryHandler& handler) {
        return scan_entries(in.tar, in.manifest, in.name, handler, "import", progress);
    }, false);
}

}  // namespace jailctl
