// Writing into a jail's tree from the host without ever following a path the
// tenant controls: every open is relative to the jail root's directory fd with
// openat2(RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV),
// and files are replaced atomically (temp file + renameat). Ids are given as seen
// inside the jail and shifted into the jail's host id range here.
#pragma once

#include <fcntl.h>
#include <sys/types.h>

#include <cstdint>
#include <string>

#include "services/jail_tree.h"
#include "util/fd.h"
#include "util/result.h"

namespace jailctl {

// O_PATH handle on the jail's root directory (must not be a symlink).
Result<Fd> open_jail_root(const std::string& rootfs);
// A directory inside the jail, resolved safely; "" or "." is the root.
Result<Fd> open_jail_dir(int root_fd, const std::string& rel_dir, int flags = O_PATH | O_DIRECTORY);

// Atomically replaces `rel_path` with `content` owned by the jail's uid/gid.
Result<void> write_jail_file(int root_fd, const std::string& rel_path, const std::string& content, mode_t mode,
                             uid_t uid, gid_t gid, uint32_t id_base);
Result<std::string> read_jail_file(int root_fd, const std::string& rel_path, size_t max_bytes = 1 << 20);
Result<void> remove_jail_file(int root_fd, const std::string& rel_path);  // absent: OK

// Creates directory `d` (its parent must exist) with its owner and mode; an existing one gets
// them too, unless `keep_existing` (then it is left as it is: a jail made by an older jailctl
// gains the directories a newer one expects, and nothing else changes).
Result<void> make_jail_dir(int root_fd, const JailDir& d, uint32_t id_base, bool keep_existing = false);
// Materialises the whole tree of a new jail (dirs, then files, then links).
Result<void> write_jail_tree(const std::string& rootfs, const JailTree& tree, uint32_t id_base);

}  // namespace jailctl
