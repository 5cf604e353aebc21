#include "console/console_assets.h"

namespace jailctl {

const Asset* find_console_asset(std::string_view path) {
    if (path == "/") path = "/index.html";
    for (const Asset& asset : console_assets())
        if (asset.path == path) return &asset;
    return nullptr;
}

}  // namespace jailctl
