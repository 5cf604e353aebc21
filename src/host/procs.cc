#include "host/procs.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace jailctl {
namespace {

// "PID (comm) S PPID PGRP ...": comm may hold spaces and parentheses, so it ends at the LAST ')'.
bool read_stat(pid_t pid, std::string& comm, pid_t& ppid, pid_t& pgrp) {
    char path[32];
    std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
    int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    char buf[512];
    ssize_t n = ::read(fd, buf, sizeof buf - 1);
    ::close(fd);
    if (n <= 0) return false;
    std::string_view text(buf, static_cast<std::size_t>(n));
    auto open = text.find('('), close = text.rfind(')');
    if (open == std::string_view::npos || close == std::string_view::npos || close + 4 >= text.size()) return false;
    comm.assign(text.substr(open + 1, close - open - 1));
    std::string rest(text.substr(close + 4));  // after ") S "
    char* end = nullptr;
    ppid = static_cast<pid_t>(std::strtol(rest.c_str(), &end, 10));
    pgrp = static_cast<pid_t>(std::strtol(end, nullptr, 10));
    return true;
}

// Every process of /proc whose stat passes `keep(pid, comm, ppid, pgrp)`, ascending.
template <class Keep>
std::vector<pid_t> processes_where(Keep keep) {
    std::vector<pid_t> out;
    DIR* dir = ::opendir("/proc");
    if (!dir) return out;
    while (dirent* e = ::readdir(dir)) {
        if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
        pid_t pid = static_cast<pid_t>(std::strtol(e->d_name, nullptr, 10));
        std::string name;
        pid_t ppid = 0, pgrp = 0;
        if (read_stat(pid, name, ppid, pgrp) && keep(pid, name, ppid, pgrp)) out.push_back(pid);
    }
    ::closedir(dir);
    std::ranges::sort(out);
    return out;
}

}  // namespace

std::string process_title(pid_t pid) {
    char path[32];
    std::snprintf(path, sizeof path, "/proc/%d/cmdline", static_cast<int>(pid));
    int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return {};
    std::string title;
    char buf[512];
    for (;;) {  // a process that exits meanwhile makes read fail (ESRCH): what was read is kept
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0 || title.size() > 64 * 1024) break;
        title.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return title;
}

std::vector<pid_t> child_processes(pid_t parent, std::string_view comm) {
    return processes_where([&](pid_t, const std::string& name, pid_t ppid, pid_t) {
        return ppid == parent && (comm.empty() || name == comm);
    });
}

std::vector<pid_t> group_processes(pid_t group) {
    return processes_where([&](pid_t, const std::string&, pid_t, pid_t pgrp) { return pgrp == group; });
}

}  // namespace jailctl
