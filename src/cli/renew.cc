// jailctl renew DOMAIN | --all [--days N]: ACME certificates replaced before they expire
// (services/acme.h renewal_reason), one task per jail that is due, OK/KO per jail.
#include <ctime>
#include <iostream>

#include "cli/acme_ops.h"
#include "cli/verbs.h"
#include "cli/web_ops.h"
#include "host/lxc.h"
#include "services/nginx.h"

namespace jailctl {
namespace {

struct Args {
    std::string domain;
    bool all = false;
    int days = kRenewBeforeDays;
};

// One jail's outcome: "renewed", "not-due", "skipped" or "failed".
struct Outcome {
    std::string domain, result, detail, log;
    std::string expires;  // the site certificate's notAfter, after the task
};

std::string expiry_of(const Context& ctx, const std::string& domain) {
    auto pem = read_site_certificate(ctx.paths, domain);
    if (!pem) return "";
    auto facts = certificate_facts(*pem);
    return facts ? facts->not_after : "";
}

Outcome renew_one(Context& ctx, const AcmeSettings& acme, const std::string& domain, int days, bool named) {
    Outcome out{domain, "failed", "", "", ""};
    auto locked = locked_jail(ctx, domain);
    if (!locked) {
        out.detail = locked.error().error.message;
        return out;
    }
    const JailRecord& rec = locked->rec;
    out.domain = rec.domain;
    if (rec.tls == "custom") {
        out.result = "skipped";
        out.detail = "the customer's own certificate (--tls-cert) is never replaced";
        return out;
    }
    if (!lxc_running(ctx.paths.lxcpath, rec.domain)) {
        // HTTP-01 needs the jail's nginx: a stopped jail is renewed once started again.
        out.result = named ? "failed" : "skipped";
        out.detail = "stopped: the CA validates through the jail's web server; start it, then renew";
        return out;
    }
    auto pem = read_site_certificate(ctx.paths, rec.domain);
    if (!pem) {
        out.detail = pem.error().message;
        return out;
    }
    auto facts = certificate_facts(*pem);
    if (!facts) {
        out.detail = facts.error().message;
        return out;
    }
    out.expires = facts->not_after;
    auto reason = renewal_reason(*facts, served_names(web_spec(rec)), days, std::time(nullptr));
    if (!reason) {
        out.result = "not-due";
        out.detail = "expires " + facts->not_after;
        return out;
    }
    auto plan = plan_for(ctx, rec);
    if (!plan) {
        out.detail = plan.error().message;
        return out;
    }
    auto log = open_task_log(ctx, rec.domain, "renew");
    if (!log) {
        out.detail = log.error().message;
        return out;
    }
    out.log = log->path();
    log->info("validate", "due: the site certificate " + *reason);
    JailSteps jail{ctx, *plan};
    std::vector<Step> steps = acme_certificate_steps(jail, acme, false);
    steps.push_back(jail.test_from_outside());
    TaskOutcome task = run_journaled(ctx, *log, rec.domain, "renew", steps);
    if (!task.ok) {
        out.detail = task.failed_step + ": " + task.error.message;
        return out;
    }
    out.result = "renewed";
    out.detail = "was " + *reason;
    out.expires = expiry_of(ctx, rec.domain);
    return out;
}

void print_text(const Outcome& o) {
    bool ok = o.result != "failed";
    std::string line = std::string(ok ? "OK " : "KO ") + " " + o.domain + ": " + o.result;
    if (o.result == "renewed") line += ", expires " + o.expires + " (" + o.detail + ")";
    else if (!o.detail.empty()) line += ": " + o.detail;
    (ok ? std::cout : std::cerr) << line << std::endl;
    if (!ok && !o.log.empty()) std::cerr << "log: " << o.log << std::endl;
}

int run_renew(Context& ctx, const Args& args) {
    if (args.all == !args.domain.empty())
        return report_error(ctx, "validate", Error{ErrorKind::BadInput, "domain: name one jail, or --all for every jail"});
    if (args.days < 1 || args.days > 3650)
        return report_error(ctx, "validate",
                            Error{ErrorKind::BadInput, "days: " + std::to_string(args.days) + " is not from 1 to 3650"});
    auto checked = checked_acme(ctx.paths);
    if (!checked) return report_error(ctx, "validate", checked.error());
    const AcmeSettings& acme = *checked;
    if (auto r = ctx.open(); !r) return report_error(ctx, "validate", r.error());
    std::vector<std::string> domains;
    if (args.all) {
        auto all = ctx.registry().list();
        if (!all) return report_error(ctx, "validate", all.error());
        for (const auto& rec : *all) domains.push_back(rec.domain);
    } else {
        auto rec = find_jail(ctx, args.domain);
        if (!rec) return report_error(ctx, "validate", rec.error());
        domains.push_back(rec->domain);
    }
    if (!acme.enabled()) {
        // A daily timer on a host without ACME has nothing to do: not an error for --all.
        std::string why = "ACME is off (no acme_directory in " + ctx.paths.host_conf + ")";
        if (!args.all)
            return report_error(ctx, "validate",
                                Error{ErrorKind::HostNotReady, why + ": set acme_directory to renew " + domains.front()});
        if (ctx.options.json)
            std::cout << nlohmann::json{{"result", "OK"}, {"acme", false}, {"jails", nlohmann::json::array()}}.dump(2)
                      << std::endl;
        else
            std::cout << "OK " << why << ": nothing to renew" << std::endl;
        return 0;
    }

    bool failed = false;
    auto jails = nlohmann::json::array();
    for (const auto& domain : domains) {
        Outcome o = renew_one(ctx, acme, domain, args.days, !args.all);
        failed = failed || o.result == "failed";
        if (!ctx.options.json) {
            print_text(o);
            continue;
        }
        nlohmann::json j{{"domain", o.domain}, {"result", o.result}, {"detail", o.detail}};
        if (!o.expires.empty()) j["expires"] = o.expires;
        if (!o.log.empty()) j["log"] = o.log;
        jails.push_back(std::move(j));
    }
    if (ctx.options.json)
        std::cout << nlohmann::json{{"result", failed ? "KO" : "OK"}, {"acme", true}, {"jails", jails}}.dump(2)
                  << std::endl;
    return failed ? static_cast<int>(ErrorKind::StepFailed) : 0;
}

}  // namespace

void add_renew(CLI::App& app, Context& ctx, Action& action) {
    auto [cmd, args] = add_command<Args>(app, ctx, action, "renew",
                                         "Replace ACME certificates that expire soon, are still self-signed or miss a name",
                                         run_renew);
    cmd->add_option("domain", args->domain, "The jail whose certificate to renew");
    cmd->add_flag("--all", args->all, "Every jail (the daily timer)");
    cmd->add_option("--days", args->days, "Renew what expires within this many days (default 30)");
}

}  // namespace jailctl
