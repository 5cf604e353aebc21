// The jail's FTP server: vsftpd with one local account chrooted to /srv/site, FTPS
// with the jail's ECDSA certificate, authenticated by our own minimal PAM stack.
#pragma once

#include <string>

#include "services/jail_spec.h"

namespace jailctl {

// /etc/vsftpd.conf. Only options Debian's vsftpd 3.0.3 knows: an unknown key makes it
// refuse to start ("500 OOPS: unrecognised variable in config file").
std::string render_vsftpd_conf(const JailSpec& spec);
// /etc/pam.d/vsftpd: pam_unix for auth and account, pam_permit for the session. No
// pam_shells or pam_listfile: the account's shell is nologin and there is no ftpusers file.
std::string render_pam_vsftpd();

}  // namespace jailctl
