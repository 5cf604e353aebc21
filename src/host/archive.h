// jailctl archives: the portable form of a jail, written by `backup` and `export` and read by
// `restore` and `import`.
//
// Layout: one zstd-compressed POSIX tar (pax) stream, `.tar.zst`:
//   manifest.json            FIRST entry (see manifest.h): identity, sizes, content digest
//   rootfs                   the jail's root directory, then every entry below it in
//   rootfs/etc ...           depth-first order (a directory before its children, names sorted)
// Entries are directories, regular files and symlinks only. Ownership is numeric, as seen INSIDE
// the jail (host uid - id_base, 0..65535; a host id outside the jail's range is archived as
// 65534 "nobody"), so an archive restores into any id range. Modes and mtimes are kept. Not
// kept: hard links (each name is archived as a separate file), xattrs/ACLs/file capabilities,
// sparseness of files inside the jail, and special files (device nodes, fifos, sockets: skipped
// and counted). setuid/setgid bits are stripped (counted), because restore refuses them.
// A sparse entry (an archive repacked with `tar -S`) is read as its full content, holes as
// zeros, and extracted with its holes (host/tree.h: one rule for archives and sites).
//
// The file is written in two zstd frames so that the manifest can come first although its
// digest is known only at the end, in one pass over the data:
//   [frame 1: tar header + manifest.json][skippable frame: zero padding][frames: rootfs entries]
// The rootfs part is written from offset kManifestReserve, then the manifest is compressed into
// the reserved space and the rest of the space becomes a zstd skippable frame, which every
// zstd decoder ignores (`zstd -dc X | tar t` works). The output is written as X.partial, fsynced,
// and renamed into place only when complete.
//
// Content digest ("sha256-entries-v1"): sha256 over, for every entry after the manifest, in
// archive order, the line "<type> <mode octal> <uid> <gid> <mtime s> <size> <path>\0<link>\0"
// (type f/d/l, path without trailing '/', link target or empty) followed by the file's bytes.
// restore/import recompute it in a first, read-only pass (with every entry's safety check and
// the size needed) BEFORE creating anything, and again while extracting (an archive swapped
// between the two passes fails the extract step, whose undo removes everything).
//
// The source tree is read from an image attached READ-ONLY to a loop device and mounted
// read-only (MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC, "noload": the journal is not replayed) in
// a child process with its own private mount namespace, so the mount never appears in the host's
// mount table and dies with the child; the walk uses openat(O_NOFOLLOW) relative to directory
// fds and never follows a symlink.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <set>
#include <functional>
#include <memory>
#include <string>

#include "host/manifest.h"
#include "host/tree.h"
#include "util/result.h"

