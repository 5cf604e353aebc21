#include "host/tree.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "host/jail_fs.h"

namespace jailctl {
namespace {

constexpr size_t kReadBlock = 1 << 20;

}  // namespace

// ---- names

std::vector<std::string> split_path(const std::string& path) {
    std::vector<std::string> parts;
    for (size_t at = 0;;) {
        size_t slash = path.find('/', at);
        parts.push_back(path.substr(at, slash == std::string::npos ? std::string::npos : slash - at));
        if (slash == std::string::npos) return parts;
        at = slash + 1;
    }
}

std::string dirname_of(const std::string& path) {
    auto slash = path.rfind('/');
    return slash == std::string::npos ? "" : path.substr(0, slash);
}

std::string basename_of(const std::string& path) {
    auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::expected<std::string, std::string> safe_relative_path(const std::string& raw, PathForm form) {
    if (raw.size() > kMaxTreePath) return std::unexpected("path longer than 4096 bytes");
    if (raw.find('\0') != std::string::npos) return std::unexpected("NUL byte in the path");
    if (raw.empty()) return std::string();
    if (raw[0] == '/') return std::unexpected("absolute path");
    std::string out;
    for (const auto& part : split_path(raw)) {
        if (part == "..") return std::unexpected("'..' path component (path traversal)");
        if (part.empty() || part == ".") {
            if (form == PathForm::Lenient) continue;
            return std::unexpected(part.empty() ? "empty path component" : "'.' path component");
        }
        out += (out.empty() ? "" : "/") + part;
    }
    return out;
}

bool symlink_stays_inside(const std::string& link_path, const std::string& target) {
    std::vector<std::string> stack;  // the directories from the top down to where resolution is
    if (target.empty() || target[0] != '/')
        for (const auto& part : split_path(dirname_of(link_path)))
            if (!part.empty() && part != ".") stack.push_back(part);
    for (const auto& part : split_path(target)) {
        if (part.empty() || part == ".") continue;
        if (part != "..") {
            stack.push_back(part);
        } else if (stack.empty()) {
            return false;
        } else {
            stack.pop_back();
        }
    }
    return true;
}

// ---- the directory walker

EntryMeta entry_of_stat(const std::string& rel, const struct stat& st, const std::string& link_target) {
    EntryMeta m;
    m.path = rel;
    m.type = S_ISREG(st.st_mode)   ? EntryType::File
             : S_ISDIR(st.st_mode) ? EntryType::Dir
             : S_ISLNK(st.st_mode) ? EntryType::Symlink
                                   : EntryType::Other;
    m.mode = st.st_mode & 07777;
    m.uid = st.st_uid;
    m.gid = st.st_gid;
    m.size = m.type == EntryType::File ? st.st_size : 0;
    m.mtime = st.st_mtim.tv_sec;
    m.link_target = link_target;
    return m;
}

namespace {

std::string shown(const std::string& rel) { return rel.empty() ? "/" : rel; }

Result<std::vector<std::string>> sorted_names(int dir_fd, const std::string& rel, const std::string& where) {
    // A new open file description, not a dup: a dup shares the directory's read position with
    // every other reader of dir_fd (a second walk of the same tree would see nothing).
    int dup = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR* dir = dup >= 0 ? ::fdopendir(dup) : nullptr;
    if (!dir) {
        int err = errno;
        if (dup >= 0) ::close(dup);
        return fail_errno("list " + shown(rel) + where, err);
    }
    std::unique_ptr<DIR, int (*)(DIR*)> owner(dir, ::closedir);
    std::vector<std::string> names;
    errno = 0;
    while (dirent* d = ::readdir(dir))
        if (std::string n = d->d_name; n != "." && n != "..") names.push_back(std::move(n));
    if (errno != 0) return fail_errno("list " + shown(rel) + where, errno);
    std::sort(names.begin(), names.end());
    return names;
}

Result<void> walk_below(int dir_fd, const std::string& rel, const TreeVisit& visit, const std::string& where) {
    auto names = sorted_names(dir_fd, rel, where);
    if (!names) return std::unexpected(names.error());
    for (const auto& name : *names) {
        const std::string child = rel.empty() ? name : rel + "/" + name;
        TreeEntry e{{}, {}, dir_fd, name};
        if (::fstatat(dir_fd, name.c_str(), &e.st, AT_SYMLINK_NOFOLLOW) != 0)
            return fail_errno("stat " + child + where, errno);
        std::string target;
        if (S_ISLNK(e.st.st_mode)) {
            target.resize(kMaxTreePath + 1);
            ssize_t n = ::readlinkat(dir_fd, name.c_str(), target.data(), target.size());
            if (n < 0) return fail_errno("read link " + child + where, errno);
            target.resize(static_cast<size_t>(n));
        }
        e.meta = entry_of_stat(child, e.st, target);
        if (auto r = visit(e); !r) return r;
        if (e.meta.type != EntryType::Dir) continue;
        Fd sub(::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!sub.valid()) return fail_errno("open " + child + where, errno);
        if (auto r = walk_below(sub.get(), child, visit, where); !r) return r;
    }
    return {};
}

}  // namespace

Result<void> walk_tree(int dir_fd, const TreeVisit& visit, const std::string& where) {
    return walk_below(dir_fd, "", visit, where);
}

Result<void> read_tree_file(const TreeEntry& e, const DataSink& sink, const std::string& where) {
    const std::string& rel = e.meta.path;
    Fd fd(::openat(e.dir_fd, e.name.c_str(), O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC));
    if (!fd.valid()) return fail_errno("open " + rel + where, errno);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return fail_errno("stat " + rel + where, errno);
    if (!S_ISREG(st.st_mode) || st.st_ino != e.st.st_ino) return fail("read " + rel + where + ": replaced while read");
    static thread_local std::vector<char> buf(kReadBlock);
    for (int64_t done = 0; done < e.meta.size;) {
        ssize_t n = ::read(fd.get(), buf.data(), std::min<int64_t>(e.meta.size - done, static_cast<int64_t>(buf.size())));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail_errno("read " + rel + where, errno);
        if (n == 0) return fail("read " + rel + where + ": file shorter than its size");
        if (auto r = sink({buf.data(), static_cast<size_t>(n), done}); !r) return r;
        done += n;
    }
    return {};
}

// ---- the tar entry reader

void ArchiveReadDeleter::operator()(archive* a) const { archive_read_free(a); }

std::string archive_message(archive* a) {
    const char* s = archive_error_string(a);
    return s ? s : "no message from libarchive";
}

TarReader::TarReader(ReadArchive a, std::string name, std::string field)
    : a_(std::move(a)), name_(std::move(name)), field_(std::move(field)) {}

// The stream for libarchive, kReadBlock at a time. From a regular file the kernel is kept reading
// ahead of it (WILLNEED, kAhead beyond what was read): decompression does not wait for the disk
// at each block, as it would with the kernel's own read-ahead of 128 KiB.
struct TarReader::FileSource {
    static constexpr off_t kAhead = 64 << 20, kStep = 16 << 20;
    int fd;
    bool regular = false;
    off_t pos = 0, asked = 0;
    std::vector<char> buf = std::vector<char>(kReadBlock);

    static la_ssize_t read(archive* a, void* self, const void** out) {
        auto* s = static_cast<FileSource*>(self);
        ssize_t n;
        while ((n = ::read(s->fd, s->buf.data(), s->buf.size())) < 0 && errno == EINTR) {
        }
        if (n < 0) {
            archive_set_error(a, errno, "read: %s", std::strerror(errno));
            return -1;
        }
        s->pos += n;
        for (; s->regular && s->asked < s->pos + kAhead; s->asked += kStep)
            (void)::posix_fadvise(s->fd, s->asked, kStep, POSIX_FADV_WILLNEED);
        *out = s->buf.data();
        return n;
    }
};

TarReader::~TarReader() = default;
TarReader::TarReader(TarReader&&) noexcept = default;
TarReader& TarReader::operator=(TarReader&&) noexcept = default;

Result<TarReader> TarReader::open(int fd, const std::string& name, Filters filters, const std::string& field) {
    ReadArchive a(archive_read_new());
    if (filters == Filters::Zstd) archive_read_support_filter_zstd(a.get());
    else archive_read_support_filter_all(a.get());
    archive_read_support_format_tar(a.get());
    if (::lseek(fd, 0, SEEK_SET) != 0 && errno != ESPIPE) return fail_errno("seek " + name, errno);  // a pipe: read on
    auto source = std::make_unique<FileSource>();
    source->fd = fd;
    struct stat st {};
    source->regular = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    if (archive_read_open(a.get(), source.get(), nullptr, FileSource::read, nullptr) != ARCHIVE_OK)
        return fail_input(field, name + ": not a readable tar archive: " + archive_message(a.get()));
    TarReader reader(std::move(a), name, field);
    reader.source_ = std::move(source);
    return reader;
}

std::unexpected<Error> TarReader::broken(const std::string& what) const {
    return fail_input(field_, name_ + ": corrupted or truncated" + what + ": " + archive_message(a_.get()));
}

Result<std::optional<EntryMeta>> TarReader::next() {
    archive_entry* e = nullptr;
    int rc = archive_read_next_header(a_.get(), &e);
    if (rc == ARCHIVE_EOF) return std::nullopt;
    if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) return broken("");
    EntryMeta m;
    const char* path = archive_entry_pathname(e);
    m.path = path ? path : "";
    if (const char* hard = archive_entry_hardlink(e)) {
        m.type = EntryType::Hardlink;
        m.link_target = hard;
    } else {
        switch (archive_entry_filetype(e)) {
        case AE_IFREG: m.type = EntryType::File; break;
        case AE_IFDIR: m.type = EntryType::Dir; break;
        case AE_IFLNK: {
            m.type = EntryType::Symlink;
            const char* target = archive_entry_symlink(e);
            m.link_target = target ? target : "";
            break;
        }
        default: m.type = EntryType::Other;
        }
    }
    m.mode = archive_entry_perm(e) & 07777;
    m.uid = archive_entry_uid(e);
    m.gid = archive_entry_gid(e);
    m.size = archive_entry_size_is_set(e) ? archive_entry_size(e) : 0;
    m.mtime = archive_entry_mtime(e);
    current_ = m.path;
    current_size_ = m.size;
    current_sparse_ = archive_entry_sparse_count(e) > 0;
    return m;
}

Result<int64_t> TarReader::read_data(const DataSink& sink) {
    int64_t at = 0;  // where the data read so far ends
    auto hole_to = [&](int64_t offset) -> Result<void> {
        if (offset < at) return broken(" in " + current_ + " (data blocks out of order)");
        if (offset > at)
            if (auto r = sink({nullptr, static_cast<size_t>(offset - at), at}); !r) return r;
        at = offset;
        return {};
    };
    for (;;) {
        const void* data = nullptr;
        size_t n = 0;
        la_int64_t offset = 0;
        int rc = archive_read_data_block(a_.get(), &data, &n, &offset);
        if (rc == ARCHIVE_EOF) break;
        if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) return broken(" in " + current_);
        if (offset + static_cast<int64_t>(n) > current_size_) return broken(" in " + current_ + " (data past its size)");
        if (auto r = hole_to(offset); !r) return std::unexpected(r.error());
        if (n == 0) continue;
        if (auto r = sink({data, n, at}); !r) return std::unexpected(r.error());
        at += static_cast<int64_t>(n);
    }
    if (at < current_size_ && current_sparse_)  // a sparse file may end in a hole
        if (auto r = hole_to(current_size_); !r) return std::unexpected(r.error());
    if (at != current_size_) return fail_input(field_, name_ + ": " + current_ + " is truncated");
    return at;
}

