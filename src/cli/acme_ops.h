// ACME certificates for a jail's web site (services/acme.h), as create and renew use them.
#pragma once

#include <vector>

#include "cli/jail_ops.h"
#include "services/acme.h"
#include "task/task.h"

namespace jailctl {

// The steps that give the running jail an ACME certificate for every name it serves:
//   acme      uacme orders it; the CA validates HTTP-01 through the jail's nginx on port 80
//   install   the certificate into the jail and nginx reloaded (web_update_steps of cli/web_ops.h:
//             site-tls, web-config, reload), each undone in reverse when a later step fails
//   record    the registry's tls source becomes "acme"; undo: the previous source
// `best_effort` (create): a failed order is a warning in plan.warnings, install and record are
// skipped, and the site keeps its self-signed certificate for renew to replace later.
std::vector<Step> acme_certificate_steps(JailSteps& jail, const AcmeSettings& acme, bool best_effort);

// After a change of the names a jail serves (alias add/remove) or of its certificate source
// (set --tls-auto): a new ACME certificate for plan.rec's names, best effort like create's.
// None when ACME is off; for a stopped jail (HTTP-01 needs its nginx) a warning in
// plan.warnings instead: renew gets it once the jail runs.
std::vector<Step> acme_reissue_steps(JailSteps& jail, const AcmeSettings& acme);

// acme_certificate_steps (best effort) that order only when, by the time they run, the jail's
// certificate source is self-signed: restore decides in its identity step whether the archived
// certificate still fits the jail.
std::vector<Step> acme_if_self_signed_steps(JailSteps& jail, const AcmeSettings& acme);

}  // namespace jailctl
