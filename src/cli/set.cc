// jailctl set DOMAIN [--memory M] [--cpus C] [--pids N] [--profile P]
//                    [--tls-cert F --tls-key K | --tls-auto] [--https-only | --no-https-only]:
// changes a jail's resource limits, live when it is running, and for every later start; what
// the site runs (static or php): its nginx, php-fpm and service-list files are rewritten and
// the jail restarted, then tested; and its HTTPS (cli/web_ops.h): a certificate and nginx.conf,
// taken by a reload, then tested. --tls-auto goes back from a customer's own certificate to
// what create gives: self-signed, then ACME when host.conf names a CA (best effort).
#include <memory>

#include "cli/acme_ops.h"
#include "cli/jail_ops.h"
#include "cli/verbs.h"
#include "cli/web_ops.h"
#include "host/jail_fs.h"
#include "host/limits.h"
#include "host/lxc.h"
#include "jail/byte_size.h"
#include "services/nginx.h"
#include "services/php.h"

namespace jailctl {
namespace {

struct SetArgs {
    std::string domain, memory, cpus, pids, profile;
    std::string tls_cert, tls_key;
    bool tls_auto = false;
    bool https_only = false, no_https_only = false;
    bool autostart = false, no_autostart = false;
    bool limits() const { return !memory.empty() || !cpus.empty() || !pids.empty(); }
    bool web() const { return !tls_cert.empty() || !tls_key.empty() || tls_auto || https_only || no_https_only; }
};

// The files a profile decides (services/php.h): nginx's site, php-fpm's, and jailctl-init's list.
constexpr const char* kProfileFiles[] = {"etc/nginx/nginx.conf", "etc/nginx/fastcgi_params", "etc/jailctl/php-fpm.conf",
                                         "etc/jailctl/php.ini", "etc/jailctl/services", "etc/jailctl/logs"};

// Writes the profile's files of `spec`'s tree into the running jail (files the profile does not
// have stay: nothing reads them then).
Result<void> write_profile_files(const Context& ctx, const JailRecord& rec, const JailSpec& spec) {
    auto root = open_jail_root(ctx.paths.rootfs(rec.domain));
    if (!root) return std::unexpected(root.error());
    const JailTree tree = build_jail_tree(spec);
    for (const auto& d : tree.dirs)  // a jail made by an older jailctl lacks e.g. srv/site/logs
        if (auto r = make_jail_dir(root->get(), d, rec.id_base, true); !r) return r;
    for (const auto& f : tree.files) {
        if (std::ranges::find(kProfileFiles, f.path) == std::end(kProfileFiles)) continue;
        if (auto r = write_jail_file(root->get(), f.path, f.content, f.mode, f.uid, f.gid, rec.id_base); !r) return r;
    }
    return {};
}

// The record's spec (its web side included: aliases, https_only) with `profile`'s fields.
JailSpec profile_spec(const JailRecord& rec, Profile profile) {
    JailSpec spec = web_spec(rec);
    apply_profile(spec, profile, rec.memory_bytes, rec.pids);
    spec.log_cap_bytes = log_cap_for(rec.size_bytes);
    return spec;
}

// The limits' steps: the registry, the running jail's cgroup, its LXC config.
void add_limit_steps(Context& ctx, JailSteps& jail, const Limits& limits, const Limits& old, std::vector<Step>& steps) {
    const CgroupLayout layout = detect_cgroup_layout();
    const std::string domain = jail.domain();
    steps.push_back({"limits", [&ctx, domain, limits] { return ctx.registry().set_limits(domain, limits.memory_bytes, limits.millicpus, limits.pids); },
                     [&ctx, domain, old] { return ctx.registry().set_limits(domain, old.memory_bytes, old.millicpus, old.pids); }});
    steps.push_back({"apply", [&ctx, domain, limits, layout] { return apply_limits_live(ctx.paths.lxcpath, domain, limits, layout); },
                     [&ctx, domain, old, layout] { return apply_limits_live(ctx.paths.lxcpath, domain, old, layout); }});
    // The config is rewritten at every start; a running jail's config is updated too so
    // that `lxc-*` tools and the next start agree with the registry.
    if (lxc_running(ctx.paths.lxcpath, domain)) steps.push_back(jail.write_lxc_config());
}

int run_set(Context& ctx, const SetArgs& args) {
    auto locked = locked_jail(ctx, args.domain);
    if (!locked) return report_error(ctx, locked.error());
    const JailRecord& rec = locked->rec;
    const bool boot = args.autostart || args.no_autostart;
    if (!args.limits() && !args.web() && args.profile.empty() && !boot)
        return report_error(ctx, "validate", Error{ErrorKind::BadInput,
                                                   "set: give --memory, --cpus, --pids, --profile, --tls-cert/--tls-key, "
                                                   "--tls-auto, --https-only, --no-https-only, --autostart or --no-autostart"});
    if (args.autostart && args.no_autostart)
        return report_error(ctx, "validate", Error{ErrorKind::BadInput, "autostart: give --autostart or --no-autostart, not both"});
    if (args.https_only && args.no_https_only)
        return report_error(ctx, "validate", Error{ErrorKind::BadInput, "https-only: give --https-only or --no-https-only, not both"});
    if (args.tls_auto && (!args.tls_cert.empty() || !args.tls_key.empty()))
        return report_error(ctx, "validate", Error{ErrorKind::BadInput,
                                                   "tls-auto: give --tls-auto (jailctl's certificate) or --tls-cert/--tls-key "
                                                   "(the customer's own), not both"});
    AcmeSettings acme;
    if (args.tls_auto) {
        auto checked = checked_acme(ctx.paths);
        if (!checked) return report_error(ctx, "validate", checked.error());
        acme = *checked;
    }
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
    Limits limits = old;
    if (args.limits()) {
        auto parsed = parse_limits(args.memory.empty() ? std::to_string(old.memory_bytes) : args.memory,
                                   args.cpus.empty() ? format_cpus(old.millicpus) : args.cpus,
                                   args.pids.empty() ? std::to_string(old.pids) : args.pids);
        if (!parsed) return report_error(ctx, "validate", parsed.error());
        limits = *parsed;
    }
    auto tls = read_custom_tls(args.tls_cert, args.tls_key, served_names(web_spec(rec)));
    if (!tls) return report_error(ctx, "validate", tls.error());
    if (args.tls_auto) {  // a fresh self-signed one first: the ACME order (if any) replaces it
        auto made = self_signed_site_tls(rec);
        if (!made) return report_error(ctx, "validate", made.error());
        *tls = *made;
    }
    auto log = open_task_log(ctx, rec.domain, "set");
    if (!log) return report_error(ctx, "log", log.error());

    auto plan = plan_for(ctx, rec, profile != old_profile);  // a new profile starts it again
    if (!plan) return report_error(ctx, "validate", plan.error());
    plan->rec.memory_bytes = limits.memory_bytes;
    plan->rec.millicpus = limits.millicpus;
    plan->rec.pids = limits.pids;
    plan->rec.profile = std::string(profile_name(profile));
    if (args.https_only || args.no_https_only) plan->rec.https_only = args.https_only;
    if (boot) plan->rec.autostart = args.autostart;
    if (*tls) plan->rec.tls = args.tls_auto ? "self-signed" : "custom";
    JailSteps jail{ctx, *plan};
    const std::string& domain = rec.domain;
    const JailRecord& after = plan->rec;
    std::vector<Step> steps;
    if (boot)
        steps.push_back({"autostart", [&] { return ctx.registry().set_autostart(domain, after.autostart); },
                         [&] { return ctx.registry().set_autostart(domain, rec.autostart); }});
    if (args.limits()) add_limit_steps(ctx, jail, limits, old, steps);
    // A new profile: its files, then a restart of the jail (jailctl-init reads its service list
    // at start). Before the web steps: their nginx configuration is the new profile's, which
    // nginx can load only once the profile's files are there and the jail runs them.
    Restart restart;
    if (profile != old_profile) {
        steps.push_back({"profile", [&] { return ctx.registry().set_profile(domain, after.profile); },
                         [&] { return ctx.registry().set_profile(domain, rec.profile); }});
        steps.push_back({"configure-profile", [&] { return write_profile_files(ctx, after, profile_spec(after, profile)); },
                         [&] { return write_profile_files(ctx, after, profile_spec(after, old_profile)); }});
        steps.push_back(restart.stop(jail));
        steps.push_back(jail.unmount_disk());  // start_from_disk mounts it again
        for (auto& step : restart.start(jail)) steps.push_back(std::move(step));
    }
    if (args.web()) {
        steps.push_back({"web-record", [&] { return ctx.registry().set_web(domain, after.https_only, after.tls); },
                         [&] { return ctx.registry().set_web(domain, rec.https_only, rec.tls); }});
        for (auto& step : web_update_steps(jail, *tls)) steps.push_back(std::move(step));
        if (args.tls_auto)
            for (auto& step : acme_reissue_steps(jail, acme)) steps.push_back(std::move(step));
    }
    // Then the customer's view of it (for php: a PHP script's computed answer).
    if (profile != old_profile || (args.web() && lxc_running(ctx.paths.lxcpath, domain)))
        steps.push_back({"test", [&] { return test_jail(ctx, after, ""); }});
    TaskOutcome outcome = run_journaled(ctx, *log, domain, "set", steps);
    // What the jail has now: the new settings, or after a KO (every step undone) the old ones.
    const JailRecord& now = outcome.ok ? after : rec;
    nlohmann::json fields = {{"domain", domain},
                             {"limits", {{"memory_bytes", now.memory_bytes},
                                         {"cpus", now.millicpus / 1000.0},  // a number, as status --json
                                         {"pids", now.pids}}},
                             {"profile", now.profile},
                             {"autostart", now.autostart}};
    std::vector<std::string> text = {"domain:    " + domain, "memory:    " + human_bytes(now.memory_bytes),
                                     "cpus:      " + format_cpus(now.millicpus),
                                     "pids:      " + std::to_string(now.pids), "profile:   " + now.profile,
                                     std::string("autostart: ") + (now.autostart ? "yes" : "no (start --all, as at boot, leaves it stopped)")};
    report_web(ctx.paths, now, fields, text);
    if (outcome.ok && profile != old_profile) restart.report_downtime(*log, fields, text);
    report_warnings(*plan, fields, text);
    return report(ctx, outcome, fields, text, log->path());
}

}  // namespace

void add_set(CLI::App& app, Context& ctx, Action& action) {
    auto [cmd, args] = add_command<SetArgs>(
        app, ctx, action, "set",
        "Change a jail's resource limits and HTTPS (live when running) or its profile (restarts it)", run_set);
    cmd->add_option("domain", args->domain, "The jail")->required();
    cmd->add_option("--memory", args->memory, "Memory limit, e.g. 512M");
    cmd->add_option("--cpus", args->cpus, "CPU limit in CPUs, e.g. 0.5");
    cmd->add_option("--pids", args->pids, "Process and thread limit");
    cmd->add_option("--profile", args->profile, "What the site runs: static or php (the running jail restarts)");
    cmd->add_option("--tls-cert", args->tls_cert,
                    "Install the site's own certificate (PEM file: the certificate, then its chain)");
    cmd->add_option("--tls-key", args->tls_key, "The unencrypted PEM private key of --tls-cert");
    cmd->add_flag("--tls-auto", args->tls_auto,
                  "Back to jailctl's certificate: ACME when host.conf names a CA, else self-signed");
    cmd->add_flag("--https-only", args->https_only, "Redirect HTTP to HTTPS (301), except ACME's challenge");
    cmd->add_flag("--no-https-only", args->no_https_only, "Serve the site over HTTP too (the default)");
    cmd->add_flag("--autostart", args->autostart, "Started by start --all, as at boot (the default)");
    cmd->add_flag("--no-autostart", args->no_autostart,
                  "Left stopped by start --all and at boot (a suspended site); start DOMAIN still starts it");
}

}  // namespace jailctl
