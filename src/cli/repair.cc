// jailctl repair [DOMAIN...] | --all: reconciles the registry and journal with what the
// kernel holds after an interrupted task (kill -9, crash, power cut). Every kernel
// object of a jail is named after its registry id or its paths (veth jc<id>, the
// image's loop device, the rootfs mount, LXC's cgroups), so repair finds them even
// when the journal is incomplete. It finishes or undoes the interrupted task:
//   creating   -> undo the create: the jail disappears
//   destroying -> finish the destroy
//   ready      -> running: reapply the host side (gateway, anti-spoofing);
//                 not running: remove leftovers (network, mount) -> cleanly stopped
// Other commands run it first when they find an interrupted task on their jail.
#include <fcntl.h>
#include <linux/fs.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <set>

#include "cli/jail_ops.h"
#include "cli/verbs.h"
#include "host/lxc.h"
#include "host/mount.h"
#include "host/network.h"
#include "jail/domain.h"

namespace jailctl {

namespace {

// FITHAW on the jail's filesystem; EINVAL (not frozen) is the normal case. Only a mounted rootfs:
// an unmounted one is a directory of the host's filesystem.
void thaw(const std::string& rootfs) {
    auto mounted = find_mount(rootfs);
    if (!mounted || !*mounted) return;
    int fd = ::open(rootfs.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return;
    ::ioctl(fd, FITHAW, 0);
    ::close(fd);
}

// Verbs of the jail's tasks whose process died (the journal names them).
std::set<std::string> interrupted_verbs(Context& ctx, const std::string& domain) {
    std::set<std::string> verbs;
    if (auto open = ctx.registry().unfinished_tasks(domain))
        for (const auto& t : *open)
            if (task_interrupted(t)) verbs.insert(t.verb);
    return verbs;
}

// Steps that bring the jail to a consistent state, and what they do in words. Every plan thaws
// the jail's filesystem first (a backup killed while it was frozen) and removes the leftovers of
// killed backups and exports.
std::pair<std::vector<Step>, std::string> repair_plan(JailSteps& jail, Context& ctx, const JailRecord& rec) {
    const auto verbs = interrupted_verbs(ctx, rec.domain);
    std::vector<Step> steps{
        {"thaw", [&ctx, rec]() -> Result<void> {
             thaw(ctx.paths.rootfs(rec.domain));
             return {};
         }},
        {"archive-leftovers", [&ctx, rec]() -> Result<void> {
             auto removed = remove_archive_leftovers(ctx.paths, rec.domain);
             if (!removed) return std::unexpected(removed.error());
             return {};
         }}};
    auto plan = [&steps](std::vector<Step> more, std::string what) {
        steps.insert(steps.end(), more.begin(), more.end());
        return std::pair{steps, std::move(what)};
    };
    if (rec.state == "creating")
        return plan({jail.stop_jail(2), jail.cleanup_network(), jail.unmount_disk(), jail.remove_files(), jail.unregister()},
                    "an interrupted create was undone: the jail is removed");
    if (rec.state == "destroying")
        return plan({jail.stop_jail(5), jail.cleanup_network(), jail.unmount_disk(), jail.remove_files(), jail.unregister()},
                    "an interrupted destroy was finished");
    Step host_side{"host-side", [&ctx, rec, veth = veth_name(rec.id)]() -> Result<void> {
                       if (!lxc_running(ctx.paths.lxcpath, rec.domain)) return {};
                       if (auto r = add_gateway_address(veth); !r) return r;
                       return restrict_to_own_address(veth);
                   }};
    // A stopped jail: network and mount leftovers of the interrupted task removed.
    Step leftovers{"stopped-leftovers", [&jail]() -> Result<void> {
                       if (lxc_running(jail.paths().lxcpath, jail.domain())) return {};
                       if (auto r = jail.cleanup_network().apply(); !r) return r;
                       return jail.unmount_disk().apply();
                   }};
    bool running = lxc_running(ctx.paths.lxcpath, rec.domain);
    bool replace = verbs.contains("restore-replace"), replace_stopped = verbs.contains("restore-replace-stopped");
    if (replace || replace_stopped) {
        auto undo = undo_interrupted_replace(jail, replace);
        undo.push_back(host_side), undo.push_back(leftovers);
        return plan(undo, std::string("an interrupted restore --replace was undone: the previous disk is back") +
                              (replace ? " and the jail runs" : ""));
    }
    // A disk image moved or deleted outside jailctl is not something repair can make: it says so.
    steps.push_back({"disk", [&ctx, rec]() { return require_disk(ctx, rec); }});
    bool fallback = verbs.contains("grow-fallback");
    if (!running && (fallback || verbs.contains("grow"))) {
        auto finish = finish_interrupted_grow(jail, fallback);
        return plan(finish, std::string("an interrupted grow was finished where its image had grown") +
                                (fallback ? "; the jail was started again" : ""));
    }
    if (running) return plan({host_side}, "running: host side of its network checked");
    return plan({leftovers}, "stopped: leftovers of an interrupted task removed");
}

}  // namespace

bool task_interrupted(const Registry::OpenTask& t) {
    return !(t.pid > 0 && (::kill(static_cast<pid_t>(t.pid), 0) == 0 || errno == EPERM));
}

bool needs_repair(Context& ctx, const JailRecord& rec) {
    auto open = ctx.registry().unfinished_tasks(rec.domain);
    if (!open) return false;
    // Only a task whose process died: a jail kept by --keep-on-failure stays as it
    // is for debugging until the operator runs repair or destroy.
    return std::any_of(open->begin(), open->end(), task_interrupted);
}

// Repairs one jail; the caller holds its lock. Returns the exit status of its report.
int repair_jail(Context& ctx, const JailRecord& rec, bool quiet) {
    auto log = open_task_log(ctx, rec.domain, "repair");
    if (!log) return report_error(ctx, "log", log.error());
    auto plan = plan_for(ctx, rec);
    if (!plan) return report_error(ctx, "validate", plan.error());
    JailSteps jail{ctx, *plan};
    auto [steps, what] = repair_plan(jail, ctx, rec);
    // The interrupted tasks are closed first: repair itself is the task that resolves them.
    if (auto open = ctx.registry().unfinished_tasks(rec.domain))
        for (const auto& t : *open)
            if (task_interrupted(t)) (void)ctx.registry().finish_task(t.id, "INTERRUPTED", "process " + std::to_string(t.pid) + " died; repaired");
    TaskOutcome outcome = run_journaled(ctx, *log, rec.domain, "repair", steps, {false});
    // A failed repair keeps what it was repairing (a create to undo stays "creating", so the next
    // repair undoes it again) and says why; a jail that was ready is "broken" until a repair succeeds.
    const bool half_made = rec.state == "creating" || rec.state == "destroying";
    if (!outcome.ok)
        (void)ctx.registry().set_state(rec.domain, half_made ? rec.state : "broken",
                                       "repair failed at " + outcome.failed_step + ": " + outcome.error.message +
                                           " (then run 'jailctl repair " + rec.domain + "' again)");
    else if (rec.state == "broken")
        (void)ctx.registry().set_state(rec.domain, "ready");
    if (quiet && outcome.ok) return 0;
    return report(ctx, outcome, {{"domain", rec.domain}, {"repair", what}},
                  {"domain:    " + rec.domain, "repair:    " + what}, log->path());
}

namespace {

int run_repair(Context& ctx, const std::vector<std::string>& domains, bool all) {
    if (auto r = ctx.open(); !r) return report_error(ctx, "validate", r.error());
    std::vector<JailRecord> jails;
    if (all) {
        auto list = ctx.registry().list();
        if (!list) return report_error(ctx, "validate", list.error());
        jails = *list;
    }
    for (const auto& d : domains) {
        auto domain = Domain::parse(d);
        if (!domain) return report_error(ctx, "validate", domain.error());
        auto rec = ctx.registry().find(domain->str());  // not find_jail: it would repair already
        if (!rec) return report_error(ctx, "validate", rec.error());
        if (!*rec) return report_error(ctx, "validate", Error{ErrorKind::BadInput, "domain: " + domain->str() + " is not a jail on this host"});
        jails.push_back(**rec);
    }
    if (jails.empty() && !all)
        return report_error(ctx, "validate", Error{ErrorKind::BadInput, "domain: name a jail or use --all"});
    ctx.json_compact = jails.size() > 1;
    int worst = 0;
    for (const auto& j : jails) {
        auto lock = lock_jail(ctx.paths, j.domain);
        if (!lock) return report_error(ctx, "lock", lock.error());
        auto fresh = ctx.registry().find(j.domain);  // it may have changed while we waited
        if (!fresh || !*fresh) continue;
        worst = std::max(worst, repair_jail(ctx, **fresh, false));
    }
    return worst;
}

}  // namespace

void add_repair(CLI::App& app, Context& ctx, Action& action) {
    auto domains = std::make_shared<std::vector<std::string>>();
    auto all = std::make_shared<bool>(false);
    auto* cmd = app.add_subcommand("repair", "Finish or undo interrupted tasks; remove their leftovers");
    cmd->add_option("domains", *domains, "Jails to repair");
    cmd->add_flag("--all", *all, "Every jail");
    cmd->callback([&ctx, &action, domains, all] {
        action = [&ctx, domains, all] { return run_repair(ctx, *domains, *all); };
    });
}

}  // namespace jailctl
