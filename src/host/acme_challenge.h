// The host side of ACME issuance (services/acme.h): jailctl's own executable in the two
// roles uacme runs it in.
#pragma once

namespace jailctl {

// jailctl's own executable in two internal roles, chosen in main() before the command line
// is parsed: the trampoline `jailctl __acme-exec TRUST ROOTFS ID_BASE uacme ...` (a private
// mount namespace in which TRUST replaces /etc/ssl/certs: uacme's libcurl has no CA option),
// and uacme's hook `jailctl begin|done|failed TYPE IDENT TOKEN AUTH`, recognised by the
// environment the trampoline leaves.
bool is_acme_hook_call(int argc);
int acme_exec_main(int argc, char** argv);
int acme_hook_main(int argc, char** argv);

}  // namespace jailctl
