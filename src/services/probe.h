// The customer's view of a jail, from outside it (libcurl): the web site answers for
// its domain, and the FTP account can log in over FTPS, upload a file that the web
// server then serves, and delete it. Errors name the sub-step and an operator-readable
// cause; the password never appears in them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "util/result.h"

namespace jailctl {

struct ProbeTarget {
    std::string ip, domain;
    uint16_t http_port = 80;  // other ports only for tests against local servers
    uint16_t ftp_port = 21;
    // Not empty: the web requests (probe_http, probe_ftp's read-back) go to https://DOMAIN/
    // (resolved to IP, port https_port), trusting exactly this PEM chain (the site certificate
    // installed in the jail; any of its certificates may anchor it), the name checked against
    // DOMAIN, and the certificate served must be the chain's first, byte for byte.
    std::string site_cert_pem;
    uint16_t https_port = 443;
};

// GET http://IP/ with "Host: DOMAIN" (https://DOMAIN/ when target.site_cert_pem is set): OK
// when the status is 200 and the body contains `expect`; with "" (the customer's own site, whose
// `/` may redirect, need a login or have no index) when it answers anything but a server error
// (< 500). Connect timeout 2 s, total 5 s; proxies are never used.
Result<void> probe_http(const ProbeTarget& target, std::string_view expect);

// GET http://IP/ with "Host: DOMAIN" answers 301 to https://DOMAIN/ (https-only sites).
Result<void> probe_https_redirect(const ProbeTarget& target);

// The web server's status line only, over a plain socket (no libcurl: `start` polls this
// every few ms and must not pay for loading libcurl): OK on "HTTP/1.x <status>" (an
// https-only site answers 301). Each of connect, send and receive gives up after 1 s.
Result<void> http_answers(const ProbeTarget& target, std::string_view status = "200");

// A TCP connection to IP:PORT is accepted within 1 s, over the same plain socket as
// http_answers: `start` polls FTP's port this way (a port check: vsftpd's greeting and login
// are probe_ftp's business).
Result<void> tcp_accepts(const std::string& ip, uint16_t port);

// Explicit FTPS (AUTH TLS, TLS for login and data) to IP as user/password, trusting only
// `cert_pem` and checking that it names IP. Passive mode uses PASV (not EPSV) and connects to
// the address the server announces, so a wrong passive address fails here as it would for a
// customer. Uploads www/jailctl-probe-<random>.txt, reads it back over HTTP byte for byte,
// and deletes it (also when the read-back failed). With `php` the probe is
// www/jailctl-probe-<random>.php, a script printing the product of two random numbers, and the
// read-back expects the product: the one upload proves both FTP and PHP (the php profile).
Result<void> probe_ftp(const ProbeTarget& target, const std::string& user, const std::string& password,
                       const std::string& cert_pem, bool php = false);

// What a libcurl result code means for an operator, e.g. 67 -> "login denied (...)".
std::string describe_curl_code(int code);

}  // namespace jailctl
