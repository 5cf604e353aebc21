// The web console's static files (src/console/*.html, *.js, *.css), embedded into the binary
// at build time by cmake/embed_console.cmake, so that `jailctl serve` needs no files on disk.
#pragma once

#include <span>
#include <string_view>

namespace jailctl {

struct Asset {
    std::string_view path;          // URL path, e.g. "/index.html", "/app.js"
    std::string_view content_type;  // e.g. "text/javascript; charset=utf-8"
    std::string_view body;
};

// Every embedded file, in file-name order.
std::span<const Asset> console_assets();

// The asset served at a URL path: "/" is "/index.html"; nullptr when there is none.
// (The query string must already be stripped.)
const Asset* find_console_asset(std::string_view path);

// Headers to send with every asset: no caching without revalidation, and a CSP that allows
// only same-origin scripts, styles and fetches (the console has no inline script or style).
inline constexpr std::string_view kConsoleCacheControl = "no-cache";
inline constexpr std::string_view kConsoleCsp =
    "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; object-src 'none'";

}  // namespace jailctl
