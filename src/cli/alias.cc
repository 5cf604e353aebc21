// jailctl alias add|remove|list DOMAIN [NAME]: more names a jail's site answers (nginx's
// server_name and the site certificate), each served by one jail only.
#include <algorithm>
#include <memory>

#include "cli/acme_ops.h"
#include "cli/jail_ops.h"
#include "cli/verbs.h"
#include "cli/web_ops.h"
#include "host/lxc.h"
#include "jail/domain.h"
#include "services/probe.h"

namespace jailctl {
namespace {

// More names than this make a certificate (and nginx's server_name) unwieldy; CAs cap the SAN
// list at 100 too (Let's Encrypt).
constexpr std::size_t kMaxAliases = 97;  // + DOMAIN and www.DOMAIN = 99 names

// After the change: the site answers NAME over HTTPS with the installed certificate (when it
// names NAME: a customer's own certificate may not).
Result<void> test_alias(const Context& ctx, const JailRecord& rec, const std::string& name) {
    auto pem = read_site_certificate(ctx.paths, rec.domain);
    if (!pem) return std::unexpected(pem.error());
    ProbeTarget target{rec.ip, name};
    target.site_cert_pem = *pem;
    if (auto r = probe_http(target, ""); !r) return std::unexpected(r.error().context("HTTPS for alias " + name));
    return {};
}

enum class Change { Add, Remove };

int run_change(Context& ctx, Change change, const std::string& domain_input, const std::string& name_input) {
    const char* verb = change == Change::Add ? "alias-add" : "alias-remove";
    auto locked = locked_jail(ctx, domain_input);
    if (!locked) return report_error(ctx, locked.error());
    const JailRecord& rec = locked->rec;
    auto name = parse_alias(name_input);
    if (!name) return report_error(ctx, "validate", name.error());
    const auto own = host_names(rec.domain);
    const bool present = std::ranges::find(rec.aliases, *name) != rec.aliases.end();
    if (std::ranges::find(own, *name) != own.end())
        return report_error(ctx, "validate", Error{ErrorKind::BadInput, "alias: " + *name + " is one of " + rec.domain +
                                                                            "'s own names, not an alias"});
    if (change == Change::Remove && !present)
        return report_error(ctx, "validate", Error{ErrorKind::BadInput, "alias: " + *name + " is not an alias of " +
                                                                            rec.domain + " (see 'jailctl alias list " +
                                                                            rec.domain + "')"});
    auto plan = plan_for(ctx, rec);
    if (!plan) return report_error(ctx, "validate", plan.error());
    if (change == Change::Add) {
        auto holder = ctx.registry().name_holder(*name);
        if (!holder) return report_error(ctx, "validate", holder.error());
        if (*holder)
            return report_error(ctx, "validate", Error{ErrorKind::Conflict, "alias: " + *name + " is already served by jail " +
                                                                                **holder + (**holder == rec.domain ? " (this one)" : "")});
        if (rec.aliases.size() >= kMaxAliases)
            return report_error(ctx, "validate", Error{ErrorKind::BadInput, "alias: " + rec.domain + " already has " +
                                                                                std::to_string(kMaxAliases) + " aliases, the most a jail serves"});
        plan->rec.aliases.push_back(*name);
        std::ranges::sort(plan->rec.aliases);
    } else {
        std::erase(plan->rec.aliases, *name);
    }
    // A self-signed certificate is made again for the new names; an ACME one is ordered again
    // once nginx answers the new names (best effort: a CA that fails leaves the current one and
    // a warning, and renew orders later); a customer's own stays (a warning when it lacks NAME).
    std::optional<SiteTls> tls;
    AcmeSettings acme;
    if (rec.tls == "self-signed") {
        auto made = self_signed_site_tls(plan->rec);
        if (!made) return report_error(ctx, "validate", made.error());
        tls = *made;
    } else if (rec.tls == "acme") {
        auto checked = checked_acme(ctx.paths);
        if (!checked) return report_error(ctx, "validate", checked.error());
        acme = *checked;
        if (!acme.enabled())
            plan->warnings.push_back("alias: ACME is off (no acme_directory in " + ctx.paths.host_conf +
                                     "): the site keeps its ACME certificate, which does not follow its names");
    } else if (change == Change::Add) {
        plan->warnings.push_back("alias: the site's " + rec.tls + " certificate is kept; install one that names " +
                                 *name + " with 'jailctl set " + rec.domain + " --tls-cert F --tls-key K'");
    }
    auto log = open_task_log(ctx, rec.domain, verb);
    if (!log) return report_error(ctx, "log", log.error());
    log_warnings(*plan, *log);

    JailSteps jail{ctx, *plan};
    const std::string domain = rec.domain, alias = *name;
    auto unserve = [&]() -> Result<void> {
        auto removed = ctx.registry().remove_alias(domain, alias);
        if (!removed) return std::unexpected(removed.error());
        return {};
    };
    std::vector<Step> steps;
    if (change == Change::Add)
        steps.push_back({"alias", [&] { return ctx.registry().add_alias(domain, alias); },
                         unserve});
    else
        steps.push_back({"alias", unserve,
                         [&] { return ctx.registry().add_alias(domain, alias); }});
    for (auto& step : web_update_steps(jail, tls)) steps.push_back(std::move(step));
    const std::size_t warned = plan->warnings.size();
    if (rec.tls == "acme")
        for (auto& step : acme_reissue_steps(jail, acme)) steps.push_back(std::move(step));
    if (lxc_running(ctx.paths.lxcpath, domain)) {
        steps.push_back({"test", [&] { return test_jail(ctx, plan->rec, ""); }});
        // NAME over HTTPS with a certificate that names it: made here, or ordered (unless the
        // order failed: then a warning says so and the site keeps the previous certificate).
        if (change == Change::Add && (rec.tls == "self-signed" || rec.tls == "acme"))
            steps.push_back({"test-alias", [&, warned]() -> Result<void> {
                                 if (plan->warnings.size() > warned) return {};
                                 return test_alias(ctx, plan->rec, alias);
                             }});
    }
    TaskOutcome outcome = run_journaled(ctx, *log, domain, verb, steps);
    nlohmann::json fields = {{"domain", domain}, {"alias", alias}};
    std::vector<std::string> text = {"domain:    " + domain,
                                     std::string(change == Change::Add ? "added:     " : "removed:   ") + alias};
    report_web(ctx.paths, outcome.ok ? plan->rec : rec, fields, text);
    report_warnings(*plan, fields, text);
    return report(ctx, outcome, fields, text, log->path());
}

int run_list(Context& ctx, const std::string& domain_input) {
    auto rec = find_jail(ctx, domain_input);
    if (!rec) return report_error(ctx, "validate", rec.error());
    std::vector<std::string> text;
    for (const auto& a : rec->aliases) text.push_back(a);
    TaskOutcome ok;
    ok.ok = true;
    return report(ctx, ok, {{"domain", rec->domain}, {"aliases", rec->aliases}}, text, "");
}

}  // namespace

void add_alias(CLI::App& app, Context& ctx, Action& action) {
    auto* alias = app.add_subcommand("alias", "More names a jail's site answers (HTTP and HTTPS)");
    alias->require_subcommand(1);
    auto domain = std::make_shared<std::string>();
    auto name = std::make_shared<std::string>();
    auto* add = alias->add_subcommand("add", "Serve NAME too; refused when another jail serves it");
    add->add_option("domain", *domain, "The jail")->required();
    add->add_option("name", *name, "The alias, e.g. shop.example.org (IDN allowed); www.NAME is another alias")->required();
    add->callback([&ctx, &action, domain, name] {
        action = [&ctx, domain, name] { return run_change(ctx, Change::Add, *domain, *name); };
    });
    auto* remove = alias->add_subcommand("remove", "Stop serving NAME");
    remove->add_option("domain", *domain, "The jail")->required();
    remove->add_option("name", *name, "The alias")->required();
    remove->callback([&ctx, &action, domain, name] {
        action = [&ctx, domain, name] { return run_change(ctx, Change::Remove, *domain, *name); };
    });
    auto* list = alias->add_subcommand("list", "The jail's aliases, one a line");
    list->add_option("domain", *domain, "The jail")->required();
    list->callback([&ctx, &action, domain] { action = [&ctx, domain] { return run_list(ctx, *domain); }; });
}

}  // namespace jailctl
