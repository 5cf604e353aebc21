// jailctl passwd DOMAIN: a new generated FTP password, proven by a login.
#include <memory>

#include "cli/jail_ops.h"
#include "cli/verbs.h"
#include "host/jail_fs.h"
#include "host/lxc.h"
#include "services/password_hash.h"
#include "util/password.h"

namespace jailctl {
namespace {

int run_passwd(Context& ctx, const std::string& domain_input) {
    auto locked = locked_jail(ctx, domain_input);
    if (!locked) return report_error(ctx, locked.error());
    const JailRecord& rec = locked->rec;
    if (!lxc_running(ctx.paths.lxcpath, rec.domain))
        return report_error(ctx, "validate", Error{ErrorKind::BadInput, rec.domain + " is not running: the new password is proven by a login, so start it first"});
    auto root = open_jail_root(ctx.paths.rootfs(rec.domain));
    if (!root) return report_error(ctx, "validate", root.error());
    auto old_shadow = read_jail_file(root->get(), "etc/shadow");
    if (!old_shadow) return report_error(ctx, "validate", old_shadow.error());
    auto old_creds = read_credentials(ctx.paths, rec.domain);

    JailPlan plan;
    plan.rec = rec;
    plan.password = generate_password();
    auto hash = hash_password(plan.password);
    if (!hash) return report_error(ctx, "validate", hash.error());
    plan.spec.domain = rec.domain;
    plan.spec.ip = rec.ip;
    plan.spec.ftp_user = rec.ftp_user;
    plan.spec.ftp_password_hash = *hash;
    JailSteps jail{ctx, plan};

    Step shadow{"password",
                [&] {
                    return write_jail_file(root->get(), "etc/shadow", render_shadow(plan.spec), 0640, 0, kShadowGid,
                                           rec.id_base);
                },
                [&] { return write_jail_file(root->get(), "etc/shadow", *old_shadow, 0640, 0, kShadowGid, rec.id_base); }};
    Step creds = jail.save_credentials();
    if (old_creds) {
        // Undo restores the previous password rather than deleting the file.
        JailPlan old_plan = plan;
        old_plan.password = old_creds->password;
        creds.undo = [&ctx, old_plan]() mutable { return JailSteps{ctx, old_plan}.save_credentials().apply(); };
    }
    auto log = open_task_log(ctx, rec.domain, "passwd");
    if (!log) return report_error(ctx, "log", log.error());
    TaskOutcome outcome = run_journaled(ctx, *log, rec.domain, "passwd", {shadow, creds, Step{"test", [&] { return test_jail(ctx, rec, ""); }}});
    nlohmann::json fields = {{"domain", rec.domain}};
    if (outcome.ok) fields["ftp"] = {{"user", rec.ftp_user}, {"password", plan.password}};
    return report(ctx, outcome, fields,
                  {"domain:    " + rec.domain, "ftp user:  " + rec.ftp_user, "ftp pass:  " + plan.password},
                  log->path());
}

}  // namespace

void add_passwd(CLI::App& app, Context& ctx, Action& action) {
    auto domain = std::make_shared<std::string>();
    auto* cmd = app.add_subcommand("passwd", "Give the jail's FTP account a new generated password");
    cmd->add_option("domain", *domain, "The jail")->required();
    cmd->callback([&ctx, &action, domain] { action = [&ctx, domain] { return run_passwd(ctx, *domain); }; });
}

}  // namespace jailctl
