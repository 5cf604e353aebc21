// Moving a tree's owners from one jail's id range to another's (clone: the copy of SRC's image
// keeps SRC's host ids in every inode until they are shifted to DST's range).
#pragma once

#include <cstdint>
#include <string>

#include "util/result.h"

namespace jailctl {

// A host id of SRC's range moved to DST's; one already in DST's range (a hard link seen
// twice) stays; any other becomes DST's nobody (pure).
uint32_t shift_id(uint32_t id, uint32_t from_base, uint32_t to_base);

struct IdShift {
    uint32_t from = 0, to = 0;  // the two ranges' bases
    uint32_t map(uint32_t id) const { return shift_id(id, from, to); }
};

struct ShiftStats {
    uint64_t inodes = 0;
};

// Shifts the owner and group of `rootfs` and of every entry below it (lchown: a symlink is never
// followed). The kernel clears setuid/setgid bits on chown, and file capabilities go with it.
Result<ShiftStats> shift_ids(const std::string& rootfs, const IdShift& shift);

}  // namespace jailctl