namespace jailctl {

inline constexpr uint64_t kManifestReserve = 64 * 1024;
inline constexpr uint32_t kJailIdCount = 65536;  // ids 0..65535 inside a jail
inline constexpr uint32_t kOverflowId = 65534;   // "nobody": a host id outside the jail's range

// The jail-relative path an entry writes ("" for the jail root itself), after the path rules:
// below "rootfs", relative, no empty, "." or ".." component, no NUL, at most 4096 bytes.
Result<std::string> entry_jail_path(const std::string& archive_path, EntryType type);

// A symlink at jail-relative `link_path` pointing to `target` must stay inside the jail:
// an absolute target is taken relative to the jail root; ".." may never climb above the root.
Result<void> check_symlink_target(const std::string& link_path, const std::string& target);

// The safety rules of every entry after the manifest, in archive order: path rules, only
// files, directories and symlinks (no device nodes, fifos, sockets, hard links), no
// setuid/setgid bit, uid/gid 0..65535, symlinks inside the jail, the root directory first, every
// parent a directory seen before, no duplicates. Any problem is ErrorKind::BadInput naming the
// entry. Also estimates the disk space the tree needs once extracted.
class EntryChecker {
public:
    Result<std::string> check(const EntryMeta& e);  // -> jail-relative path
    uint64_t needed_bytes() const { return needed_; }
    uint64_t entries() const { return entries_; }
    uint64_t file_bytes() const { return file_bytes_; }

private:
    std::set<std::string> dirs_, others_;
    uint64_t needed_ = 0, entries_ = 0, file_bytes_ = 0;
};

// Usable bytes of a jail filesystem of `size_bytes` (ext4 as format_ext4 makes it: journal,
// inode tables, reserved group descriptors subtracted, with a margin).
uint64_t usable_bytes(uint64_t size_bytes);
// Inodes of such a filesystem (one per 16 KiB).
uint64_t inode_count(uint64_t size_bytes);

// Incremental "sha256-entries-v1" digest (see above). The hashing runs on a thread of its own,
// fed in 1 MiB chunks: the caller decompresses, reads or writes meanwhile (on a 2-core host
// the digest no longer adds to a restore's or a backup's wall time).
class ContentDigest {
public:
    ContentDigest();
    ~ContentDigest();
    ContentDigest(const ContentDigest&) = delete;
    ContentDigest& operator=(const ContentDigest&) = delete;
    void add_entry(const std::string& jail_path, const EntryMeta& e);
    void add_data(const void* data, size_t n);
    void add_data(const DataBlock& block);  // a hole (sparse entry) counts as its zeros
    std::string hex();  // finishes the digest

private:
    struct Hasher;
    std::unique_ptr<Hasher> hasher_;
};

struct ArchiveStats {
    uint64_t entries = 0, file_bytes = 0;
    uint64_t skipped_special = 0;  // device nodes, fifos, sockets not archived
    uint64_t stripped_setid = 0;   // setuid/setgid bits removed
    uint64_t unmapped_ids = 0;     // owners outside the jail's range, archived as 65534
    std::string content_sha256;
    uint64_t archive_bytes = 0;
    // Read from the archived tree itself (so they match the snapshot): the FTP account's hash
    // from etc/shadow and the FTPS certificate etc/ssl/jailctl/ftp.crt; "" when absent.
    std::string ftp_password_hash, certificate_pem;
};

// Archives the ext4 `image` (a snapshot copy, or a stopped jail's disk) into `output`, writing
// `output`.partial first; `manifest`'s content fields, ftp_password_hash (of manifest.ftp_user)
// and certificate_pem are filled in from the archived tree. `id_base`: host id of the
// jail's uid 0. `progress`: bytes done / total on stderr every ~0.5 s. `release_image`, when
// set, runs once `image` is no longer read, alongside the archive's fsync (a snapshot copy is
// deleted meanwhile: freeing a GiB of it takes a few hundred ms).
Result<ArchiveStats> write_archive(const std::string& image, uint32_t id_base, Manifest manifest,
                                   const std::string& output, bool progress,
                                   const std::function<void()>& release_image = {});

// The archive written to a pipe or socket `out_fd` (export to a stream, e.g. a jail moving
// between cluster hosts), the tree read once as it is sent: no seek back, so the manifest that
// comes first is marked streamed and has no content digest (manifest.h); it still carries the
// FTP account's hash and the FTPS certificate. `mnt`: a scratch mount point to create.
Result<ArchiveStats> write_archive_stream(const std::string& image, uint32_t id_base, Manifest manifest, int out_fd,
                                          const std::string& mnt, bool progress);

// The manifest only (first entry); cheap.
Result<Manifest> read_manifest(const std::string& archive);

struct VerifiedArchive {
    Manifest manifest;
    uint64_t needed_bytes = 0;  // disk space the tree needs
    uint64_t entries = 0;
};
// Reads the whole archive without writing anything: manifest, every entry's safety, the content
// digest, entry count and file bytes against the manifest. Problems are ErrorKind::BadInput.
Result<VerifiedArchive> verify_archive(const std::string& archive, bool progress);

// Extracts the rootfs entries into the mounted, empty jail filesystem at `rootfs`, ids shifted by
// `id_base`; every write goes through fds relative to the jail root (openat2 RESOLVE_IN_ROOT |
// RESOLVE_NO_SYMLINKS, O_NOFOLLOW, O_EXCL), so no symlink is ever followed. Checks every entry
// and the digest again against `expected_sha256`.
Result<ArchiveStats> extract_archive(const std::string& archive, const std::string& rootfs, uint32_t id_base,
                                     const std::string& expected_sha256, bool progress);

// An archive read once, from a pipe or socket (import of a stream): opening it reads the
// manifest; extract_archive_stream then reads the rest, every entry checked as it comes (a bad
// one fails the extract, whose undo removes everything). A streamed manifest has no digest to
// check at the end: the channel guards the content (a cluster move's pinned TLS).
struct ArchiveStream {
    std::string name;
    TarReader tar;
    Manifest manifest;
};
Result<ArchiveStream> open_archive_stream(int fd, const std::string& name);
// Unlike extract_archive, it does not sync: the caller calls sync_jail_tree once the jail
// answers (a move's downtime need not wait for the disk), before it reports OK.
Result<ArchiveStats> extract_archive_stream(ArchiveStream& in, const std::string& rootfs, uint32_t id_base, bool progress);
// syncfs of the jail filesystem mounted at `rootfs`.
Result<void> sync_jail_tree(const std::string& rootfs);

}  // namespace jailctl
