// jailctl serve (the REST API and web console) and jailctl token (its credentials).
#pragma once

#include "cli/verbs.h"

namespace jailctl {

void add_serve(CLI::App& app, Context& ctx, Action& action);  // api/serve.cc
void add_token(CLI::App& app, Context& ctx, Action& action);  // api/token_verb.cc: token add|list|remove

}  // namespace jailctl
