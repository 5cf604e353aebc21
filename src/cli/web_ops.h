// The web side of an existing jail, as the verbs that change it share it (set, alias, renew,
// the PHP profile): nginx.conf rendered again from the jail's registry record, the site
// certificate nginx serves on 443, and the reload that makes a running nginx take both
// without dropping a request.
//
// How a verb changes a jail's web site:
//   1. validate, then change the record in plan.rec (and the registry, in a step of its own
//      whose undo restores it: web_update_steps renders from plan.rec, not from the registry);
//   2. append web_update_steps(jail, tls) to the task: they mount a stopped jail's disk for
//      the time of the change, install the certificate (when given), write nginx.conf, and
//      reload a running nginx (SIGHUP to its master, which starts new workers with the new
//      configuration and lets the old ones finish their requests);
//   3. a running jail is then tested from outside (test_jail: HTTPS pinned to site.crt).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cli/jail_ops.h"

namespace jailctl {

// The jail's service spec as far as nginx.conf needs it, from its record: domain, ip, FTP user,
// aliases, https_only, profile (no secrets, no PHP runtime: nothing of the web side needs them).
JailSpec web_spec(const JailRecord& rec);

// A certificate chain (the server's first) and its unencrypted private key, PEM.
struct SiteTls {
    std::string cert_pem, key_pem;
};
// --tls-cert F --tls-key K (create, set): both or neither (nullopt); each file read (at most
// 256 KiB: unreadable, empty or larger is BadInput naming the option) and the pair checked by
// check_site_certificate against `names` at this moment.
Result<std::optional<SiteTls>> read_custom_tls(const std::string& cert_file, const std::string& key_file,
                                               const std::vector<std::string>& names);
// The same check for PEM texts (the API takes the PEM itself, not file names).
Result<SiteTls> check_custom_tls(SiteTls tls, const std::vector<std::string>& names);

// A new self-signed site certificate for the record's names (served_names) and IPv4.
Result<SiteTls> self_signed_site_tls(const JailRecord& rec);

// The steps that make the jail's web site what plan.rec says:
//   mount        only when the disk is not mounted (a stopped jail); undo: unmount
//   site-tls     when `tls` is given, or when the jail has no site certificate yet (a jail
//                created before HTTPS gets a self-signed one): etc/ssl/jailctl/site.{crt,key};
//                undo: the previous files back
//   web-config   etc/nginx/nginx.conf rendered from web_spec(plan.rec); undo: the previous one
//   reload       only when the jail runs: SIGHUP to nginx's master, then until a new worker
//                runs (the new configuration loaded; a refused one names nginx's error);
//                undo: reload again (after the files' undo, the previous configuration)
//   unmount      only when mount was added
std::vector<Step> web_update_steps(JailSteps& jail, std::optional<SiteTls> tls = std::nullopt);

// SIGHUP to the running jail's nginx master; returns once a worker started after the signal
// runs (at most 5 s), so new connections get the new configuration and certificate.
Result<void> reload_nginx(const Paths& paths, const std::string& domain);

// The web site as status and the verbs that change it report it: "web": {"aliases": [...],
// "https_only": bool, "tls": "self-signed"|"custom"|"acme", "certificate": {"fingerprint",
// "not_after", "self_signed", "names"} or null when the jail's disk is not mounted (stopped)}.
nlohmann::json web_json(const Paths& paths, const JailRecord& rec);
// web_json as fields["web"], and its text lines (aliases, https, certificate).
void report_web(const Paths& paths, const JailRecord& rec, nlohmann::json& fields, std::vector<std::string>& text);

// The certificate the jail's nginx serves on 443 (site.crt), read safely from its tree.
Result<std::string> read_site_certificate(const Paths& paths, const std::string& domain);

}  // namespace jailctl
