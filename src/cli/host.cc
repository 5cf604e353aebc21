// jailctl host check | host prepare: the host's prerequisites, each OK or missing with its fix.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <tuple>

#include <lxc/version.h>

#include "cli/verbs.h"
#include "services/php.h"
#include "host/network.h"
#include "host/snapshot.h"
#include "host/subid.h"
#include "host/tunables.h"

namespace jailctl {
namespace {

struct Check {
    std::string name;
    bool ok;
    std::string detail;
    std::string fix;  // empty when ok
    // The word printed first: "OK" / "missing" by default; tunables say "low", "unseen" (ok,
    // but not visible from this network namespace) or "unreadable".
    std::string state = "";
    std::optional<uint64_t> value, minimum;  // tunables only
};

std::string state_of(const Check& c) { return !c.state.empty() ? c.state : c.ok ? "OK" : "missing"; }

// One check per kernel tunable of host/tunables.h. A tunable this namespace cannot see
// (the ARP thresholds outside the initial netns) is not a failure: jailctl cannot tell its
// value, and failing the check of a nested or test setup on it would help nobody.
void add_tunable_checks(std::vector<Check>& c) {
    for (const auto& t : jail_scale_tunables()) {
        std::string need = std::to_string(t.minimum);
        auto r = inspect_tunable(t);
        if (!r) {
            c.push_back({t.name, false, r.error().message, "make " + sysctl_path(t.name) + " readable",
                         "unreadable", std::nullopt, t.minimum});
            continue;
        }
        Check check{t.name, r->state != TunableState::Low, "", "jailctl host prepare"};
        check.minimum = t.minimum;
        switch (r->state) {
            case TunableState::Ok:
                check.value = r->current;
                check.detail = std::to_string(r->current) + " (>= " + need + "): " + t.why;
                break;
            case TunableState::Low:
                check.value = r->current;
                check.state = "low";
                check.detail = std::to_string(r->current) + " < " + need + ": " + t.why;
                break;
            case TunableState::Absent:
                check.state = t.absent ? "unseen" : "missing";
                check.ok = t.absent != nullptr;
                check.detail = "not visible (" + sysctl_path(t.name) + " absent): " +
                               (t.absent ? std::string(t.absent) + "; prepare still writes " + need + " to " +
                                               kSysctlDropIn
                                         : std::string("this kernel lacks it"));
                if (!t.absent) check.fix = "a kernel with " + std::string(t.name);
                break;
        }
        c.push_back(std::move(check));
    }
    auto short_in_file = dropin_shortfalls(kSysctlDropIn);
    std::string detail = kSysctlDropIn;
    if (!short_in_file)
        detail = short_in_file.error().message;
    else if (!short_in_file->empty()) {
        detail += " lacks (or sets lower)";
        for (const auto& n : *short_in_file) detail += " " + n;
    }
    c.push_back(
        {"sysctls after reboot", short_in_file && short_in_file->empty(), detail, "jailctl host prepare"});
}

// "/dev/loop-control (N loop devices now)": LOOP_CTL_GET_FREE adds devices on demand, and the
// loop module's max_loop only bounds the legacy auto-creation on open, so 1000 jails need no setting.
std::string loop_detail() {
    size_t n = 0;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/sys/block", ec))
        if (e.path().filename().string().starts_with("loop")) ++n;
    return "/dev/loop-control (" + std::to_string(n) + " loop devices now; more are created on demand)";
}

bool executable(const std::string& path) { return ::access(path.c_str(), X_OK) == 0; }

std::string cgroup_layout() {
    struct stat st{};
    if (::stat("/sys/fs/cgroup/cgroup.controllers", &st) == 0) return "v2 (unified)";
    if (::stat("/sys/fs/cgroup/unified", &st) == 0) return "hybrid (v1 controllers + v2)";
    if (::stat("/sys/fs/cgroup/memory", &st) == 0) return "v1";
    return "";
}

// Informational (never fails the host): how backup and clone will copy a running jail's image.
// Probed where the images live, or the nearest existing parent before the first jail.
Check snapshot_check(const Context& ctx) {
    std::filesystem::path dir = ctx.paths.lxcpath;
    std::error_code ec;
    while (!std::filesystem::is_directory(dir, ec) && dir.has_relative_path()) dir = dir.parent_path();
    Check check{"snapshots", true, "", ""};
    auto support = snapshot_support(dir);
    if (!support) {
        check.state = "unknown";
        check.detail = support.error().message;
    } else if (support->method == SnapshotMethod::Reflink) {
        check.state = "reflink";
        check.detail = dir.string() + " is " + support->filesystem +
                       " with reflinks: backup and clone freeze a running jail for milliseconds";
    } else {
        check.state = "copy";
        check.detail = dir.string() + " is " + support->filesystem +
                       " without reflinks: backup and clone freeze a running jail's writers while its data is "
                       "copied (about 1 s per GiB); an XFS root (mkfs.xfs -m reflink=1) makes it milliseconds";
    }
    return check;
}

// ACME (host.conf): "off" is information (sites keep self-signed certificates), not a failure.
Check acme_check(const Context& ctx) {
    auto acme = configured_acme(ctx.paths);
    if (!acme.enabled())
        return {"acme", true, "no acme_directory in " + ctx.paths.host_conf + ": sites serve self-signed certificates", "",
                "off"};
    if (auto r = check_acme_settings(acme); !r)
        return {"acme", false, r.error().message, "correct it in " + ctx.paths.host_conf, "invalid"};
    if (!executable("/usr/bin/uacme")) return {"acme", false, "/usr/bin/uacme (the ACME client)", "apt-get install uacme"};
    std::string detail = acme.directory + (acme.email.empty() ? ", no contact e-mail" : ", account " + acme.email);
    if (!acme.ca_bundle.empty()) detail += ", also trusting " + acme.ca_bundle;
    return {"acme", true, detail, ""};
}

// Informational (PHP is optional): whether `--profile php` can be used on this host.
Check php_check() {
    PhpRuntime php = find_php();
    Check check{"php", true, "", ""};
    if (php.fpm.empty()) {
        check.state = "absent";
        check.detail = std::string("no php-fpm in /usr/sbin: --profile php is refused; apt-get install ") +
                       std::string(kPhpPackage) + " to offer it";
    } else {
        check.detail = php.fpm + " with " + std::to_string(php.extensions.size()) + " extensions: --profile php available";
    }
    return check;
}

std::vector<Check> run_checks(const Context& ctx) {
    std::vector<Check> c;
    c.push_back({"root", ::geteuid() == 0, "effective uid " + std::to_string(::geteuid()), "run jailctl as root"});
    c.push_back({"loop devices", ::access("/dev/loop-control", R_OK | W_OK) == 0, loop_detail(), "modprobe loop"});
    std::string layout = cgroup_layout();
    c.push_back({"cgroups", !layout.empty(), layout.empty() ? "no cgroup hierarchy found" : layout,
                 "mount cgroup2 on /sys/fs/cgroup"});
    c.push_back({"liblxc", true, std::string("version ") + LXC_VERSION, ""});
    for (auto [name, path, pkg] : {std::tuple{"nginx", "/usr/sbin/nginx", "nginx-light"},
                                   std::tuple{"vsftpd", "/usr/sbin/vsftpd", "vsftpd"},
                                   std::tuple{"mkfs.ext4", "/usr/sbin/mkfs.ext4", "e2fsprogs"},
                                   std::tuple{"e2fsck", "/usr/sbin/e2fsck", "e2fsprogs"},
                                   std::tuple{"newuidmap", "/usr/bin/newuidmap", "uidmap"},
                                   std::tuple{"lxc-start", "/usr/bin/lxc-start", "lxc"}})
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
    c.push_back(snapshot_check(ctx));
    c.push_back(acme_check(ctx));
    c.push_back(php_check());
    add_tunable_checks(c);
    for (auto& check : c)
        if (check.ok) check.fix.clear();
    return c;
}

int print_checks(const Context& ctx, const std::vector<Check>& checks) {
    bool all_ok = std::all_of(checks.begin(), checks.end(), [](auto& c) { return c.ok; });
    if (ctx.options.json) {
        auto arr = nlohmann::json::array();
        for (const auto& c : checks) {
            nlohmann::json j{
                {"name", c.name}, {"ok", c.ok}, {"state", state_of(c)}, {"detail", c.detail}, {"fix", c.fix}};
            if (c.value) j["value"] = *c.value;
            if (c.minimum) j["minimum"] = *c.minimum;
            arr.push_back(std::move(j));
        }
        std::cout << nlohmann::json{{"result", all_ok ? "OK" : "KO"}, {"checks", arr}}.dump(2) << "\n";
    } else {
        for (const auto& c : checks) {
            std::printf("%-10s %-24s %s%s\n", state_of(c).c_str(), c.name.c_str(), c.detail.c_str(),
                        c.ok ? "" : ("  -> fix: " + c.fix).c_str());
        }
        std::printf("%s\n", all_ok ? "OK" : "KO: host: prerequisites missing (see above)");
    }
    return all_ok ? 0 : static_cast<int>(ErrorKind::HostNotReady);
}

// Raises every low tunable live, then records the values in the sysctl.d drop-in so a
// reboot keeps them. A tunable this namespace cannot see gets its minimum in the drop-in only.
Result<void> raise_tunables() {
    std::vector<TunableReading> readings;
    for (const auto& t : jail_scale_tunables()) {
        auto r = inspect_tunable(t);
        if (!r) return std::unexpected(r.error());
        if (r->state == TunableState::Low) {
            auto now = raise_tunable(t.name, t.minimum);
            if (!now) return std::unexpected(now.error());
            r->current = *now;
            r->state = TunableState::Ok;
        }
        readings.push_back(*r);
    }
    return write_sysctl_dropin(kSysctlDropIn, render_sysctl_dropin(readings));
}

int run_prepare(Context& ctx) {
    uint64_t count = uint64_t{kMaxJailIds} * kIdRangeSize;
    for (const char* file : {kSubuidFile, kSubgidFile})
        if (auto r = declare_subid_range(file, kIdBase, count); !r) return report_error(ctx, "host-prepare", r.error());
    auto fwd = ipv4_forwarding_enabled();
    if (fwd && !*fwd)
        if (auto r = enable_ipv4_forwarding(); !r) return report_error(ctx, "host-prepare", r.error());
    if (auto r = raise_tunables(); !r) return report_error(ctx, "host-prepare", r.error());
    return print_checks(ctx, run_checks(ctx));
}

}  // namespace

void add_host(CLI::App& app, Context& ctx, Action& action) {
    auto* host = app.add_subcommand("host", "The host's prerequisites");
    host->require_subcommand(1);
    host->add_subcommand("check", "List every prerequisite as OK or missing, with the fix")->callback([&] {
        action = [&ctx] { return print_checks(ctx, run_checks(ctx)); };
    });
    host->add_subcommand("prepare", "Apply what jailctl may apply itself (id ranges, forwarding, kernel tunables)")->callback([&] {
        action = [&ctx] { return run_prepare(ctx); };
    });
}

}  // namespace jailctl
