// jailctl destroy DOMAIN [--force]: removes everything of the jail but its logs.
#include <memory>

#include "cli/jail_ops.h"
#include "cli/verbs.h"
#include "host/lxc.h"
#include "jail/domain.h"

namespace jailctl {
namespace {

// Was `input` a registered jail before find_jail ran (and maybe repaired it away)?
bool registered(Context& ctx, const std::string& input) {
    auto domain = Domain::parse(input);
    if (!domain || !ctx.open()) return false;
    auto rec = ctx.registry().find(domain->str());
    return rec && *rec;
}

int run_destroy(Context& ctx, const std::string& domain_input, bool force) {
    const bool was_registered = registered(ctx, domain_input);
    auto locked = locked_jail(ctx, domain_input, DiskNeed::Optional);
    // A jail left by an interrupted create is repaired away by find_jail: the operator asked
    // for it to be gone, and it is.
    if (!locked && !locked.error().found && was_registered && !registered(ctx, domain_input)) {
        const std::string domain = Domain::parse(domain_input)->str();
        TaskOutcome gone{true, "", {}, {}};
        return report(ctx, gone, {{"domain", domain}, {"repaired", true}},
                      {"domain:    " + domain,
                       "removed:   repair undid its interrupted task, which removed everything (see its log)"},
                      "");
    }
    if (!locked) return report_error(ctx, locked.error());
    const JailRecord& rec = locked->rec;
    if (lxc_running(ctx.paths.lxcpath, rec.domain) && !force)
        return report_error(ctx, "validate", Error{ErrorKind::Conflict, rec.domain + " is running: stop it first, or destroy --force"});
    auto log = open_task_log(ctx, rec.domain, "destroy");
    if (!log) return report_error(ctx, "log", log.error());
    JailPlan plan{.rec = rec};
    JailSteps jail{ctx, plan};
    // Destroy only goes forward: each step is idempotent, so a failed destroy is
    // simply run again once the cause (e.g. a busy mount) is gone.
    (void)ctx.registry().set_state(rec.domain, "destroying", "destroy did not finish: run it again");
    std::vector<Step> steps = {jail.stop_jail(5), jail.cleanup_network(), jail.unmount_disk(), jail.remove_files(),
                               jail.unregister()};
    TaskOutcome outcome = run_journaled(ctx, *log, rec.domain, "destroy", steps, {.undo_on_failure = false, .interruptible = false});
    return report(ctx, outcome, {{"domain", rec.domain}, {"ip", rec.ip}},
                  {"domain:    " + rec.domain, "removed:   disk image, mount, network, registry entry"},
                  log->path());
}

}  // namespace

void add_destroy(CLI::App& app, Context& ctx, Action& action) {
    auto domain = std::make_shared<std::string>();
    auto force = std::make_shared<bool>(false);
    auto* cmd = app.add_subcommand("destroy", "Remove a jail and all its data (its logs are kept)");
    cmd->add_option("domain", *domain, "The jail")->required();
    cmd->add_flag("--force", *force, "Stop the jail first if it is running");
    cmd->callback([&ctx, &action, domain, force] {
        action = [&ctx, domain, force] { return run_destroy(ctx, *domain, *force); };
    });
}

}  // namespace jailctl
