#include "host/tunables.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <map>
#include <sstream>

#include "util/atomic_file.h"
#include "util/fd.h"

namespace jailctl {
namespace {

// The reasons are measured or derived in docs/DECISIONS.md ("Host tunables for a thousand jails").
constexpr const char* kInitialNetnsOnly =
    "net.ipv4.neigh.default.* exists only in the initial network namespace, and jailctl runs in another one";

constexpr std::array kTunables{
    Tunable{"net.ipv4.neigh.default.gc_thresh1", 4096,
            "the ARP table is global to all network namespaces; each jail holds 2 entries (host->jail on its "
            "veth, jail->gateway inside): below this count the periodic collection never evicts them",
            kInitialNetnsOnly},
    Tunable{"net.ipv4.neigh.default.gc_thresh2", 8192,
            "soft cap of the global ARP table (default 512 = 256 jails): above it entries idle for 5 s are "
            "force-evicted and re-resolved on the next packet",
            kInitialNetnsOnly},
    Tunable{
        "net.ipv4.neigh.default.gc_thresh3", 16384,
        "hard cap of the global ARP table (default 1024 = 512 jails): above it new entries fail ('neighbor "
        "table overflow') and jails stop answering; 8x the 2000 entries of 1000 jails",
        kInitialNetnsOnly},
    Tunable{
        "kernel.pid_max", 4194304,
        "every jail process also takes a host PID; 32768 is 64 jails at their 512-process cgroup limit, so "
        "one tenant group could starve all; 2^22 (64-bit maximum, systemd's default) leaves the per-jail "
        "pids limits and threads-max as the bounds",
        nullptr},
    Tunable{"user.max_user_namespaces", 4096,
            "each jail is one user namespace, all charged to root; 1000 jails plus namespaces still being "
            "freed after stops plus the host's own users",
            nullptr},
};

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '\t'))
        s.pop_back();
    size_t start = s.find_first_not_of(" \t");
    return start == std::string::npos ? "" : s.substr(start);
}

// The whole file, or the errno of the failed read.
std::expected<std::string, int> read_all(int fd) {
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    if (n < 0) return std::unexpected(errno);
    return out;
}

}  // namespace

std::span<const Tunable> jail_scale_tunables() { return kTunables; }

std::string sysctl_path(const std::string& name, const std::string& proc_sys) {
    std::string rel = name;
    std::replace(rel.begin(), rel.end(), '.', '/');
    return proc_sys + "/" + rel;
}

Result<std::optional<uint64_t>> read_tunable(const std::string& name, const std::string& proc_sys) {
    std::string path = sysctl_path(name, proc_sys);
    std::string what = "read " + name + " (" + path + ")";
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) {
        int err = errno;
        if (err == ENOENT) return std::optional<uint64_t>{};
        return fail_errno(what, err);
    }
    char buf[64];
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) return fail_errno(what, errno);
    std::string text = trim(std::string(buf, static_cast<size_t>(n)));
    uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size())
        return fail(what + ": not one unsigned number: '" + text + "'");
    return std::optional<uint64_t>{value};
}

Result<TunableReading> inspect_tunable(const Tunable& tunable, const std::string& proc_sys) {
    auto v = read_tunable(tunable.name, proc_sys);
    if (!v) return std::unexpected(v.error());
    if (!*v) return TunableReading{&tunable, TunableState::Absent, 0};
    return TunableReading{&tunable, **v >= tunable.minimum ? TunableState::Ok : TunableState::Low, **v};
}

Result<uint64_t> raise_tunable(const std::string& name, uint64_t minimum, const std::string& proc_sys) {
    std::string path = sysctl_path(name, proc_sys);
    std::string what = "raise " + name + " to " + std::to_string(minimum) + " (" + path + ")";
    auto current = read_tunable(name, proc_sys);
    if (!current) return std::unexpected(current.error().context("raise " + name));
    if (!*current) return fail(what + ": no such file");
    if (**current >= minimum) return **current;

    Fd fd(::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC));
    if (!fd.valid()) return fail_errno(what + ": open", errno);
    std::string text = std::to_string(minimum) + "\n";
    ssize_t n = ::write(fd.get(), text.data(), text.size());
    if (n < 0) return fail_errno(what + ": write", errno);
    if (static_cast<size_t>(n) != text.size()) return fail(what + ": short write");
    fd.reset();
    // Some sysctls clamp silently: trust only what reads back.
    auto after = read_tunable(name, proc_sys);
    if (!after) return std::unexpected(after.error().context("raise " + name));
    if (!*after || **after < minimum)
        return fail(what + ": the kernel kept " +
                    (*after ? std::to_string(**after) : std::string("nothing")));
    return **after;
}

std::string render_sysctl_dropin(const std::vector<TunableReading>& readings) {
    std::string out =
        "# Written by `jailctl host prepare`: kernel limits for about a thousand jails.\n"
        "# Each value is jailctl's minimum, or the value found when prepared if that was higher.\n"
        "# The reasons: docs/DECISIONS.md, \"Host tunables for a thousand jails\".\n";
    for (const auto& r : readings) {
        uint64_t value =
            r.state == TunableState::Absent ? r.tunable->minimum : std::max(r.current, r.tunable->minimum);
        out += "\n# " + std::string(r.tunable->why) + "\n";
        if (r.state == TunableState::Absent)
            out += "# (not visible when prepared: " +
                   std::string(r.tunable->absent ? r.tunable->absent : "no such file") + ")\n";
        out += std::string(r.tunable->name) + " = " + std::to_string(value) + "\n";
    }
    return out;
}

Result<std::vector<std::string>> dropin_shortfalls(const std::string& path) {
    std::vector<std::string> missing;
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) {
        int err = errno;
        if (err != ENOENT) return fail_errno("read sysctl drop-in " + path, err);
        for (const auto& t : kTunables) missing.emplace_back(t.name);
        return missing;
    }
    auto text = read_all(fd.get());
    if (!text) return fail_errno("read sysctl drop-in " + path, text.error());
    std::istringstream in(*text);
    std::map<std::string, std::string> set;  // sysctl.d(5): "name = value", later lines win
    for (std::string line; std::getline(in, line);) {
        line = trim(line);
        if (line.empty() || line[0] == '#' || line[0] == ';') continue;
        size_t eq = line.find('=');
        if (eq == std::string::npos) continue;
        set[trim(line.substr(0, eq))] = trim(line.substr(eq + 1));
    }
    for (const auto& t : kTunables) {
        auto it = set.find(t.name);
        uint64_t v = 0;
        bool ok =
            it != set.end() &&
            std::from_chars(it->second.data(), it->second.data() + it->second.size(), v).ec == std::errc{} &&
            v >= t.minimum;
        if (!ok) missing.emplace_back(t.name);
    }
    return missing;
}

Result<void> write_sysctl_dropin(const std::string& path, const std::string& text) {
    std::string what = "write sysctl drop-in " + path;
    size_t slash = path.rfind('/');
    std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return fail_errno(what + ": mkdir " + dir, errno);

    if (Fd old(::open(path.c_str(), O_RDONLY | O_CLOEXEC)); old.valid()) {
        auto existing = read_all(old.get());
        if (existing && *existing == text) return {};
    }

    if (auto r = write_file_atomically(path, text); !r) return std::unexpected(r.error().context(what));
    return {};
}

}  // namespace jailctl
