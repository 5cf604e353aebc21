// One file per verb (src/cli/<verb>.cc): each adds its subcommand to the app and,
// when chosen, sets `action` to the function that runs it and returns the exit status.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

#include "cli/context.h"

namespace jailctl {

using Action = std::function<int()>;

void add_create(CLI::App& app, Context& ctx, Action& action);
void add_status(CLI::App& app, Context& ctx, Action& action);
void add_start_stop(CLI::App& app, Context& ctx, Action& action);  // start, stop, restart
void add_test(CLI::App& app, Context& ctx, Action& action);
void add_passwd(CLI::App& app, Context& ctx, Action& action);
void add_destroy(CLI::App& app, Context& ctx, Action& action);
void add_host(CLI::App& app, Context& ctx, Action& action);  // host check, host prepare

// Looks up a registered jail by the domain the operator typed (normalised like create).
Result<JailRecord> find_jail(Context& ctx, const std::string& domain_input);

}  // namespace jailctl
