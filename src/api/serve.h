// jailctl serve (the REST API and web console) and jailctl token (its credentials).
#pragma once

#include "cli/verbs.h"

namespace jailctl {

void add_cluster(CLI::App& app, Context& ctx, Action& action);  // api/cluster_verb.cc: cluster init|join|leave|hosts

// The API's own certificate: <root>/api/{cert,key}.pem, made on first use (serve, cluster
// join) for `host` (an IPv4 goes into the certificate). Returns {cert path, key path}.
Result<std::pair<std::string, std::string>> ensure_certificate(const Context& ctx, const std::string& host);

void add_serve(CLI::App& app, Context& ctx, Action& action);  // api/serve.cc
void add_token(CLI::App& app, Context& ctx, Action& action);  // api/token_verb.cc: token add|list|remove

}  // namespace jailctl
