// jailctl status [DOMAIN...]: the classic listing, or --json.
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>
#include <unordered_map>
#include <unordered_set>

#include "cli/jail_ops.h"
#include "cli/status_format.h"
#include "cli/web_ops.h"
#include "cli/verbs.h"
#include "host/image.h"
#include "host/jail_fs.h"
#include "host/limits.h"
#include "host/lxc.h"
#include "host/mount.h"
#include "jail/domain.h"

namespace jailctl {
namespace {

// jailctl-init's state file: written inside the jail, so untrusted — read without
// following links, size-capped, and only the expected fields of the expected types kept.
nlohmann::json init_services(const Context& ctx, const std::string& domain) {
    auto out = nlohmann::json::array();
    auto root = open_jail_root(ctx.paths.rootfs(domain));
    if (!root) return out;
    auto text = read_jail_file(root->get(), "run/jailctl/init.json", 64 * 1024);
    if (!text) return out;
    auto doc = nlohmann::json::parse(*text, nullptr, false);
    if (!doc.is_object() || !doc["services"].is_array()) return out;
    for (const auto& s : doc["services"]) {
        if (!s.is_object() || !s["name"].is_string() || !s["state"].is_string() || !s["restarts"].is_number_unsigned())
            continue;
        out.push_back({{"name", s["name"].get<std::string>().substr(0, 64)},
                       {"state", s["state"].get<std::string>().substr(0, 16)},
                       {"restarts", s["restarts"].get<uint64_t>()}});
    }
    return out;
}

// What the kernel says about every jail, read once per `status` (not once per jail).
struct HostView {
    CgroupLayout layout = detect_cgroup_layout();
    PayloadCgroups cgroups{layout};
    std::unordered_set<std::string> mount_points;
    HostView() {
        if (auto mounts = list_mounts())
            for (auto& m : *mounts) mount_points.insert(std::move(m.mount_point));
    }
};

// `detail`: usage, services and disk use too (only --json shows them; the text listing needs
// the state alone, which keeps `status` of a thousand jails to one file read per jail).
// `interrupted`: the verb of an unfinished task of this jail whose process died ("" = none).
JailStatus inspect(const Context& ctx, const HostView& host, const JailRecord& rec, bool detail,
                   const std::string& interrupted) {
    JailStatus s;
    s.rec = rec;
    if (rec.state != "ready") {
        s.state = JailState::NotConfigured;
        s.reason = rec.reason.empty() ? "state '" + rec.state + "': an interrupted task; run 'jailctl repair " +
                                            rec.domain + "'"
                                      : rec.reason;
        return s;
    }
    if (!interrupted.empty()) {  // e.g. a grow killed after its stop: the jail looks merely stopped
        s.state = JailState::NotConfigured;
        // the journal's verb as the operator typed it (grow-fallback, restore-replace-stopped)
        const std::string verb = interrupted.rfind("grow", 0) == 0       ? "grow"
                                 : interrupted.rfind("restore-replace", 0) == 0 ? "restore --replace"
                                                                                 : interrupted;
        s.reason = "an interrupted " + verb + " (its process died): run 'jailctl repair " + rec.domain + "'";
        return s;
    }
    if (auto disk = require_disk(ctx, rec); !disk) {
        s.state = JailState::NotConfigured;
        s.reason = disk.error().message;
        return s;
    }
    auto cg = host.cgroups.state_of(rec.domain, detail);
    if (cg.verdict == PayloadCgroups::Verdict::Unknown) {  // starting, stopping, odd cgroup names: ask LXC
        cg.verdict = lxc_running(ctx.paths.lxcpath, rec.domain) ? PayloadCgroups::Verdict::Running
                                                                : PayloadCgroups::Verdict::Stopped;
        if (cg.verdict == PayloadCgroups::Verdict::Running)
            cg.usage = read_usage(ctx.paths.lxcpath, rec.domain, host.layout);
    }
    s.state = cg.verdict == PayloadCgroups::Verdict::Running ? JailState::Running : JailState::Stopped;
    // Disk use for the text listing too (one statvfs per mounted jail): it marks full disks.
    const std::string rootfs = ctx.paths.rootfs(rec.domain);
    std::error_code ec;
    if (host.mount_points.contains(std::filesystem::absolute(rootfs, ec).lexically_normal().string()))
        if (auto use = disk_use(rootfs)) {
            s.used_bytes = use->used_bytes;
            s.free_bytes = use->free_bytes;
            s.disk_known = true;
        }
    if (!detail) return s;
    if (s.state == JailState::Running) {
        s.memory_used = cg.usage.memory_bytes;
        s.pids_used = cg.usage.pids;
        s.cpu_usec = cg.usage.cpu_usec;
        s.services = init_services(ctx, rec.domain);
    }
    if (s.disk_known) s.web = web_json(ctx.paths, rec);  // the certificate is read from the mounted disk
    return s;
}

// The jails' status, in registry order; `wanted` (typed domains) filters, each must exist.
Result<std::vector<JailStatus>> collect_status(Context& ctx, const std::vector<std::string>& filter, bool detail) {
    if (auto r = ctx.open(); !r) return std::unexpected(r.error());
    auto jails = ctx.registry().list();
    if (!jails) return std::unexpected(jails.error());
    std::vector<std::string> wanted;
    for (const auto& f : filter) {
        auto d = Domain::parse(f);
        if (!d) return std::unexpected(d.error());
        wanted.push_back(d->str());
    }
    std::unordered_map<std::string, std::string> interrupted;  // domain -> verb
    if (auto open = ctx.registry().unfinished_tasks())
        for (const auto& t : *open)
            if (task_interrupted(t)) interrupted.emplace(t.domain, t.verb);
    std::vector<JailStatus> statuses;
    HostView host;
    for (const auto& rec : *jails) {
        if (!wanted.empty() && std::find(wanted.begin(), wanted.end(), rec.domain) == wanted.end()) continue;
        auto it = interrupted.find(rec.domain);
        statuses.push_back(inspect(ctx, host, rec, detail, it == interrupted.end() ? "" : it->second));
    }
    for (const auto& w : wanted) {
        bool found = std::any_of(statuses.begin(), statuses.end(), [&](auto& s) { return s.rec.domain == w; });
        if (!found) return fail_input("domain", w + " is not a jail on this host");
    }
    return statuses;
}

int run_status(Context& ctx, const std::vector<std::string>& filter) {
    // Named jails: their details in the text too (the certificate is read from each one's disk).
    auto statuses = collect_status(ctx, filter, ctx.options.json || !filter.empty());
    if (!statuses) return report_error(ctx, "validate", statuses.error());
    std::cout << (ctx.options.json     ? status_json(*statuses).dump(2) + "\n"
                  : filter.empty() ? status_text(*statuses)
                                   : status_detail_text(*statuses));
    return 0;
}

}  // namespace

// --names: the registered domains, one per line, from the registry alone (shell completion).
int run_names(Context& ctx) {
    if (auto r = ctx.open(); !r) return report_error(ctx, "validate", r.error());
    auto jails = ctx.registry().list();
    if (!jails) return report_error(ctx, "validate", jails.error());
    nlohmann::json names = nlohmann::json::array();
    for (const auto& rec : *jails) names.push_back(rec.domain);
    if (ctx.options.json) {
        std::cout << nlohmann::json{{"names", names}}.dump(2) << "\n";
    } else {
        for (const auto& n : names) std::cout << n.get<std::string>() << "\n";
    }
    return 0;
}

Result<std::vector<JailStatus>> inspect_jails(Context& ctx, bool detail) { return collect_status(ctx, {}, detail); }

Result<nlohmann::json> status_objects(Context& ctx, const std::vector<std::string>& filter) {
    auto statuses = collect_status(ctx, filter, true);
    if (!statuses) return std::unexpected(statuses.error());
    return status_json(*statuses);
}

void add_status(CLI::App& app, Context& ctx, Action& action) {
    auto filter = std::make_shared<std::vector<std::string>>();
    auto names = std::make_shared<bool>(false);
    auto* cmd = app.add_subcommand("status", "List jails: *=running, !=not configured");
    cmd->add_option("domains", *filter, "Only these jails");
    cmd->add_flag("--names", *names, "Only the domains, one per line, from the registry (for shell completion)")
        ->excludes(cmd->get_option("domains"));
    cmd->callback([&ctx, &action, filter, names] {
        action = [&ctx, filter, names] { return *names ? run_names(ctx) : run_status(ctx, *filter); };
    });
}

}  // namespace jailctl
