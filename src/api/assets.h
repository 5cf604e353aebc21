// The OpenAPI document (src/api/openapi.json), compiled in by cmake/embed.cmake. (The web
// console's files are embedded by cmake/embed_console.cmake: console/console_assets.h.)
#pragma once

#include <string_view>

namespace jailctl::api {

extern const std::string_view openapi_json;

}  // namespace jailctl::api
