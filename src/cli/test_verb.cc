// jailctl test DOMAIN: step 9 of create again, on a running jail.
#include <memory>

#include "cli/jail_ops.h"
#include "cli/verbs.h"
#include "host/image.h"
#include "host/lxc.h"

namespace jailctl {
namespace {

int run_test(Context& ctx, const std::string& domain_input) {
    auto rec = find_jail(ctx, domain_input);
    if (!rec) return report_error(ctx, "validate", rec.error());
    if (!lxc_running(ctx.paths.lxcpath, rec->domain))
        return report_error(ctx, "validate", Error{ErrorKind::BadInput, rec->domain + " is not running: 'jailctl start " + rec->domain + "'"});
    auto log = open_task_log(ctx, rec->domain, "test");
    if (!log) return report_error(ctx, "log", log.error());
    // The customer has probably replaced jailctl's index page by now: any page served
    // with status 200 proves the web side; the FTP side is proven in full.
    Step test{"test", [&] { return test_jail(ctx, *rec, ""); }};
    TaskOutcome outcome = run_journaled(ctx, *log, rec->domain, "test", {test});
    nlohmann::json fields = {{"domain", rec->domain}, {"ip", rec->ip}, {"warnings", nlohmann::json::array()}};
    std::vector<std::string> text = {"domain:    " + rec->domain, "http:      OK",
                                     "ftp:       OK (login, upload, read back, delete)"};
    // A full disk still passes (the probe's file is tiny) but the customer's uploads fail:
    // say so, in the text and the JSON, and in the log.
    if (auto use = disk_use(ctx.paths.rootfs(rec->domain))) {
        fields["disk"] = {{"used_bytes", use->used_bytes},
                          {"free_bytes", use->free_bytes},
                          {"used_percent", use->used_percent()}};
        std::string line = std::to_string(use->used_percent()) + "% used, " + human_bytes(use->free_bytes) + " free";
        if (use->used_percent() >= kDiskFullPercent) {
            std::string warning = "disk " + std::to_string(use->used_percent()) + "% full (" +
                                  human_bytes(use->free_bytes) + " free): uploads will fail soon; 'jailctl grow " +
                                  rec->domain + " --size ...' or ask the customer to clean up";
            fields["warnings"].push_back(warning);
            log->warn("test", warning);
            line = "WARNING " + warning;
            if (!outcome.ok) outcome.error.message += " (the jail's " + warning + ")";
        }
        text.push_back("disk:      " + line);
    }
    return report(ctx, outcome, fields, text, log->path());
}

}  // namespace

void add_test(CLI::App& app, Context& ctx, Action& action) {
    auto domain = std::make_shared<std::string>();
    auto* cmd = app.add_subcommand("test", "Test a running jail from outside: HTTP page, FTPS login and upload");
    cmd->add_option("domain", *domain, "The jail")->required();
    cmd->callback([&ctx, &action, domain] { action = [&ctx, domain] { return run_test(ctx, *domain); }; });
}

}  // namespace jailctl
