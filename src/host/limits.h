// Per-jail resource limits (memory, CPU, processes) as cgroup settings, for both
// cgroup layouts: v1/hybrid (memory.limit_in_bytes, cpu.cfs_quota_us, pids.max in
// their v1 hierarchies — this kind of host) and unified v2 (memory.max, cpu.max,
// pids.max). LXC applies them at start (lxc.cgroup.* / lxc.cgroup2.* keys) and
// jailctl sets them live on a running jail through liblxc.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/result.h"

namespace jailctl {

struct Limits {
    uint64_t memory_bytes = 256ull << 20;  // RAM (+ page cache) of the whole jail
    uint32_t millicpus = 1000;             // 1000 = one full CPU
    uint32_t pids = 512;                   // processes and threads
};

enum class CgroupLayout { V1, V2 };

// Where memory, cpu and pids live on this host: V2 only when the unified hierarchy
// mounted at /sys/fs/cgroup offers all three controllers.
CgroupLayout detect_cgroup_layout();

// "0.5", "2", "1.25" -> millicpus (0.01 to 1024 CPUs); errors name the field "cpus".
Result<uint32_t> parse_cpus(const std::string& text);
std::string format_cpus(uint32_t millicpus);

// What this host can give a jail at most: its memory (MemTotal) and its online CPUs
// (those this process may run on, so a cpuset that confines jailctl confines the count).
// A limit above them can never be reached and only hides an operator's typo
// (`--memory 1T` for 1G). 0 = unknown (not checked).
struct HostCapacity {
    uint64_t memory_bytes = 0;
    uint32_t cpus = 0;
};
HostCapacity host_capacity();
// MemTotal of a /proc/meminfo text, in bytes; 0 when absent (pure; unit-tested).
uint64_t parse_meminfo_total(std::string_view meminfo);
// Bad input naming the field and the host's value when a limit exceeds the host (pure).
Result<void> check_fits_host(const Limits& limits, const HostCapacity& host);

// (key, value) pairs without the "lxc.cgroup." / "lxc.cgroup2." prefix, e.g.
// {"memory.limit_in_bytes", "268435456"} (pure; unit-tested).
std::vector<std::pair<std::string, std::string>> cgroup_settings(const Limits& limits, CgroupLayout layout);
// The LXC config lines for them.
std::string render_limits_config(const Limits& limits, CgroupLayout layout);

// Current usage of a running jail, read through liblxc (0 when unknown).
struct Usage {
    uint64_t memory_bytes = 0;
    uint64_t pids = 0;
    uint64_t cpu_usec = 0;  // CPU time used since start (v1 cpuacct.usage, v2 cpu.stat usage_usec)
};
// The "usage_usec N" of a cgroup v2 cpu.stat; 0 when absent (pure; unit-tested).
uint64_t parse_cpu_stat_usec(std::string_view cpu_stat);
Usage read_usage(const std::string& lxcpath, const std::string& name, CgroupLayout layout);

// The jails' payload cgroups as files, read without liblxc: `status` of a thousand jails
// reads a few files per jail instead of loading each container and asking its monitor.
// One readdir of the pids hierarchy's root (v1: <root>/pids, v2: <root>) at construction.
class PayloadCgroups {
public:
    enum class Verdict { Running, Stopped, Unknown };  // Unknown: ask LXC
    struct State {
        Verdict verdict = Verdict::Unknown;
        Usage usage;
    };
    explicit PayloadCgroups(CgroupLayout layout, std::string root = "/sys/fs/cgroup");
    // Running: lxc.payload.<name> holds processes. Stopped: no payload cgroup of that name
    // (nor a "-N" variant). Unknown otherwise (empty, starting, stopping, a "-N" variant, no
    // pids hierarchy on this host).
    // The memory usage is read only `with_memory`.
    State state_of(const std::string& name, bool with_memory = true) const;

private:
    CgroupLayout layout_;
    std::string root_;
    std::vector<std::string> payloads_;  // sorted names "lxc.payload.*" in the pids hierarchy
    bool readable_ = false;              // that hierarchy could be listed (else: always Unknown)
};

// Applies the limits to a running jail.
Result<void> apply_limits_live(const std::string& lxcpath, const std::string& name, const Limits& limits,
                               CgroupLayout layout);

}  // namespace jailctl
