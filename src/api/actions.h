// What each API action may receive and how it becomes the command line of the verb that
// runs it: a table per action of the allowed JSON fields, their types and CLI options.
// Values are passed as single argv entries (`--opt=value`, positionals after `--`), never
// through a shell and never as an option of their own.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "api/auth.h"
#include "util/result.h"

namespace jailctl::api {

enum class FieldType { String, Bool, Integer, SizeValue, Number, StringList };

struct FieldSpec {
    std::string name;    // the JSON field
    FieldType type;
    std::string option;  // "--ip" (given as --ip=VALUE; a flag for Bool); "" = the positional(s);
                         // kServeField: read by serve itself, not an argument of the verb
    bool required = false;
    std::string off_option = {};  // Bool only: the flag false gives ("" = false gives nothing)
};

inline constexpr const char* kServeField = "(serve)";

struct ActionSpec {
    std::string action;  // the URL's action ("create" for POST /jails, "destroy" for DELETE)
    std::string verb;    // the jailctl verb that runs it ("alias add": a verb and its subcommand;
                         // "renew --all": a verb and the flag that makes it the host's)
    Role role;           // the least role allowed
    bool path_domain;    // the jail named in the URL is the verb's first positional
    std::vector<FieldSpec> fields;
};

const std::vector<ActionSpec>& action_table();
const ActionSpec* find_action(const std::string& action);

// The verb's arguments (verb first) for this body; bad input names the field:
// malformed JSON, not an object, unknown field, wrong type, missing required field.
Result<std::vector<std::string>> action_args(const ActionSpec& spec, const std::string& path_domain,
                                             const nlohmann::json& body);
// Parses a request body ("" = {}) and maps it.
Result<std::vector<std::string>> action_args(const ActionSpec& spec, const std::string& path_domain,
                                             const std::string& body);

// The JSON field a CLI error message ("ip: 10.0.0.1 is taken") is about, or nullopt.
std::optional<std::string> error_field(const ActionSpec& spec, const std::string& message);

}  // namespace jailctl::api
