#include "cli/acme_ops.h"

#include <filesystem>
#include <memory>
#include <optional>

#include "cli/web_ops.h"
#include "host/lxc.h"
#include "services/nginx.h"

namespace jailctl {
namespace {

std::string this_program() {
    std::error_code ec;
    auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    return ec ? std::string("jailctl") : exe.string();
}

// The steps of web_update_steps for a certificate an earlier step of the same task obtains:
// made when the first of them runs, applied in order, undone in reverse as far as they went.
Step install_step(JailSteps jail, std::shared_ptr<std::optional<SiteTls>> tls) {
    struct Applied {
        std::vector<Step> steps;
        size_t done = 0;
    };
    auto applied = std::make_shared<Applied>();
    return {"install",
            [jail, tls, applied]() mutable -> Result<void> {
                if (!*tls) return {};  // best effort and no certificate: nothing to install
                applied->steps = web_update_steps(jail, **tls);
                for (auto& step : applied->steps) {
                    if (auto r = step.apply(); !r) return std::unexpected(r.error().context(step.name));
                    ++applied->done;
                }
                return {};
            },
            [applied]() -> Result<void> {
                Result<void> result;
                while (applied->done > 0) {
                    auto& step = applied->steps[--applied->done];
                    if (!step.undo) continue;
                    if (auto r = step.undo(); !r && result) result = std::unexpected(r.error().context(step.name));
                }
                return result;
            }};
}

}  // namespace

std::vector<Step> acme_certificate_steps(JailSteps& jail, const AcmeSettings& acme, bool best_effort) {
    auto tls = std::make_shared<std::optional<SiteTls>>();
    auto previous = std::make_shared<std::string>(jail.plan.rec.tls);
    Step order{"acme", [&jail, acme, best_effort, tls]() -> Result<void> {
                   const JailRecord& rec = jail.plan.rec;
                   AcmeOrder o{jail.paths().acme(), this_program(), jail.paths().rootfs(rec.domain), rec.id_base,
                               served_names(web_spec(rec))};
                   auto issued = acme_issue(acme, o);
                   if (issued) {
                       *tls = SiteTls{issued->cert_pem, issued->key_pem};
                       return {};
                   }
                   if (!best_effort) return std::unexpected(issued.error());
                   jail.plan.warnings.push_back("no ACME certificate yet (" + issued.error().message +
                                                "): the site keeps its " + rec.tls + " one until 'jailctl renew " +
                                                rec.domain + "' succeeds");
                   return {};
               }};
    Step record{"record",
                [&jail, tls]() -> Result<void> {
                    if (!*tls) return {};
                    JailRecord& rec = jail.plan.rec;
                    if (auto r = jail.ctx.registry().set_web(rec.domain, rec.https_only, "acme"); !r) return r;
                    rec.tls = "acme";
                    return {};
                },
                [&jail, tls, previous]() -> Result<void> {
                    if (!*tls) return {};
                    JailRecord& rec = jail.plan.rec;
                    rec.tls = *previous;
                    return jail.ctx.registry().set_web(rec.domain, rec.https_only, rec.tls);
                }};
    return {order, install_step(jail, tls), record};
}

std::vector<Step> acme_if_self_signed_steps(JailSteps& jail, const AcmeSettings& acme) {
    auto steps = acme_certificate_steps(jail, acme, true);
    auto order = steps.front().apply;  // install and record do nothing without its certificate
    steps.front().apply = [&jail, order]() -> Result<void> {
        if (jail.plan.rec.tls != "self-signed") return {};
        return order();
    };
    return steps;
}

std::vector<Step> acme_reissue_steps(JailSteps& jail, const AcmeSettings& acme) {
    if (!acme.enabled()) return {};
    if (!lxc_running(jail.paths().lxcpath, jail.domain())) {
        jail.plan.warnings.push_back("ACME: " + jail.domain() + " is stopped and the CA validates through its web server: "
                                     "start it, then 'jailctl renew " + jail.domain() + "' gets a certificate for its names");
        return {};
    }
    return acme_certificate_steps(jail, acme, true);
}

}  // namespace jailctl
