// A file replaced atomically: a reader sees the old content or the new, never a part.
// atomic_file.cc uses libc only: it is compiled into jailctl-init too (CMakeLists.txt).
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "util/result.h"

namespace jailctl {

struct AtomicWriteOptions {
    mode_t mode = 0644;  // set exactly, whatever the umask
    // fsync the data and the directory before returning: the new content survives a power
    // cut. Off where a file is rewritten often and recreated anyway (create's host files,
    // init's state file): the rename still makes the replacement atomic.
    bool durable = true;
};

// Writes `content` to a new temporary file beside `path` (<path>.tmp.XXXXXX), whole (short
// writes and EINTR are retried), then renames it over `path`. On any failure the temporary
// file is removed and `path` is left as it was. The directory must exist.
Result<void> write_file_atomically(const std::string& path, std::string_view content,
                                   AtomicWriteOptions options = {});

// Writes all of `content` to `fd`, retrying short writes and EINTR; `what` names the file
// in the error.
Result<void> write_all(int fd, std::string_view content, const std::string& what);

}  // namespace jailctl
