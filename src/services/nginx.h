// The jail's web server: nginx serving the customer's static site from /srv/site/www over
// HTTP (port 80) and HTTPS (port 443, the site certificate of services/site_tls.h).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "services/jail_spec.h"

namespace jailctl {

// The site certificate and key inside the jail. FTPS keeps its own (etc/ssl/jailctl/ftp.*):
// its fingerprint is pinned by customers' FTP clients for the jail's life, while the site's
// changes with aliases, a customer's own certificate or ACME (docs/DECISIONS.md).
inline constexpr std::string_view kSiteCertPath = "/etc/ssl/jailctl/site.crt";
inline constexpr std::string_view kSiteKeyPath = "/etc/ssl/jailctl/site.key";

// Every name the site answers and its certificate must cover: host_names(domain), then the
// aliases (jailctl alias add).
std::vector<std::string> served_names(const JailSpec& spec);

// /etc/nginx/nginx.conf: one worker (a container sees the host's CPUs), `daemon off`
// (jailctl-init supervises it in the foreground), two servers for served_names(): IP:80 and
// IP:443 (TLS 1.2+, http2, the site certificate). Both serve the same locations; with
// https_only, :80 redirects everything (301) to https://$host$request_uri except the
// locations only HTTP may serve (the ACME HTTP-01 challenge).
std::string render_nginx_conf(const JailSpec& spec);
// /etc/nginx/mime.types: the small set of types a static site needs.
std::string render_mime_types();

}  // namespace jailctl
