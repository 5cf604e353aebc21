// jailctl set DOMAIN [--memory M] [--cpus C] [--pids N] [--profile P]: changes a jail's resource
// limits, live when it is running, and for every later start; and what the site runs (static or
// php): its nginx, php-fpm and service-list files are rewritten and the jail restarted, then tested.
#include <memory>

#include "cli/jail_ops.h"
#include "cli/verbs.h"
#include "host/limits.h"
#include "host/lxc.h"
#include "host/jail_fs.h"
#include "jail/byte_size.h"
#include "services/php.h"

namespace jailctl {
namespace {

struct SetArgs {
    std::string domain, memory, cpus, pids, profile;
};

// The files a profile decides (services/php.h): nginx's site, php-fpm's, and jailctl-init's list.
constexpr const char* kProfileFiles[] = {"etc/nginx/nginx.conf", "etc/nginx/fastcgi_params", "etc/jailctl/php-fpm.conf",
                                         "etc/jailctl/php.ini", "etc/jailctl/services"};

// Writes the profile's files of `spec`'s tree into the running jail (files the profile does not
// have stay: nothing reads them then).
Result<void> write_profile_files(const Context& ctx, const JailRecord& rec, const JailSpec& spec) {
    auto root = open_jail_root(ctx.paths.rootfs(rec.domain));
    if (!root) return std::unexpected(root.error());
    for (const auto& f : build_jail_tree(spec).files) {
        if (std::ranges::find(kProfileFiles, f.path) == std::end(kProfileFiles)) continue;
        if (auto r = write_jail_file(root->get(), f.path, f.content, f.mode, f.uid, f.gid, rec.id_base); !r) return r;
    }
    return {};
}

JailSpec profile_spec(const JailRecord& rec, Profile profile) {
    JailSpec spec;
    spec.domain = rec.domain, spec.ip = rec.ip, spec.ftp_user = rec.ftp_user;
    apply_profile(spec, profile, rec.memory_bytes, rec.pids);
    return spec;
}

int run_set(Context& ctx, const SetArgs& args) {
    auto locked = locked_jail(ctx, args.domain);
    if (!locked) return report_error(ctx, locked.error());
    const JailRecord& rec = locked->rec;
    if (args.memory.empty() && args.cpus.empty() && args.pids.empty() && args.profile.empty())
        return report_error(ctx, "validate",
                            Error{ErrorKind::BadInput, "limits: give --memory, --cpus, --pids or --profile"});
    const Profile old_profile = stored_profile(rec.profile);
    Profile profile = old_profile;
    if (!args.profile.empty()) {
        auto p = parse_profile(args.profile);
        if (!p) return report_error(ctx, "validate", p.error());
        profile = *p;
        if (profile == Profile::Php)
            if (auto r = require_php(find_php()); !r) return report_error(ctx, "validate", r.error());
        if (profile != old_profile && !lxc_running(ctx.paths.lxcpath, rec.domain))
            return report_error(ctx, "validate",
                                Error{ErrorKind::BadInput, "profile: " + rec.domain +
                                                               " is not running: a new profile is proven by a test, "
                                                               "so start it first"});
    }
    const Limits old{rec.memory_bytes, rec.millicpus, rec.pids};
    auto limits = parse_limits(args.memory.empty() ? std::to_string(old.memory_bytes) : args.memory,
                               args.cpus.empty() ? format_cpus(old.millicpus) : args.cpus,
                               args.pids.empty() ? std::to_string(old.pids) : args.pids);
    if (!limits) return report_error(ctx, "validate", limits.error());
    auto log = open_task_log(ctx, rec.domain, "set");
    if (!log) return report_error(ctx, "log", log.error());

    auto plan = plan_for(ctx, rec, profile != old_profile);  // a new profile starts it again
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
    // A new profile: its files, then a restart of the jail (jailctl-init reads its service list
    // at start), then the customer's view of it (for php: a PHP script's computed answer).
    Restart restart;
    JailRecord after = plan->rec;
    after.profile = std::string(profile_name(profile));
    if (profile != old_profile) {
        steps.push_back({"profile", [&] { return ctx.registry().set_profile(domain, after.profile); },
                         [&] { return ctx.registry().set_profile(domain, rec.profile); }});
        steps.push_back({"configure-profile", [&] { return write_profile_files(ctx, after, profile_spec(after, profile)); },
                         [&] { return write_profile_files(ctx, after, profile_spec(after, old_profile)); }});
        steps.push_back(restart.stop(jail));
        steps.push_back(jail.unmount_disk());  // start_from_disk mounts it again
        for (auto& step : restart.start(jail)) steps.push_back(std::move(step));
        steps.push_back({"test", [&] { return test_jail(ctx, after, ""); }});
    }
    TaskOutcome outcome = run_journaled(ctx, *log, domain, "set", steps);
    nlohmann::json fields = {{"domain", domain},
                             {"limits", {{"memory_bytes", limits->memory_bytes},
                                         {"cpus", format_cpus(limits->millicpus)},
                                         {"pids", limits->pids}}},
                             {"profile", after.profile}};
    std::vector<std::string> text = {"domain:    " + domain, "memory:    " + human_bytes(limits->memory_bytes),
                                     "cpus:      " + format_cpus(limits->millicpus),
                                     "pids:      " + std::to_string(limits->pids), "profile:   " + after.profile};
    if (outcome.ok && profile != old_profile) restart.report_downtime(*log, fields, text);
    return report(ctx, outcome, fields, text, log->path());
}

}  // namespace

void add_set(CLI::App& app, Context& ctx, Action& action) {
    auto [cmd, args] =
        add_command<SetArgs>(app, ctx, action, "set",
                             "Change a jail's resource limits (live when running) or its profile (restarts it)", run_set);
    cmd->add_option("domain", args->domain, "The jail")->required();
    cmd->add_option("--memory", args->memory, "Memory limit, e.g. 512M");
    cmd->add_option("--cpus", args->cpus, "CPU limit in CPUs, e.g. 0.5");
    cmd->add_option("--pids", args->pids, "Process and thread limit");
    cmd->add_option("--profile", args->profile, "What the site runs: static or php (the running jail restarts)");
}

}  // namespace jailctl