// ---- the fd-relative writer

TreeWriter::TreeWriter(int top_fd, std::string label, Existing existing, std::optional<Owner> missing_parents)
    : top_(top_fd), label_(std::move(label)), existing_(existing), missing_parents_(missing_parents) {}

std::string TreeWriter::where(const std::string& rel) const {
    std::string path = label_.empty() ? rel : rel.empty() ? label_ : label_ + "/" + rel;
    return "/" + path + " in the jail";
}

Result<Fd> TreeWriter::open_dir(const std::string& rel) {
    if (missing_parents_ && !rel.empty()) {  // create what nobody listed, from the top down
        auto parent = open_dir(dirname_of(rel));
        if (!parent) return std::unexpected(parent.error());
        const std::string name = basename_of(rel);
        if (::mkdirat(parent->get(), name.c_str(), 0700) == 0) {
            Fd made(::openat(parent->get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (!made.valid()) return fail_errno("open directory " + where(rel), errno);
            if (::fchown(made.get(), missing_parents_->uid, missing_parents_->gid) != 0 || ::fchmod(made.get(), 0755) != 0)
                return fail_errno("set owner and mode of " + where(rel), errno);
        } else if (errno != EEXIST) {
            return fail_errno("create directory " + where(rel), errno);
        }
    }
    return open_jail_dir(top_, rel.empty() ? "." : rel, O_RDONLY | O_DIRECTORY);
}

Result<int> TreeWriter::parent_of(const std::string& rel) {
    std::string parent = dirname_of(rel);
    if (parent != parent_rel_ || !parent_.valid()) {
        auto fd = open_dir(parent);
        if (!fd) return std::unexpected(fd.error());
        parent_ = std::move(*fd);
        parent_rel_ = parent;
    }
    return parent_.get();
}

Result<Fd> TreeWriter::make_dir(const std::string& rel, Owner owner, mode_t mode) {
    Fd dir;
    if (rel.empty()) {
        dir = Fd(::openat(top_, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    } else {
        auto parent = parent_of(rel);
        if (!parent) return std::unexpected(parent.error());
        const std::string name = basename_of(rel);
        if (::mkdirat(*parent, name.c_str(), 0700) != 0 && errno != EEXIST)  // lost+found, a site's own dirs
            return fail_errno("create directory " + where(rel), errno);
        dir = Fd(::openat(*parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    }
    if (!dir.valid()) return fail_errno("open directory " + where(rel), errno);
    if (::fchown(dir.get(), owner.uid, owner.gid) != 0 || ::fchmod(dir.get(), mode) != 0)
        return fail_errno("set owner and mode of " + where(rel), errno);
    return dir;
}

Result<Fd> TreeWriter::create_file(const std::string& rel, Owner owner, mode_t mode) {
    auto parent = parent_of(rel);
    if (!parent) return std::unexpected(parent.error());
    const std::string name = basename_of(rel);
    int flags = O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | (existing_ == Existing::Refuse ? O_EXCL : O_TRUNC);
    Fd fd(::openat(*parent, name.c_str(), flags, 0600));
    if (!fd.valid()) return fail_errno("create " + where(rel), errno);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return fail("create " + where(rel) + ": not a regular file");
    if (::fchown(fd.get(), owner.uid, owner.gid) != 0 || ::fchmod(fd.get(), mode) != 0)
        return fail_errno("set owner and mode of " + where(rel), errno);
    return fd;
}

Result<void> TreeWriter::write_block(int fd, const std::string& rel, const DataBlock& block) {
    if (!block.data) return {};  // a hole stays a hole
    return write_all_at(fd, block.data, block.size, block.offset, where(rel));
}

Result<void> TreeWriter::finish_file(int fd, const std::string& rel, int64_t size, std::optional<int64_t> mtime) {
    if (::ftruncate(fd, size) != 0) return fail_errno("set the size of " + where(rel), errno);
    if (!mtime) return {};
    timespec ts[2] = {{*mtime, 0}, {*mtime, 0}};
    if (::futimens(fd, ts) != 0) return fail_errno("set mtime of " + where(rel), errno);
    return {};
}

Result<void> TreeWriter::symlink(const std::string& rel, const std::string& target, Owner owner,
                                 std::optional<int64_t> mtime) {
    auto parent = parent_of(rel);
    if (!parent) return std::unexpected(parent.error());
    const std::string name = basename_of(rel);
    if (existing_ == Existing::Replace) ::unlinkat(*parent, name.c_str(), 0);  // a file of that name, not a directory
    if (::symlinkat(target.c_str(), *parent, name.c_str()) != 0) return fail_errno("create symlink " + where(rel), errno);
    if (::fchownat(*parent, name.c_str(), owner.uid, owner.gid, AT_SYMLINK_NOFOLLOW) != 0)
        return fail_errno("set owner of symlink " + where(rel), errno);
    if (!mtime) return {};
    timespec ts[2] = {{*mtime, 0}, {*mtime, 0}};
    if (::utimensat(*parent, name.c_str(), ts, AT_SYMLINK_NOFOLLOW) != 0)
        return fail_errno("set mtime of symlink " + where(rel), errno);
    return {};
}

Result<void> TreeWriter::hardlink(const std::string& rel, const std::string& target_rel) {
    auto target_dir = open_dir(dirname_of(target_rel));
    if (!target_dir) return std::unexpected(target_dir.error());
    const std::string target_name = basename_of(target_rel);
    struct stat st {};
    if (::fstatat(target_dir->get(), target_name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
        return fail("hard link " + where(rel) + " to '" + target_rel + "', which is not a file written before");
    auto parent = parent_of(rel);
    if (!parent) return std::unexpected(parent.error());
    const std::string name = basename_of(rel);
    if (existing_ == Existing::Replace) ::unlinkat(*parent, name.c_str(), 0);
    if (::linkat(target_dir->get(), target_name.c_str(), *parent, name.c_str(), 0) != 0)
        return fail_errno("create hard link " + where(rel), errno);
    return {};
}

Result<void> write_all_at(int fd, const void* data, size_t size, off_t offset, const std::string& what) {
    const char* p = static_cast<const char*>(data);
    while (size > 0) {
        ssize_t n = ::pwrite(fd, p, size, offset);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return fail_errno("write " + what, n < 0 ? errno : EIO);
        p += n, size -= static_cast<size_t>(n), offset += n;
    }
    return {};
}

}  // namespace jailctl
