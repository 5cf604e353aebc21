// jailctl start|stop|restart DOMAIN... | --all
#include <algorithm>
#include <memory>

#include "cli/jail_ops.h"
#include "cli/verbs.h"
#include "host/lxc.h"
#include "host/mount.h"
#include "host/network.h"

namespace jailctl {
namespace {

enum class Verb { Start, Stop, Restart };

struct Args {
    std::vector<std::string> domains;
    bool all = false;
    int timeout_s = 10;
};

const char* verb_name(Verb v) { return v == Verb::Start ? "start" : v == Verb::Stop ? "stop" : "restart"; }

void add_stop_steps(Ops& ops, std::vector<Step>& steps, int timeout_s) {
    steps.push_back(ops.stop_jail(timeout_s));
    steps.push_back(ops.cleanup_network());
    steps.push_back(ops.unmount_disk());
}

void add_start_steps(Ops& ops, std::vector<Step>& steps, bool mounted) {
    if (!mounted) {
        steps.push_back(ops.fsck_preen());
        steps.push_back(ops.mount_disk());
    }
    steps.push_back(ops.prepare_host());
    steps.push_back(ops.write_lxc_config());
    steps.push_back(ops.start_jail());
}

int run_one(Context& ctx, Verb verb, const std::string& domain_input, int timeout_s) {
    auto rec = find_jail(ctx, domain_input);
    if (!rec) return report_error(ctx, "validate", rec.error());
    auto lock = lock_jail(ctx.paths, rec->domain);
    if (!lock) return report_error(ctx, "lock", lock.error());
    if (rec->state != "ready")
        return report_error(ctx, "validate",
                            Error{ErrorKind::HostNotReady, rec->domain + " is not runnable (state " + rec->state +
                                                               "): run 'jailctl repair " + rec->domain + "'"});
    JailPlan plan;
    plan.rec = *rec;
    plan.uplink = uplink_of(ctx, rec->domain);
    Ops ops{ctx, plan};
    bool running = lxc_running(ctx.paths.lxcpath, rec->domain);
    auto mount = find_mount(ctx.paths.rootfs(rec->domain));
    bool mounted = mount && *mount;

    std::vector<Step> steps;
    if (verb == Verb::Stop || (verb == Verb::Restart && (running || mounted))) add_stop_steps(ops, steps, timeout_s);
    // start of a running jail: nothing to do. A mounted but stopped jail (an
    // interrupted stop) starts from its mount.
    if (verb == Verb::Restart || (verb == Verb::Start && !running))
        add_start_steps(ops, steps, verb == Verb::Start && mounted);
    if (verb != Verb::Stop) {
        auto configured = find_uplink(configured_uplink(ctx));
        if (!configured) return report_error(ctx, "validate", configured.error());
        plan.uplink = configured->name;
    }

    auto log = open_task_log(ctx, rec->domain, verb_name(verb));
    if (!log) return report_error(ctx, "log", log.error());
    TaskOutcome outcome = run_journaled(ctx, *log, rec->domain, verb_name(verb), steps);
    std::string state = lxc_running(ctx.paths.lxcpath, rec->domain) ? "running" : "stopped";
    return report(ctx, outcome, {{"domain", rec->domain}, {"ip", rec->ip}, {"state", state}},
                  {"domain:    " + rec->domain, "state:     " + state}, log->path());
}

int run(Context& ctx, Verb verb, const Args& args) {
    std::vector<std::string> domains = args.domains;
    if (args.all) {
        if (auto r = ctx.open(); !r) return report_error(ctx, "validate", r.error());
        auto jails = ctx.registry().list();
        if (!jails) return report_error(ctx, "validate", jails.error());
        for (const auto& j : *jails)
            if (verb != Verb::Start || j.autostart) domains.push_back(j.domain);
    }
    if (domains.empty()) return report_error(ctx, "validate", Error{ErrorKind::BadInput, "domain: name a jail or use --all"});
    ctx.json_compact = domains.size() > 1;
    int worst = 0;
    for (const auto& d : domains) worst = std::max(worst, run_one(ctx, verb, d, args.timeout_s));
    return worst;
}

void add_verb(CLI::App& app, Context& ctx, Action& action, Verb verb, const char* help) {
    auto args = std::make_shared<Args>();
    auto* cmd = app.add_subcommand(verb_name(verb), help);
    cmd->add_option("domains", args->domains, "Jails to act on");
    cmd->add_flag("--all", args->all, verb == Verb::Start ? "Every jail marked autostart" : "Every jail");
    if (verb != Verb::Start)
        cmd->add_option("--timeout", args->timeout_s, "Seconds to wait for a graceful stop before killing (10)");
    cmd->callback([&ctx, &action, args, verb] { action = [&ctx, args, verb] { return run(ctx, verb, *args); }; });
}

}  // namespace

void add_start_stop(CLI::App& app, Context& ctx, Action& action) {
    add_verb(app, ctx, action, Verb::Start, "Start jails: check, mount, start, wait until HTTP answers");
    add_verb(app, ctx, action, Verb::Stop, "Stop jails: graceful shutdown, unmount, remove route and proxy ARP");
    add_verb(app, ctx, action, Verb::Restart, "Stop, then start jails");
}

}  // namespace jailctl
