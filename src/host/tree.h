// The tree machinery shared by jailctl archives (backup, restore, export, import: host/archive.cc)
// and site imports (import-site): the rules for names and symlink targets, the directory
// walker, the tar entry reader (libarchive) and the fd-relative writer. Nothing here knows a
// manifest, a digest or a jail's id range: the callers decide what an entry becomes.
//
// Safety: the walker and the writer work through directory fds, never follow a symlink
// (O_NOFOLLOW, openat2 RESOLVE_NO_SYMLINKS) and never leave the directory they start from.
//
// Sparse tar entries (GNU `tar -S`, pax 1.0): the reader hands their data over at its offsets
// and reports each hole, so a reader sees the file's full content (holes are zeros) and the
// writer leaves the holes as holes. One rule for archives and sites (docs/DECISIONS.md).
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "util/fd.h"
#include "util/result.h"

struct archive;

namespace jailctl {

inline constexpr size_t kMaxTreePath = 4096;  // PATH_MAX: longer names and targets are refused

enum class EntryType { File, Dir, Symlink, Hardlink, Other };

// One entry of a tree: read from a tar stream or a directory, or written to one.
struct EntryMeta {
    std::string path;  // as stored: "rootfs/etc/passwd" (a directory may end in '/')
    EntryType type = EntryType::File;
    uint32_t mode = 0;  // permission bits including setuid/setgid/sticky (07777)
    int64_t uid = 0, gid = 0;
    int64_t size = 0;
    int64_t mtime = 0;
    std::string link_target;  // symlink target (or hardlink source)
};

// ---- names

// "a/b/c" -> {"a", "b", "c"}; empty components are kept ("a//b" -> {"a", "", "b"}).
std::vector<std::string> split_path(const std::string& path);
std::string dirname_of(const std::string& path);   // "a/b/c" -> "a/b"; "c" -> ""
std::string basename_of(const std::string& path);  // "a/b/c" -> "c"

enum class PathForm {
    Canonical,  // every component a real name: "", "." and a trailing '/' are refused
    Lenient,    // empty and "." components are dropped ("./a//b/" -> "a/b"), as `tar -C dir .` writes
};
// A relative path made of safe names, or why not (the reason, for the caller's error): absolute,
// a NUL byte, longer than 4096 bytes, a ".." component; in Canonical form also an empty or "."
// component. The result has no leading, trailing or doubled '/' ("" for the top itself).
std::expected<std::string, std::string> safe_relative_path(const std::string& raw, PathForm form);

// Whether a symlink at `link_path` (relative to a top directory) pointing to `target` stays
// inside that top directory, resolved lexically: a relative target starts at the link's own
// directory, an absolute one at the top; a ".." may never climb above the top, even if the
// path comes back down later.
bool symlink_stays_inside(const std::string& link_path, const std::string& target);

// ---- reading entries

// A piece of an entry's data at `offset`; `data` null: a hole of `size` zero bytes (sparse entry).
struct DataBlock {
    const void* data = nullptr;
    size_t size = 0;
    int64_t offset = 0;
};
using DataSink = std::function<Result<void>(const DataBlock&)>;

// The entry as `lstat` sees it; `rel` becomes its path. uid/gid are the host's.
EntryMeta entry_of_stat(const std::string& rel, const struct stat& st, const std::string& link_target = "");

// An entry met by walk_tree: its metadata (path relative to the walk's top), its stat, and the
// directory fd and name to reach it with.
struct TreeEntry {
    EntryMeta meta;
    struct stat st;
    int dir_fd;
    std::string name;
};
using TreeVisit = std::function<Result<void>(const TreeEntry&)>;

// Visits every entry below the directory `dir_fd`, depth-first, names sorted, a directory before
// its children; never follows a symlink (a symlink's target is in meta.link_target). `where`
// ends every error message (" in the snapshot").
Result<void> walk_tree(int dir_fd, const TreeVisit& visit, const std::string& where = "");

// The data of a regular file met by walk_tree, exactly meta.size bytes, through `sink`; a file
// that is no longer a regular file, or is shorter than it was, is an error.
Result<void> read_tree_file(const TreeEntry& entry, const DataSink& sink, const std::string& where = "");

struct ArchiveReadDeleter {
    void operator()(archive* a) const;
};
using ReadArchive = std::unique_ptr<archive, ArchiveReadDeleter>;

// libarchive's message for the last error of `a`, or a sentence saying it gave none
// (archive_error_string() returns NULL then).
std::string archive_message(archive* a);

// A tar stream read entry by entry. Every problem is ErrorKind::BadInput for `field`, naming
// `name` (the file) and, where there is one, the entry.
class TarReader {
public:
    enum class Filters { Zstd, Any };  // jailctl archives are zstd; a site may come in any
    // Opens the tar stream in `fd` from its start (detected by content, not by name).
    static Result<TarReader> open(int fd, const std::string& name, Filters filters, const std::string& field);
    // Reads from a libarchive handle already opened (tests give it a source of their own).
    TarReader(ReadArchive a, std::string name, std::string field);
    ~TarReader();
    TarReader(TarReader&&) noexcept;
    TarReader& operator=(TarReader&&) noexcept;

