// jailctl credentials DOMAIN: what support staff give the customer — the FTP account, the
// certificate's fingerprint and the FTPS server to connect to. Reads only; root only (the
// credentials file is 0600 root, and main refuses every verb to other users with exit 4).
#include <memory>

#include "cli/jail_ops.h"
#include "cli/verbs.h"
#include "host/mount.h"

namespace jailctl {
namespace {

constexpr int kFtpPort = 21;

int run_credentials(Context& ctx, const std::string& domain_input) {
    auto rec = find_jail(ctx, domain_input);
    if (!rec) return report_error(ctx, "validate", rec.error());
    auto creds = read_credentials(ctx.paths, rec->domain);
    if (!creds)
        return report_error(
            ctx, "credentials",
            creds.error().context("the jail has no FTP credentials; give it new ones with 'jailctl passwd " +
                                  rec->domain + "'"));
    // The certificate the jail presents now wins over the one remembered (a jail created before
    // the fingerprint was kept); a stopped jail's disk is not mounted, so the file's copy serves.
    std::string fingerprint = creds->fingerprint;
    if (auto mounted = find_mount(ctx.paths.rootfs(rec->domain)); mounted && *mounted)
        if (auto cert = read_jail_certificate(ctx.paths, rec->domain))
            if (auto fpr = certificate_fingerprint(*cert)) fingerprint = *fpr;

    nlohmann::json fields = {
        {"domain", rec->domain},
        {"ftp",
         {{"host", rec->domain},
          {"ip", rec->ip},
          {"port", kFtpPort},
          {"encryption", "explicit"},
          {"url", "ftpes://" + rec->domain + "/"},
          {"user", creds->user},
          {"password", creds->password},
          {"tls", rec->ftp_tls},
          {"fingerprint", fingerprint.empty() ? nlohmann::json() : nlohmann::json(fingerprint)}}}};
    std::vector<std::string> text = {
        "domain:    " + rec->domain,
        "ftp host:  " + rec->domain + " (" + rec->ip + "), port " + std::to_string(kFtpPort) +
            ", explicit TLS (AUTH TLS), " + rec->ftp_tls,
        "ftp url:   ftpes://" + rec->domain + "/",
        "ftp user:  " + creds->user,
        "ftp pass:  " + creds->password,
        "ftp tls:   " + rec->ftp_tls + ", sha256 " +
            (fingerprint.empty() ? "unknown (start the jail: 'jailctl start " + rec->domain + "')"
                                 : fingerprint)};
    return report(ctx, TaskOutcome{.ok = true}, fields, text, "");
}

}  // namespace

void add_credentials(CLI::App& app, Context& ctx, Action& action) {
    auto domain = std::make_shared<std::string>();
    auto* cmd = app.add_subcommand(
        "credentials", "Show the FTP account, certificate fingerprint and FTPS server to give the customer");
    cmd->add_option("domain", *domain, "The jail")->required();
    cmd->callback(
        [&ctx, &action, domain] { action = [&ctx, domain] { return run_credentials(ctx, *domain); }; });
}

}  // namespace jailctl
