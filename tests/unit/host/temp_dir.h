// A directory of one test under /var/tmp, removed with all it holds when the test ends.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>

namespace jailctl {

struct TempDir {
    explicit TempDir(const std::string& name) {
        std::string tmpl = "/var/tmp/jailctl-" + name + "-XXXXXX";
        if (::mkdtemp(tmpl.data())) path = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        if (!path.empty()) std::filesystem::remove_all(path, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    std::string path;  // "" when it could not be made
};

}  // namespace jailctl
