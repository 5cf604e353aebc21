#include "init/state_file.h"

#include <sys/stat.h>

#include <cstdio>

#include "util/atomic_file.h"

namespace jailctl::init {
namespace {

// mkdir -p for the directories above `path`'s last component.
Result<void> make_parent_dirs(const std::string& path) {
    for (auto slash = path.find('/', 1); slash != std::string::npos; slash = path.find('/', slash + 1)) {
        std::string dir = path.substr(0, slash);
        if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
            return fail_errno("create directory " + dir, errno);
    }
    return {};
}

}  // namespace

std::string json_string(std::string_view text) {
    std::string out;
    out.reserve(text.size() + 2);
    out.push_back('"');
    for (char c : text) {
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            case '\b':
                out += "\\b";
                break;
            case '\f':
                out += "\\f";
                break;
            default:
                if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned char>(c));
                    out += buf;
                } else {
                    out.push_back(c);
                }
        }
    }
    out.push_back('"');
    return out;
}

std::string render_state(const std::vector<Service>& services) {
    std::string out = "{\"services\":[";
    for (std::size_t i = 0; i < services.size(); ++i) {
        const auto& s = services[i];
        if (i) out += ',';
        out += "{\"name\":" + json_string(s.spec.name);
        out += ",\"pid\":" + std::to_string(s.pid);
        out += ",\"state\":" + json_string(state_name(s.state));
        out += ",\"restarts\":" + std::to_string(s.restarts);
        out += ",\"started\":" + std::to_string(s.started_unix) + "}";
    }
    out += "]}\n";
    return out;
}

Result<void> write_state_file(const std::string& path, std::string_view content) {
    if (auto ok = make_parent_dirs(path); !ok) return ok;
    // No fsync: the file describes the running jail only; atomic replacement is what matters.
    return write_file_atomically(path, content, {.mode = 0644, .durable = false});
}

}  // namespace jailctl::init
