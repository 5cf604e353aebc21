// jailctl host check | host prepare: the host's prerequisites, each OK or missing with its fix.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <tuple>
#include <iostream>
#include <memory>

#include <lxc/version.h>

#include "cli/verbs.h"
#include "host/network.h"
#include "host/subid.h"

namespace jailctl {
namespace {

struct Check {
    std::string name;
    bool ok;
    std::string detail;
    std::string fix;  // empty when ok
};

bool executable(const std::string& path) { return ::access(path.c_str(), X_OK) == 0; }

std::string read_first(const std::string& path) {
    std::ifstream in(path);
    std::string v;
    in >> v;
    return v;
}

std::string cgroup_layout() {
    struct stat st{};
    if (::stat("/sys/fs/cgroup/cgroup.controllers", &st) == 0) return "v2 (unified)";
    if (::stat("/sys/fs/cgroup/unified", &st) == 0) return "hybrid (v1 controllers + v2)";
    if (::stat("/sys/fs/cgroup/memory", &st) == 0) return "v1";
    return "";
}

std::vector<Check> run_checks(const Context& ctx) {
    std::vector<Check> c;
    c.push_back({"root", ::geteuid() == 0, "effective uid " + std::to_string(::geteuid()), "run jailctl as root"});
    std::string userns = read_first("/proc/sys/user/max_user_namespaces");
    c.push_back({"user namespaces", !userns.empty() && userns != "0", "max_user_namespaces=" + userns,
                 "sysctl -w user.max_user_namespaces=15000"});
    c.push_back({"loop devices", ::access("/dev/loop-control", R_OK | W_OK) == 0, "/dev/loop-control",
                 "modprobe loop"});
    std::string layout = cgroup_layout();
    c.push_back({"cgroups", !layout.empty(), layout.empty() ? "no cgroup hierarchy found" : layout,
                 "mount cgroup2 on /sys/fs/cgroup"});
    c.push_back({"liblxc", true, std::string("version ") + LXC_VERSION, ""});
    for (auto [name, path, pkg] : {std::tuple{"nginx", "/usr/sbin/nginx", "nginx-light"},
                                   std::tuple{"vsftpd", "/usr/sbin/vsftpd", "vsftpd"},
                                   std::tuple{"mkfs.ext4", "/usr/sbin/mkfs.ext4", "e2fsprogs"},
                                   std::tuple{"e2fsck", "/usr/sbin/e2fsck", "e2fsprogs"},
                                   std::tuple{"newuidmap", "/usr/bin/newuidmap", "uidmap"}})
        c.push_back({name, executable(path), path, std::string("apt-get install ") + pkg});
    c.push_back({"jailctl-init", executable(ctx.init_path), ctx.init_path, "reinstall jailctl"});
    uint64_t count = uint64_t{kMaxJailIds} * kIdRangeSize;
    std::string range = "root:" + std::to_string(kIdBase) + ":" + std::to_string(count);
    for (const char* file : {kSubuidFile, kSubgidFile}) {
        auto ok = subid_declared(file, kIdBase, count);
        c.push_back({std::string("ids in ") + file, ok && *ok, range, "jailctl host prepare"});
    }
    auto fwd = ipv4_forwarding_enabled();
    c.push_back({"ipv4 forwarding", fwd && *fwd, "net.ipv4.ip_forward", "jailctl host prepare"});
    auto up = find_uplink(configured_uplink(ctx));
    c.push_back({"uplink", bool(up), up ? up->name + " " + up->address + "/" + std::to_string(up->prefix_len)
                                        : up.error().message,
                 "--uplink IF, or 'uplink = IF' in " + ctx.paths.host_conf});
    for (auto& check : c)
        if (check.ok) check.fix.clear();
    return c;
}

int print_checks(const Context& ctx, const std::vector<Check>& checks) {
    bool all_ok = std::all_of(checks.begin(), checks.end(), [](auto& c) { return c.ok; });
    if (ctx.options.json) {
        auto arr = nlohmann::json::array();
        for (const auto& c : checks)
            arr.push_back({{"name", c.name}, {"ok", c.ok}, {"detail", c.detail}, {"fix", c.fix}});
        std::cout << nlohmann::json{{"result", all_ok ? "OK" : "KO"}, {"checks", arr}}.dump(2) << "\n";
    } else {
        for (const auto& c : checks) {
            std::printf("%-8s %-22s %s%s\n", c.ok ? "OK" : "missing", c.name.c_str(), c.detail.c_str(),
                        c.ok ? "" : ("  -> fix: " + c.fix).c_str());
        }
        std::printf("%s\n", all_ok ? "OK" : "KO: host: prerequisites missing (see above)");
    }
    return all_ok ? 0 : static_cast<int>(ErrorKind::HostNotReady);
}

int run_prepare(Context& ctx) {
    uint64_t count = uint64_t{kMaxJailIds} * kIdRangeSize;
    for (const char* file : {kSubuidFile, kSubgidFile})
        if (auto r = declare_subid_range(file, kIdBase, count); !r) return report_error(ctx, "host-prepare", r.error());
    auto fwd = ipv4_forwarding_enabled();
    if (fwd && !*fwd)
        if (auto r = enable_ipv4_forwarding(); !r) return report_error(ctx, "host-prepare", r.error());
    return print_checks(ctx, run_checks(ctx));
}

}  // namespace

void add_host(CLI::App& app, Context& ctx, Action& action) {
    auto* host = app.add_subcommand("host", "The host's prerequisites");
    host->require_subcommand(1);
    host->add_subcommand("check", "List every prerequisite as OK or missing, with the fix")->callback([&] {
        action = [&ctx] { return print_checks(ctx, run_checks(ctx)); };
    });
    host->add_subcommand("prepare", "Apply what jailctl may apply itself (id ranges, forwarding)")->callback([&] {
        action = [&ctx] { return run_prepare(ctx); };
    });
}

}  // namespace jailctl
