// jailctl fsck DOMAIN [--repair] [--restart]: e2fsck of the jail's image.
//
// A stopped jail is checked directly. A running jail is refused (Conflict, exit 3): checking a
// mounted ext4 from the side corrupts it. With --restart: stop, check, start, and the downtime
// (stop begins -> services answer again) is measured, logged and reported.
//
// Outcome: clean or fixed -> OK (exit 0); errors remain -> KO "fsck: ..." (exit 5), and with
// --restart the jail is started again all the same (it ran with those errors before; leaving a
// site down because a read-only check found something is the operator's decision, not ours).
#include <memory>

#include "cli/jail_ops.h"
#include "cli/verbs.h"
#include "host/ext4.h"
#include "host/lxc.h"
#include "host/mount.h"
#include "host/network.h"

namespace jailctl {
namespace {

struct FsckArgs {
    std::string domain;
    bool repair = false, restart = false;
};

const char* outcome_name(FsckOutcome o) {
    switch (o) {
        case FsckOutcome::Clean: return "clean";
        case FsckOutcome::Fixed: return "fixed";
        case FsckOutcome::ErrorsRemain: return "errors remain";
    }
    return "?";
}

int run_fsck(Context& ctx, const FsckArgs& args) {
    auto locked = locked_jail(ctx, args.domain);
    if (!locked) return report_error(ctx, locked.error());
    const JailRecord& rec = locked->rec;
    const bool running = lxc_running(ctx.paths.lxcpath, rec.domain);
    if (running && !args.restart)
        return report_error(ctx, "validate",
                            Error{ErrorKind::Conflict,
                                  rec.domain + " is running: its filesystem cannot be checked while mounted; "
                                                "stop it first, or use --restart (stop, check, start: the site "
                                                "is down for the check)"});
    if (running && rec.state != "ready")
        return report_error(ctx, "validate",
                            Error{ErrorKind::HostNotReady, rec.domain + " is in state " + rec.state +
                                                               ": run 'jailctl repair " + rec.domain + "'"});
    auto mounted = find_mount(ctx.paths.rootfs(rec.domain));
    if (!mounted) return report_error(ctx, "validate", mounted.error());

    auto plan = plan_for(ctx, rec, running);  // --restart starts it again
    if (!plan) return report_error(ctx, "validate", plan.error());
    JailSteps jail{ctx, *plan};
    const FsckMode mode = args.repair ? FsckMode::Repair : FsckMode::CheckOnly;
    Restart restart;
    std::optional<FsckReport> result;

    std::vector<Step> steps;
    if (running) {
        steps.push_back(restart.stop(jail));
        steps.push_back(jail.cleanup_network());
    }
    if (running || *mounted) steps.push_back(jail.unmount_disk());  // a stopped but mounted jail: interrupted stop
    steps.push_back({"fsck", [&]() -> Result<void> {
                         auto r = fsck_ext4(ctx.paths.image(rec.domain), mode);
                         if (!r) return std::unexpected(r.error());
                         result = std::move(*r);
                         return {};
                     }});
    if (running)
        for (auto& step : restart.start(jail)) steps.push_back(step);

    auto log = open_task_log(ctx, rec.domain, "fsck");
    if (!log) return report_error(ctx, "log", log.error());
    TaskOutcome outcome = run_journaled(ctx, *log, rec.domain, "fsck", steps);

    nlohmann::json fields = {{"domain", rec.domain},
                             {"mode", args.repair ? "repair" : "check"},
                             {"restarted", running}};
    std::vector<std::string> text = {"domain:    " + rec.domain,
                                     std::string("mode:      ") + (args.repair ? "repair (e2fsck -f -y)"
                                                                               : "check only (e2fsck -f -n)")};
    if (result) {
        fields["fsck"] = outcome_name(result->outcome);
        fields["e2fsck_exit"] = result->exit_status;
        text.push_back(std::string("fsck:      ") + outcome_name(result->outcome) + " (e2fsck exit " +
                       std::to_string(result->exit_status) + ")");
        for (size_t at = 0; at < result->output.size();) {  // e2fsck's report, line by line, in the log
            auto end = result->output.find('\n', at);
            if (end == std::string::npos) end = result->output.size();
            log->info("fsck", "e2fsck: " + result->output.substr(at, end - at));
            at = end + 1;
        }
    }
    if (running && outcome.ok) restart.report_downtime(*log, fields, text);
    if (outcome.ok && result && result->outcome == FsckOutcome::ErrorsRemain) {
        outcome.ok = false;
        outcome.failed_step = "fsck";
        outcome.error = Error{ErrorKind::StepFailed,
                              "the filesystem of " + rec.domain + " has errors" +
                                  (args.repair ? " that e2fsck could not repair (see the log)"
                                               : ": run 'jailctl fsck " + rec.domain + " --repair'") +
                                  (running ? " (the jail was started again)" : "")};
        log->error("fsck", outcome.error.message);
    }
    return report(ctx, outcome, fields, text, log->path());
}

}  // namespace

void add_fsck(CLI::App& app, Context& ctx, Action& action) {
    auto [cmd, args] =
        add_command<FsckArgs>(app, ctx, action, "fsck", "Check (or repair) a stopped jail's filesystem", run_fsck);
    cmd->add_option("domain", args->domain, "The jail")->required();
    cmd->add_flag("--repair", args->repair, "Repair what e2fsck finds (e2fsck -f -y); default: check only");
    cmd->add_flag("--restart", args->restart, "A running jail: stop it, check, start it again (downtime)");
}

}  // namespace jailctl
