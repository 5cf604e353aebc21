#include "api/actions.h"

#include <algorithm>

namespace jailctl::api {
namespace {

using T = FieldType;

const char* type_name(FieldType t) {
    switch (t) {
        case T::String: return "a string";
        case T::Bool: return "a boolean";
        case T::Integer: return "a whole number from 0 (or its string)";
        case T::SizeValue: return "a string like \"512M\" or a whole number of bytes";
        case T::Number: return "a number or a string";
        case T::StringList: return "a non-empty array of strings";
    }
    return "?";
}

// The value as the CLI option's text, or nullopt when its JSON type is wrong.
std::optional<std::string> as_text(const nlohmann::json& v, FieldType t) {
    switch (t) {
        case T::String:
            if (v.is_string()) return v.get<std::string>();
            break;
        case T::Bool:
            if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
            break;
        case T::Integer:
            if (v.is_number_unsigned()) return std::to_string(v.get<uint64_t>());
            if (v.is_string()) return v.get<std::string>();
            break;
        case T::SizeValue:
            if (v.is_string()) return v.get<std::string>();
            if (v.is_number_unsigned()) return std::to_string(v.get<uint64_t>());
            break;
        case T::Number:
            if (v.is_string()) return v.get<std::string>();
            if (v.is_number_unsigned()) return std::to_string(v.get<uint64_t>());
            if (v.is_number_float() && v.get<double>() > 0) return v.dump();
            break;
        case T::StringList: break;  // several arguments: action_args
    }
    return std::nullopt;
}

// What a new jail takes (create, import-site): the verbs' options.
std::vector<FieldSpec> new_jail_fields() {
    return {{"domain", T::String, "", true},
            {"ip", T::String, "--ip", true},
            {"size", T::SizeValue, "--size", true},
            {"memory", T::SizeValue, "--memory"},
            {"cpus", T::Number, "--cpus"},
            {"pids", T::Integer, "--pids"},
            {"sparse", T::Bool, "--sparse"},
            {"ftp_tls", T::String, "--ftp-tls"},
            {"profile", T::String, "--profile"}};
}

std::vector<FieldSpec> with(std::vector<FieldSpec> fields, std::initializer_list<FieldSpec> more) {
    fields.insert(fields.end(), more);
    return fields;
}

// import and restore of an archive uploaded first (POST /api/v1/uploads): the archive is the
// task's /dev/fd/4; the new jail's identity defaults to the archive's.
std::vector<FieldSpec> archive_fields() {
    return {{"upload", T::String, kServeField, true}, {"domain", T::String, "--domain"}, {"ip", T::String, "--ip"},
            {"size", T::SizeValue, "--size"},         {"routed", T::Bool, "--routed"},   {"force_ip", T::Bool, "--force-ip"}};
}

}  // namespace

const std::vector<ActionSpec>& action_table() {
    static const std::vector<ActionSpec> table = {
        {"create", "create", Role::Admin, false, new_jail_fields()},
        {"start", "start", Role::Operator, true, {}},
        {"stop", "stop", Role::Operator, true, {{"timeout", T::Integer, "--timeout"}}},
        {"restart", "restart", Role::Operator, true, {{"timeout", T::Integer, "--timeout"}}},
        {"test", "test", Role::Operator, true, {}},
        {"passwd", "passwd", Role::Operator, true, {}},
        {"fsck", "fsck", Role::Operator, true, {{"repair", T::Bool, "--repair"}, {"restart", T::Bool, "--restart"}}},
        {"grow", "grow", Role::Operator, true, {{"size", T::SizeValue, "--size", true}, {"offline", T::Bool, "--offline"}}},
        // --output (any host path) is not offered: backups go to <root>/backups/<domain>/
        {"backup", "backup", Role::Operator, true, {}},
        {"clone", "clone", Role::Admin, true,
         {{"domain", T::String, "", true}, {"ip", T::String, "--ip", true}, {"size", T::SizeValue, "--size"}}},
        {"set", "set", Role::Operator, true,
         {{"memory", T::SizeValue, "--memory"}, {"cpus", T::Number, "--cpus"}, {"pids", T::Integer, "--pids"},
          {"profile", T::String, "--profile"},
          {"https_only", T::Bool, "--https-only", false, "--no-https-only"},
          {"tls_auto", T::Bool, "--tls-auto"},
          {"autostart", T::Bool, "--autostart", false, "--no-autostart"}}},
        // --tls-cert/--tls-key name files on the host running jailctl: CLI-only (docs/DECISIONS.md).
        {"alias-add", "alias add", Role::Operator, true, {{"name", T::String, "", true}}},
        {"alias-remove", "alias remove", Role::Operator, true, {{"name", T::String, "", true}}},
        {"destroy", "destroy", Role::Admin, true, {{"force", T::Bool, "--force"}}},
        // The jail's ACME certificate when it is due; renew-all is POST /renew: every jail of the host.
        {"renew", "renew", Role::Operator, true, {{"days", T::Integer, "--days"}}},
        {"renew-all", "renew --all", Role::Operator, false, {{"days", T::Integer, "--days"}}},
        // A create whose site was uploaded first (POST /api/v1/uploads): `--cluster import-site`.
        {"import-site", "import-site", Role::Admin, false, with(new_jail_fields(), {{"upload", T::String, kServeField, true}})},
        // `--cluster import|restore FILE`: the archive of the operator's machine, uploaded first.
        {"import", "import", Role::Admin, false, archive_fields()},
        {"restore", "restore", Role::Admin, false, with(archive_fields(), {{"replace", T::Bool, "--replace"}})},
        // A command in the jail, its output collected (docs/API.md): root in the jail, so admin.
        {"exec", "exec", Role::Admin, true,
         {{"user", T::String, "--user"},
          {"command", T::StringList, "", true},
          {"stdin", T::String, kServeField},
          {"timeout", T::Integer, "--timeout"}}},
        // An interactive shell on a pty of serve's, relayed by /api/v1/consoles/{task} (docs/API.md).
        {"console", "console", Role::Admin, true,
         {{"user", T::String, "--user"}, {"rows", T::Integer, kServeField}, {"cols", T::Integer, kServeField},
          {"term", T::String, kServeField}}},
    };
    return table;
}

const ActionSpec* find_action(const std::string& action) {
    for (const auto& spec : action_table())
        if (spec.action == action) return &spec;
    return nullptr;
}

Result<std::vector<std::string>> action_args(const ActionSpec& spec, const std::string& path_domain,
                                             const nlohmann::json& body) {
    if (!body.is_object()) return fail_input("body", "must be a JSON object");
    for (const auto& [key, value] : body.items()) {
        auto known = std::any_of(spec.fields.begin(), spec.fields.end(), [&](const auto& f) { return f.name == key; });
        if (!known) {
            std::string allowed;
            for (const auto& f : spec.fields) allowed += (allowed.empty() ? "" : ", ") + f.name;
            return fail_input(key.size() > 64 ? key.substr(0, 64) + "..." : key,
                              "unknown field for " + spec.action +
                                  (allowed.empty() ? " (it takes no fields)" : " (allowed: " + allowed + ")"));
        }
    }
    std::vector<std::string> args;
    for (std::size_t at = 0; at < spec.verb.size();) {  // "alias add": the verb, then its subcommand
        auto space = spec.verb.find(' ', at);
        if (space == std::string::npos) space = spec.verb.size();
        args.push_back(spec.verb.substr(at, space - at));
        at = space + 1;
    }
    std::vector<std::string> positionals;
    if (spec.path_domain) positionals.push_back(path_domain);
    for (const auto& f : spec.fields) {
        auto it = body.find(f.name);
        if (it == body.end()) {
            if (f.required) return fail_input(f.name, "is required");
            continue;
        }
        if (f.type == T::StringList) {
            if (!it->is_array() || it->empty()) return fail_input(f.name, "must be " + std::string(type_name(f.type)));
            for (const auto& item : *it) {
                if (!item.is_string()) return fail_input(f.name, "must be " + std::string(type_name(f.type)));
                if (item.get<std::string>().find('\0') != std::string::npos)
                    return fail_input(f.name, "must not contain a NUL character");
                positionals.push_back(item.get<std::string>());
            }
            continue;
        }
        auto text = as_text(*it, f.type);
        if (!text) return fail_input(f.name, "must be " + std::string(type_name(f.type)));
        if (text->find('\0') != std::string::npos) return fail_input(f.name, "must not contain a NUL character");
        if (f.option == kServeField) continue;
        if (f.type == T::Bool) {
            if (*text == "true") args.push_back(f.option);
            else if (!f.off_option.empty()) args.push_back(f.off_option);
        } else if (f.option.empty()) {
            positionals.push_back(*text);
        } else {
            args.push_back(f.option + "=" + *text);
        }
    }
    args.push_back("--");  // whatever follows is a positional, even "-x"
    args.insert(args.end(), positionals.begin(), positionals.end());
    return args;
}

Result<std::vector<std::string>> action_args(const ActionSpec& spec, const std::string& path_domain,
                                             const std::string& body) {
    if (body.find_first_not_of(" \t\r\n") == std::string::npos) return action_args(spec, path_domain, nlohmann::json::object());
    auto doc = nlohmann::json::parse(body, nullptr, false);
    if (doc.is_discarded()) return fail_input("body", "is not valid JSON");
    return action_args(spec, path_domain, doc);
}

std::optional<std::string> error_field(const ActionSpec& spec, const std::string& message) {
    auto colon = message.find(':');
    if (colon == std::string::npos) return std::nullopt;
    std::string field = message.substr(0, colon);
    std::replace(field.begin(), field.end(), '-', '_');
    if (field == "domain" || field == "body") return field;
    for (const auto& f : spec.fields)
        if (f.name == field) return field;
    return std::nullopt;
}

}  // namespace jailctl::api