    // The next entry's metadata, or nullopt at the end of the stream.
    Result<std::optional<EntryMeta>> next();
    // The current entry's data, in order, holes of a sparse entry included; returns its size.
    // A regular file whose data stops short of its size is "truncated".
    Result<int64_t> read_data(const DataSink& sink);
    archive* handle() const { return a_.get(); }

    struct FileSource;  // what open() reads through (tree.cc)

private:
    std::unexpected<Error> broken(const std::string& what) const;
    std::unique_ptr<FileSource> source_;  // before a_: freed after the handle that reads it
    ReadArchive a_;
    std::string name_, field_, current_;
    int64_t current_size_ = 0;
    bool current_sparse_ = false;
};

// ---- writing entries

struct Owner {
    uid_t uid;
    gid_t gid;
};

// Creates entries below the directory `top_fd` (kept open by the caller). Every directory is
// resolved with openat2 RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS from the top, every final name is
// created with O_NOFOLLOW: a symlink written earlier can never redirect a later entry (the tar
// "a -> /etc, a/passwd" attack). Messages name "/<label>/<path> in the jail".
class TreeWriter {
public:
    enum class Existing {
        Refuse,   // every name is new (an empty filesystem): O_EXCL
        Replace,  // a file or symlink of the same name is replaced (a directory is kept)
    };
    // `missing_parents`: owner of parent directories an entry needs and nobody listed (mode 0755);
    // nullopt: a missing parent is an error.
    TreeWriter(int top_fd, std::string label, Existing existing, std::optional<Owner> missing_parents = std::nullopt);

    // The directory `rel` ("" = the top itself) is created (or kept, if it exists) with this owner
    // and mode; returns an fd on it.
    Result<Fd> make_dir(const std::string& rel, Owner owner, mode_t mode);
    // A regular file, empty, with this owner and mode, open for writing.
    Result<Fd> create_file(const std::string& rel, Owner owner, mode_t mode);
    // Writes one block of the file `fd` at its offset (a hole is left as a hole).
    Result<void> write_block(int fd, const std::string& rel, const DataBlock& block);
    // Sets the file's final size (a trailing hole) and, when given, its mtime.
    Result<void> finish_file(int fd, const std::string& rel, int64_t size, std::optional<int64_t> mtime);
    Result<void> symlink(const std::string& rel, const std::string& target, Owner owner, std::optional<int64_t> mtime);
    // A hard link `rel` to the regular file `target_rel`, written before.
    Result<void> hardlink(const std::string& rel, const std::string& target_rel);

    // The directory `rel` resolved safely, for reading or changing it (O_RDONLY | O_DIRECTORY).
    Result<Fd> open_dir(const std::string& rel);

private:
    Result<int> parent_of(const std::string& rel);
    std::string where(const std::string& rel) const;
    int top_;
    std::string label_;
    Existing existing_;
    std::optional<Owner> missing_parents_;
    std::string parent_rel_ = "\x01";  // the last parent directory, cached
    Fd parent_;
};

// pwrite of the whole buffer at `offset` (loops on short writes); `what` names the file.
Result<void> write_all_at(int fd, const void* data, size_t size, off_t offset, const std::string& what);

}  // namespace jailctl
