// jailctl token add NAME --role R | token list | token remove NAME: serve's API tokens.
#include <iostream>
#include <memory>

#include "api/auth.h"
#include "api/serve.h"

namespace jailctl {
namespace {

int run_add(Context& ctx, const std::string& name, const std::string& role_text) {
    if (auto r = api::check_token_name(name); !r) return report_error(ctx, "validate", r.error());
    auto role = api::parse_role(role_text);
    if (!role) return report_error(ctx, "validate", Error{ErrorKind::BadInput, "role: '" + role_text +
                                                                                  "' is not admin, operator or viewer"});
    if (auto r = ctx.open(); !r) return report_error(ctx, "validate", r.error());
    auto token = api::new_token();
    if (!token) return report_error(ctx, "token", token.error());
    if (auto r = ctx.registry().add_token(name, api::role_name(*role), api::token_hash(*token)); !r)
        return report_error(ctx, "validate", r.error());
    // The secret is shown once; its last line is the bare token (for scripts: | tail -n 1).
    return report_ok(ctx, {{"name", name}, {"role", api::role_name(*role)}, {"token", *token}},
                     {"name:      " + name, "role:      " + std::string(api::role_name(*role)),
                      "token (shown only now; keep it, only its hash is stored):", *token});
}

int run_list(Context& ctx) {
    if (auto r = ctx.open(); !r) return report_error(ctx, "validate", r.error());
    auto tokens = ctx.registry().list_tokens();
    if (!tokens) return report_error(ctx, "validate", tokens.error());
    if (ctx.options.json) {
        auto arr = nlohmann::json::array();
        for (const auto& t : *tokens)
            arr.push_back({{"name", t.name}, {"role", t.role}, {"created", t.created},
                           {"last_used", t.last_used.empty() ? nlohmann::json(nullptr) : nlohmann::json(t.last_used)}});
        std::cout << nlohmann::json{{"tokens", arr}}.dump(2) << std::endl;
        return 0;
    }
    std::printf("%-24s %-9s %-21s %s\n", "NAME", "ROLE", "CREATED", "LAST USED");
    for (const auto& t : *tokens)
        std::printf("%-24s %-9s %-21s %s\n", t.name.c_str(), t.role.c_str(), t.created.c_str(),
                    t.last_used.empty() ? "never" : t.last_used.c_str());
    return 0;
}

int run_remove(Context& ctx, const std::string& name) {
    if (auto r = ctx.open(); !r) return report_error(ctx, "validate", r.error());
    auto removed = ctx.registry().remove_token(name);
    if (!removed) return report_error(ctx, "validate", removed.error());
    if (!*removed)
        return report_error(ctx, "validate", Error{ErrorKind::BadInput, "name: no token named '" + name +
                                                                            "' (see 'jailctl token list')"});
    return report_ok(ctx, {{"name", name}}, {"removed:   " + name + " (requests with it are refused from now on)"});
}

}  // namespace

void add_token(CLI::App& app, Context& ctx, Action& action) {
    auto* token = app.add_subcommand("token", "API tokens of 'jailctl serve'");
    token->require_subcommand(1);
    auto name = std::make_shared<std::string>();
    auto role = std::make_shared<std::string>();
    auto* add = token->add_subcommand("add", "Make a token (printed once; its last line is the bare token)");
    add->add_option("name", *name, "Its name, shown in the request log")->required();
    add->add_option("--role", *role, "admin, operator or viewer")->required();
    add->callback([&ctx, &action, name, role] { action = [&ctx, name, role] { return run_add(ctx, *name, *role); }; });
    token->add_subcommand("list", "The tokens: name, role, created, last used (never the secret)")->callback([&] {
        action = [&ctx] { return run_list(ctx); };
    });
    auto* remove = token->add_subcommand("remove", "Revoke a token");
    remove->add_option("name", *name, "The token's name")->required();
    remove->callback([&ctx, &action, name] { action = [&ctx, name] { return run_remove(ctx, *name); }; });
}

}  // namespace jailctl
