#include "host/limits.h"

#include <dirent.h>
#include <fcntl.h>
#include <lxc/lxccontainer.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <memory>
#include <sstream>
#include <string_view>

#include "jail/byte_size.h"

namespace jailctl {
namespace {

constexpr uint32_t kCpuPeriodUs = 100000;

struct ContainerDeleter {
    void operator()(lxc_container* c) const { lxc_container_put(c); }
};

std::string read_item(lxc_container* c, const char* key) {
    char buf[64] = {};
    int n = c->get_cgroup_item(c, key, buf, sizeof buf - 1);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

// A whole small file (cgroup v2 cpu.stat, a few hundred bytes); "" when unreadable. Plain
// read(2): `status` calls this for every jail.
std::string read_cgroup_text(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return "";
    char buf[1024];
    ssize_t n = ::read(fd, buf, sizeof buf);
    ::close(fd);
    return std::string(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
}

// The first word of a small (cgroup) file; "" when unreadable.
std::string read_small_file(const std::string& path) {
    std::string text = read_cgroup_text(path);
    return text.substr(0, text.find_first_of(" \n"));
}

uint64_t to_u64(const std::string& s) {
    try {
        return std::stoull(s);
    } catch (...) {
        return 0;
    }
}

}  // namespace

uint64_t parse_cpu_stat_usec(std::string_view cpu_stat) {
    constexpr std::string_view key = "usage_usec ";
    for (size_t at = 0; at < cpu_stat.size();) {
        size_t end = cpu_stat.find('\n', at);
        std::string_view line = cpu_stat.substr(at, end == std::string_view::npos ? std::string_view::npos : end - at);
        if (line.starts_with(key)) {
            uint64_t value = 0;
            auto digits = line.substr(key.size());
            auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
            return ec == std::errc() && ptr != digits.data() ? value : 0;
        }
        if (end == std::string_view::npos) break;
        at = end + 1;
    }
    return 0;
}

CgroupLayout detect_cgroup_layout() {
    std::ifstream in("/sys/fs/cgroup/cgroup.controllers");
    std::string word;
    int found = 0;
    while (in >> word) found += word == "memory" || word == "cpu" || word == "pids";
    return found == 3 ? CgroupLayout::V2 : CgroupLayout::V1;
}

Result<uint32_t> parse_cpus(const std::string& text) {
    if (text.empty() || text.size() > 12 || text.find_first_not_of("0123456789.") != std::string::npos ||
        std::count(text.begin(), text.end(), '.') > 1 || text.front() == '.' || text.back() == '.')
        return fail_input("cpus", "'" + text + "' is not a number of CPUs (e.g. 0.5, 1, 2)");
    double cpus = std::stod(text);
    auto milli = static_cast<uint64_t>(std::llround(cpus * 1000));
    if (milli < 10 || milli > 1024 * 1000)
        return fail_input("cpus", "'" + text + "' is outside 0.01 to 1024");
    return static_cast<uint32_t>(milli);
}

uint64_t parse_meminfo_total(std::string_view meminfo) {
    constexpr std::string_view key = "MemTotal:";
    for (size_t at = 0; at < meminfo.size();) {
        size_t eol = meminfo.find('\n', at);
        std::string_view line = meminfo.substr(at, eol == std::string_view::npos ? eol : eol - at);
        if (line.starts_with(key)) {
            // "MemTotal:       24576000 kB"
            line.remove_prefix(key.size());
            line.remove_prefix(std::min(line.find_first_not_of(' '), line.size()));
            size_t digits = std::min(line.find_first_not_of("0123456789"), line.size());
            if (digits == 0 || digits > 15 || line.substr(digits) != " kB") return 0;
            return to_u64(std::string(line.substr(0, digits))) << 10;
        }
        if (eol == std::string_view::npos) break;
        at = eol + 1;
    }
    return 0;
}

HostCapacity host_capacity() {
    HostCapacity host;
    std::ifstream in("/proc/meminfo");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    host.memory_bytes = parse_meminfo_total(text);
    long online = ::sysconf(_SC_NPROCESSORS_ONLN);
    cpu_set_t set;
    CPU_ZERO(&set);
    int allowed = ::sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 0;
    if (online > 0) host.cpus = static_cast<uint32_t>(online);
    if (allowed > 0 && (host.cpus == 0 || static_cast<uint32_t>(allowed) < host.cpus))
        host.cpus = static_cast<uint32_t>(allowed);
    return host;
}

Result<void> check_fits_host(const Limits& limits, const HostCapacity& host) {
    if (host.memory_bytes && limits.memory_bytes > host.memory_bytes)
        return fail_input("memory", human_bytes(limits.memory_bytes) + " is more than this host's " +
                                        human_bytes(host.memory_bytes) + " of memory (MemTotal)");
    if (host.cpus && limits.millicpus > uint64_t{host.cpus} * 1000)
        return fail_input("cpus", format_cpus(limits.millicpus) + " is more than this host's " +
                                      std::to_string(host.cpus) + " online CPU" + (host.cpus == 1 ? "" : "s"));
    return {};
}

std::string format_cpus(uint32_t millicpus) {
    std::ostringstream s;
    s << millicpus / 1000;
    if (millicpus % 1000) {
        std::string frac = std::to_string(1000 + millicpus % 1000).substr(1);
        while (frac.back() == '0') frac.pop_back();
        s << "." << frac;
    }
    return s.str();
}

std::vector<std::pair<std::string, std::string>> cgroup_settings(const Limits& l, CgroupLayout layout) {
    uint64_t quota = uint64_t{l.millicpus} * kCpuPeriodUs / 1000;
    if (layout == CgroupLayout::V2)
        return {{"memory.max", std::to_string(l.memory_bytes)},
                {"cpu.max", std::to_string(quota) + " " + std::to_string(kCpuPeriodUs)},
                {"pids.max", std::to_string(l.pids)}};
    return {{"memory.limit_in_bytes", std::to_string(l.memory_bytes)},
            {"cpu.cfs_period_us", std::to_string(kCpuPeriodUs)},
            {"cpu.cfs_quota_us", std::to_string(quota)},
            {"pids.max", std::to_string(l.pids)}};
}

std::string render_limits_config(const Limits& l, CgroupLayout layout) {
    std::string prefix = layout == CgroupLayout::V2 ? "lxc.cgroup2." : "lxc.cgroup.";
    std::string out;
    for (const auto& [key, value] : cgroup_settings(l, layout)) out += prefix + key + " = " + value + "\n";
    return out;
}

Usage read_usage(const std::string& lxcpath, const std::string& name, CgroupLayout layout) {
    std::unique_ptr<lxc_container, ContainerDeleter> c(lxc_container_new(name.c_str(), lxcpath.c_str()));
    if (!c || !c->is_running(c.get())) return {};
    bool v2 = layout == CgroupLayout::V2;
    return {to_u64(read_item(c.get(), v2 ? "memory.current" : "memory.usage_in_bytes")),
            to_u64(read_item(c.get(), "pids.current")),
            v2 ? parse_cpu_stat_usec(read_item(c.get(), "cpu.stat")) : to_u64(read_item(c.get(), "cpuacct.usage")) / 1000};
}

Result<void> apply_limits_live(const std::string& lxcpath, const std::string& name, const Limits& limits,
                               CgroupLayout layout) {
    std::unique_ptr<lxc_container, ContainerDeleter> c(lxc_container_new(name.c_str(), lxcpath.c_str()));
    if (!c) return fail("LXC: cannot load container " + name);
    if (!c->is_running(c.get())) return {};
    for (const auto& [key, value] : cgroup_settings(limits, layout)) {
        if (!c->set_cgroup_item(c.get(), key.c_str(), value.c_str()))
            return fail("set " + key + " = " + value + " on the running jail " + name +
                        " (lower than its current usage?)");
    }
    return {};
}

PayloadCgroups::PayloadCgroups(CgroupLayout layout, std::string root) : layout_(layout), root_(std::move(root)) {
    std::string dir = layout_ == CgroupLayout::V2 ? root_ : root_ + "/pids";
    if (DIR* d = ::opendir(dir.c_str())) {
        readable_ = true;
        while (const dirent* e = ::readdir(d))
            if (std::string_view(e->d_name).starts_with("lxc.payload.")) payloads_.emplace_back(e->d_name);
        ::closedir(d);
    }
    std::sort(payloads_.begin(), payloads_.end());
}

PayloadCgroups::State PayloadCgroups::state_of(const std::string& name, bool with_memory) const {
    if (!readable_) return {};  // no pids hierarchy to read: Unknown, ask LXC
    const std::string exact = "lxc.payload." + name;
    // "-N" variants (LXC's pick when the name is taken) sort right after the exact name.
    auto it = std::lower_bound(payloads_.begin(), payloads_.end(), exact);
    bool has_exact = it != payloads_.end() && *it == exact;
    if (has_exact) ++it;
    bool has_variant = it != payloads_.end() && it->starts_with(exact + "-");
    if (!has_exact) return {has_variant ? Verdict::Unknown : Verdict::Stopped, {}};
    bool v2 = layout_ == CgroupLayout::V2;
    uint64_t pids = to_u64(read_small_file((v2 ? root_ : root_ + "/pids") + "/" + exact + "/pids.current"));
    if (pids == 0) return {Verdict::Unknown, {}};
    if (!with_memory) return {Verdict::Running, {0, pids}};
    uint64_t memory = to_u64(read_small_file(v2 ? root_ + "/" + exact + "/memory.current"
                                                 : root_ + "/memory/" + exact + "/memory.usage_in_bytes"));
    uint64_t cpu_usec = v2 ? parse_cpu_stat_usec(read_cgroup_text(root_ + "/" + exact + "/cpu.stat"))
                           : to_u64(read_small_file(root_ + "/cpuacct/" + exact + "/cpuacct.usage")) / 1000;
    return {Verdict::Running, {memory, pids, cpu_usec}};
}

}  // namespace jailctl
