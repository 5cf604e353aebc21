// Kernel tunables (sysctls) a host running about a thousand jails needs: the table of
// minimums with the reason for each, reading them, raising them (never lowering what an
// admin set higher) and the persistent sysctl.d drop-in that re-applies them at boot.
// The /proc/sys root is a parameter so unit tests run on a fake tree.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "util/result.h"

namespace jailctl {

inline constexpr const char* kProcSys = "/proc/sys";
// Read by systemd-sysctl / procps at boot; "90-" so an admin's 99-*.conf or sysctl.conf wins.
inline constexpr const char* kSysctlDropIn = "/etc/sysctl.d/90-jailctl.conf";

struct Tunable {
    const char* name;    // sysctl name: "kernel.pid_max"
    uint64_t minimum;    // what jailctl's scale (1000 jails) needs
    const char* why;     // one line, shown by host check and written in the drop-in
    const char* absent;  // when the file may legitimately be missing, why (else nullptr)
};

// The tunables jailctl checks and raises (docs/DECISIONS.md explains each value).
std::span<const Tunable> jail_scale_tunables();

// "net.ipv4.ip_forward" -> "<proc_sys>/net/ipv4/ip_forward".
std::string sysctl_path(const std::string& name, const std::string& proc_sys = kProcSys);

// The current value; nullopt when the file does not exist. Errors (unreadable, not a
// single unsigned number) name the sysctl and the operation.
Result<std::optional<uint64_t>> read_tunable(const std::string& name, const std::string& proc_sys = kProcSys);

enum class TunableState { Ok, Low, Absent };

struct TunableReading {
    const Tunable* tunable;
    TunableState state;
    uint64_t current = 0;  // valid unless Absent
};

// Reads one tunable and compares it with its minimum.
Result<TunableReading> inspect_tunable(const Tunable& tunable, const std::string& proc_sys = kProcSys);

// Writes `minimum` when the current value is lower; leaves a higher or equal value alone.
// Returns the value in effect afterwards. An absent file is an error here (callers decide
// beforehand whether absence is acceptable).
Result<uint64_t> raise_tunable(const std::string& name, uint64_t minimum,
                               const std::string& proc_sys = kProcSys);

// The drop-in's text: for each reading, max(current, minimum) — so a reboot never lowers a
// value that was higher when prepared — or the minimum when the file was absent.
std::string render_sysctl_dropin(const std::vector<TunableReading>& readings);
// The tunables whose line in the drop-in at `path` is missing or below the minimum ("name"
// each); every tunable when the file does not exist. Errors: the file exists but is unreadable.
Result<std::vector<std::string>> dropin_shortfalls(const std::string& path);
// Installs the drop-in atomically (temp file in the same directory, fsync, rename), creating
// the directory (0755) when missing. Leaves an identical file untouched.
Result<void> write_sysctl_dropin(const std::string& path, const std::string& text);

}  // namespace jailctl
