// Processes seen from the host's /proc: what `reload` needs to find a jail's nginx master
// (a child of the jail's init) and its workers without entering the jail; what `exec
// --timeout` kills.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

namespace jailctl {

// The processes whose parent is `parent` and, when `comm` is not empty, whose command name
// (/proc/PID/stat's second field) is `comm`; host pids, ascending. Processes that exit while
// /proc is read are skipped.
std::vector<pid_t> child_processes(pid_t parent, std::string_view comm = {});

// The processes of process group `group` (/proc/PID/stat's fifth field); host pids, ascending.
std::vector<pid_t> group_processes(pid_t group);

// /proc/PID/cmdline as one string (what nginx shows its state in, e.g. "nginx: worker process
// is shutting down"); "" when the process is gone, also when it exits while being read.
std::string process_title(pid_t pid);

}  // namespace jailctl
