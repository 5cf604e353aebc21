// The jail's web server: nginx serving the customer's static site from /srv/site/www.
#pragma once

#include <string>

#include "services/jail_spec.h"

namespace jailctl {

// /etc/nginx/nginx.conf: one worker (a container sees the host's CPUs), `daemon off`
// (jailctl-init supervises it in the foreground), listen IP:80, server_name DOMAIN www.DOMAIN.
std::string render_nginx_conf(const JailSpec& spec);
// /etc/nginx/mime.types: the small set of types a static site needs.
std::string render_mime_types();

}  // namespace jailctl
