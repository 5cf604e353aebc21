#include "host/lxc.h"

#include <fcntl.h>
#include <lxc/lxccontainer.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <thread>
#include <filesystem>
#include <algorithm>
#include <fstream>
#include <iterator>
#include <sstream>

#include "util/command.h"
#include "util/text.h"

namespace jailctl {
namespace {

struct ContainerDeleter {
    void operator()(lxc_container* c) const { lxc_container_put(c); }
};
using Container = std::unique_ptr<lxc_container, ContainerDeleter>;

Result<Container> open_container(const std::string& lxcpath, const std::string& name) {
    Container c(lxc_container_new(name.c_str(), lxcpath.c_str()));
    if (!c) return fail("LXC: cannot load container " + name + " from " + lxcpath);
    return c;
}

constexpr const char* kLxcStart = "/usr/bin/lxc-start";

// The message of the last ERROR line of an LXC log ("" when none).
std::string last_error_in(const std::string& log) {
    std::ifstream in(log);
    std::string line, last;
    while (std::getline(in, line))
        if (line.find(" ERROR ") != std::string::npos) last = line;
    // "<name> <time> ERROR <module> - <file>:<function>:<line> - <message>"
    auto first = last.find(" - ");
    auto second = first == std::string::npos ? first : last.find(" - ", first + 3);
    return second == std::string::npos ? last : last.substr(second + 3);
}

constexpr const char* kSeccompProfile = "/usr/share/lxc/config/common.seccomp";

// Is `entry` one of the container's cgroup directories: lxc.monitor.<name> or
// lxc.payload.<name>, or the "-N" variants LXC picks when those already exist?
bool is_container_cgroup(const std::string& entry, const std::string& name) {
    for (std::string prefix : {"lxc.monitor." + name, "lxc.payload." + name}) {
        if (entry == prefix) return true;
        if (entry.rfind(prefix + "-", 0) == 0 &&
            entry.find_first_not_of("0123456789", prefix.size() + 1) == std::string::npos)
            return true;
    }
    return false;
}

// Removes a cgroup directory tree, deepest first. rmdir fails (EBUSY) while a
// process is still inside, so this never removes a cgroup in use.
void remove_cgroup_tree(const std::filesystem::path& dir) {
    std::error_code ec;
    for (const auto& sub : std::filesystem::directory_iterator(dir, ec))
        if (sub.is_directory(ec) && !sub.is_symlink(ec)) remove_cgroup_tree(sub.path());
    ::rmdir(dir.c_str());
}

// The container's cgroups left in any hierarchy; removes the empty ones. `variants`: also the
// "-N" names, which takes a listing of every hierarchy's root (a thousand entries each on a
// full host); without it, only the exact names are looked up.
bool reap_container_cgroups(const std::string& name, bool variants) {
    bool left = false;
    std::error_code ec;
    std::vector<std::filesystem::path> roots = {"/sys/fs/cgroup"};
    for (const auto& h : std::filesystem::directory_iterator("/sys/fs/cgroup", ec))
        if (h.is_directory(ec)) roots.push_back(h.path());
    for (const auto& root : roots) {
        if (!variants) {
            for (const std::string& dir : {"lxc.monitor." + name, "lxc.payload." + name}) {
                auto path = root / dir;
                if (::access(path.c_str(), F_OK) != 0) continue;
                remove_cgroup_tree(path);
                left = left || ::access(path.c_str(), F_OK) == 0;
            }
            continue;
        }
        for (const auto& e : std::filesystem::directory_iterator(root, ec)) {
            if (!is_container_cgroup(e.path().filename().string(), name)) continue;
            remove_cgroup_tree(e.path());
            left = left || std::filesystem::exists(e.path(), ec);
        }
    }
    return left;
}

// LXC reports STOPPED before its monitor has removed the container's cgroups and
// exited, and a start LXC refused may leave them behind: wait for the monitor and
// remove what is empty, so that a stopped jail leaves nothing behind and its next
// start gets the same cgroup names.
// Are the container's cgroups another state root's, whose jail has the same name (two roots on
// one kernel, as the cluster tests' simulated hosts are)? Yes when lxc.monitor.<name> holds a
// monitor, and every monitor there runs for another lxcpath ("[lxc monitor] LXCPATH NAME").
bool monitor_of_other_root(const std::string& lxcpath, const std::string& name) {
    std::error_code ec;
    bool seen = false;
    for (const auto& h : std::filesystem::directory_iterator("/sys/fs/cgroup", ec)) {
        std::ifstream procs(h.path() / ("lxc.monitor." + name) / "cgroup.procs");
        for (std::string pid; procs >> pid;) {
            std::ifstream in("/proc/" + pid + "/cmdline");
            std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
            std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
            if (cmdline.find("[lxc monitor] ") == std::string::npos) continue;
            if (cmdline.find(" " + lxcpath + " " + name) != std::string::npos) return false;
            seen = true;
        }
        if (seen) return true;
    }
    return false;
}

Result<void> wait_for_monitor_exit(const std::string& lxcpath, const std::string& name) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    bool checked_owner = false;
    // Polls the exact names (cheap), then one pass over the "-N" variants too.
    for (bool variants = false;; ) {
        if (!reap_container_cgroups(name, variants)) {
            if (variants) return {};
            variants = true;
            continue;
        }
        if (!checked_owner) {  // once: another root's running jail of that name never cleans up
            checked_owner = true;
            if (monitor_of_other_root(lxcpath, name)) return {};
        }
        if (std::chrono::steady_clock::now() > deadline)
            return fail("LXC: the monitor of " + name + " did not clean up its cgroups within 5 s");
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
}

}  // namespace

std::string jail_hostname(const std::string& domain) {
    std::string host = domain.substr(0, 63);
    while (!host.empty() && (host.back() == '.' || host.back() == '-')) host.pop_back();
    return host;
}

std::string render_lxc_config(const LxcSpec& s) {
    std::ostringstream c;
    c << "# Generated by jailctl for " << s.name << " — do not edit: it is rewritten on every start.\n"
      << "lxc.uts.name = " << jail_hostname(s.name) << "\n"
      << "lxc.rootfs.path = dir:" << s.rootfs << "\n"
      << "lxc.idmap = u 0 " << s.id_base << " 65536\n"
      << "lxc.idmap = g 0 " << s.id_base << " 65536\n"
      << "lxc.init.cmd = /init\n"
      << "lxc.signal.halt = SIGTERM\n"
      << "lxc.autodev = 1\n"
      << "lxc.tty.max = 0\n"
      << "lxc.pty.max = 16\n"
      << "lxc.console.path = none\n"
      << "lxc.mount.auto = proc:mixed sys:ro\n"
      // The shared base and the init are host files: read-only, and setuid bits
      // on them mean nothing inside.
      << "lxc.mount.entry = " << s.usr_path << " usr none bind,ro,nosuid,nodev 0 0\n"
      << "lxc.mount.entry = " << s.init_path << " init none bind,ro,nosuid,nodev 0 0\n"
      << "lxc.cap.drop = sys_module sys_rawio sys_time sys_boot mac_admin mac_override\n";
    if (std::error_code ec; std::filesystem::exists(kSeccompProfile, ec)) c << "lxc.seccomp.profile = " << kSeccompProfile << "\n";
    c << "lxc.net.0.type = veth\n"
      << "lxc.net.0.veth.mode = router\n"
      << "lxc.net.0.veth.pair = " << s.veth << "\n"
      << "lxc.net.0.link = " << s.uplink << "\n"
      << "lxc.net.0.l2proxy = 1\n"
      << "lxc.net.0.name = eth0\n"
      << "lxc.net.0.flags = up\n"
      << "lxc.net.0.ipv4.address = " << s.ip << "/32\n"
      << "lxc.net.0.ipv4.gateway = 169.254.0.1\n"
      // IPv4 only: no IPv6 link-local traffic that the anti-spoofing rules do not cover.
      << "lxc.sysctl.net.ipv6.conf.all.disable_ipv6 = 1\n"
      << "lxc.sysctl.net.ipv6.conf.default.disable_ipv6 = 1\n"
      << render_limits_config(s.limits, s.layout)
      << "lxc.log.file = " << s.lxcpath << "/" << s.name << "/lxc.log\n"
      << "lxc.log.level = WARN\n";
    return c.str();
}

Result<void> lxc_start(const std::string& lxcpath, const std::string& name) {
    {
        auto c = open_container(lxcpath, name);
        if (!c) return std::unexpected(c.error());
        if ((*c)->is_running(c->get())) return fail("LXC: container " + name + " is already running");
    }
    // The process that starts a container stays as its monitor for the container's whole life,
    // in the container's monitor cgroup. lxc-start (a small program over liblxc) plays that
    // part: a monitor forked from jailctl would keep a private copy of jailctl's memory
    // (~2 MiB per jail), and jailctl itself stays out of the jail's cgroups.
    auto run = run_command({kLxcStart, "--daemon", "--lxcpath", lxcpath, "--name", name});
    if (!run || run->exit_status != 0) {
        (void)wait_for_monitor_exit(lxcpath, name);  // a refused start may leave empty cgroups
        // lxc-start itself only says that it failed; the cause is in the jail's lxc.log, which an
        // undo may remove with the jail's directory: quote its last error.
        std::string why = !run ? run.error().message : last_error_in(lxcpath + "/" + name + "/lxc.log");
        if (why.empty() && run) why = last_line(run->output);
        return fail("LXC: container " + name + " failed to start" + (why.empty() ? "" : " (" + why + ")") +
                    "; see " + lxcpath + "/" + name + "/lxc.log");
    }
    return {};
}

Result<void> lxc_stop(const std::string& lxcpath, const std::string& name, int timeout_s) {
    auto c = open_container(lxcpath, name);
    if (!c) return std::unexpected(c.error());
    if ((*c)->is_running(c->get()) && !(*c)->shutdown(c->get(), timeout_s) && !(*c)->stop(c->get()))
        return fail("LXC: container " + name + " could not be killed");
    return wait_for_monitor_exit(lxcpath, name);
}

bool lxc_running(const std::string& lxcpath, const std::string& name) {
    auto c = open_container(lxcpath, name);
    return c && (*c)->is_running(c->get());
}

pid_t lxc_init_pid(const std::string& lxcpath, const std::string& name) {
    auto c = open_container(lxcpath, name);
    if (!c || !(*c)->is_running(c->get())) return -1;
    return (*c)->init_pid(c->get());
}

// jailctl-init as the jails see it: a root-owned 0755 copy in the state root. LXC bind-mounts it
// from inside the jail's user namespace, where a private (0700) directory above the installed
// binary — a home or a build tree — cannot be traversed. Refreshed when the installed one changed
// (size or mtime); running jails keep the inode they mounted.
Result<std::string> publish_init(const std::string& installed, const std::string& state_root) {
    const std::string dest = state_root + "/jailctl-init";
    struct stat src{}, cur{};
    if (::stat(installed.c_str(), &src) != 0) return fail_errno("jailctl-init at " + installed, errno);
    if (::stat(dest.c_str(), &cur) == 0 && cur.st_size == src.st_size && cur.st_mtim.tv_sec == src.st_mtim.tv_sec &&
        cur.st_mtim.tv_nsec == src.st_mtim.tv_nsec && (cur.st_mode & 07777) == 0755)
        return dest;
    const std::string tmp = dest + ".tmp." + std::to_string(::getpid());
    std::error_code ec;
    std::filesystem::copy_file(installed, tmp, std::filesystem::copy_options::overwrite_existing, ec);
    const timespec times[2] = {src.st_atim, src.st_mtim};
    if (ec || ::chmod(tmp.c_str(), 0755) != 0 || ::utimensat(AT_FDCWD, tmp.c_str(), times, 0) != 0 ||
        ::rename(tmp.c_str(), dest.c_str()) != 0) {
        std::string why = ec ? ec.message() : std::strerror(errno);
        ::unlink(tmp.c_str());
        return fail("copy jailctl-init to " + dest + ": " + why);
    }
    return dest;
}

std::string lxc_config_uplink(const std::string& config_path) {
    std::ifstream in(config_path);
    std::string line;
    const std::string key = "lxc.net.0.link = ";
    while (std::getline(in, line))
        if (line.starts_with(key)) return line.substr(key.size());
    return "";
}

}  // namespace jailctl
