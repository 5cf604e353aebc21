// jailctl set DOMAIN [--memory M] [--cpus C] [--pids N]: changes a jail's resource
// limits, live when it is running, and for every later start.
#include <memory>

#include "cli/jail_ops.h"
#include "cli/verbs.h"
#include "host/limits.h"
#include "host/lxc.h"
#include "jail/byte_size.h"

namespace jailctl {
namespace {

struct SetArgs {
    std::string domain, memory, cpus, pids;
};

int run_set(Context& ctx, const SetArgs& args) {
    auto locked = locked_jail(ctx, args.domain);
    if (!locked) return report_error(ctx, locked.error());
    const JailRecord& rec = locked->rec;
    if (args.memory.empty() && args.cpus.empty() && args.pids.empty())
        return report_error(ctx, "validate", Error{ErrorKind::BadInput, "limits: give --memory, --cpus or --pids"});
    const Limits old{rec.memory_bytes, rec.millicpus, rec.pids};
    auto limits = parse_limits(args.memory.empty() ? std::to_string(old.memory_bytes) : args.memory,
                               args.cpus.empty() ? format_cpus(old.millicpus) : args.cpus,
                               args.pids.empty() ? std::to_string(old.pids) : args.pids);
    if (!limits) return report_error(ctx, "validate", limits.error());
    auto log = open_task_log(ctx, rec.domain, "set");
    if (!log) return report_error(ctx, "log", log.error());

    auto plan = plan_for(ctx, rec);
    if (!plan) return report_error(ctx, "validate", plan.error());
    plan->rec.memory_bytes = limits->memory_bytes;
    plan->rec.millicpus = limits->millicpus;
    plan->rec.pids = limits->pids;
    JailSteps jail{ctx, *plan};
    const CgroupLayout layout = detect_cgroup_layout();
    const std::string& domain = rec.domain;
    std::vector<Step> steps = {
        {"limits", [&] { return ctx.registry().set_limits(domain, limits->memory_bytes, limits->millicpus, limits->pids); },
         [&] { return ctx.registry().set_limits(domain, old.memory_bytes, old.millicpus, old.pids); }},
        {"apply", [&] { return apply_limits_live(ctx.paths.lxcpath, domain, *limits, layout); },
         [&] { return apply_limits_live(ctx.paths.lxcpath, domain, old, layout); }},
    };
    // The config is rewritten at every start; a running jail's config is updated too so
    // that `lxc-*` tools and the next start agree with the registry.
    if (lxc_running(ctx.paths.lxcpath, domain)) steps.push_back(jail.write_lxc_config());
    TaskOutcome outcome = run_journaled(ctx, *log, domain, "set", steps);
    return report(ctx, outcome,
                  {{"domain", domain},
                   {"limits", {{"memory_bytes", limits->memory_bytes},
                               {"cpus", format_cpus(limits->millicpus)},
                               {"pids", limits->pids}}}},
                  {"domain:    " + domain, "memory:    " + human_bytes(limits->memory_bytes),
                   "cpus:      " + format_cpus(limits->millicpus), "pids:      " + std::to_string(limits->pids)},
                  log->path());
}

}  // namespace

void add_set(CLI::App& app, Context& ctx, Action& action) {
    auto [cmd, args] =
        add_command<SetArgs>(app, ctx, action, "set", "Change a jail's resource limits (live when running)", run_set);
    cmd->add_option("domain", args->domain, "The jail")->required();
    cmd->add_option("--memory", args->memory, "Memory limit, e.g. 512M");
    cmd->add_option("--cpus", args->cpus, "CPU limit in CPUs, e.g. 0.5");
    cmd->add_option("--pids", args->pids, "Process and thread limit");
}

}  // namespace jailctl
