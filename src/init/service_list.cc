#include "init/service_list.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <csignal>
#include <utility>

#include "util/fd.h"

namespace jailctl::init {
namespace {

struct SignalName {
    std::string_view name;
    int signal;
};
constexpr std::array<SignalName, 7> kStopSignals{{
    {"TERM", SIGTERM},
    {"QUIT", SIGQUIT},
    {"INT", SIGINT},
    {"HUP", SIGHUP},
    {"KILL", SIGKILL},
    {"USR1", SIGUSR1},
    {"USR2", SIGUSR2},
}};

std::unexpected<Error> invalid_line(std::string reason) {
    return fail(ErrorKind::BadInput, std::move(reason));
}

bool is_blank(char c) { return c == ' ' || c == '\t'; }

bool is_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("._@:+-").find(c) != std::string_view::npos;
}

Result<void> check_name(std::string_view name) {
    if (name.size() > kMaxNameBytes)
        return invalid_line("service name longer than " + std::to_string(kMaxNameBytes) + " characters");
    if (!std::all_of(name.begin(), name.end(), is_name_char))
        return invalid_line("service name '" + std::string(name) +
                            "': allowed characters are A-Z a-z 0-9 . _ @ : + -");
    return {};
}

// A decimal number in [min, max], or nullopt.
std::optional<int64_t> parse_number(std::string_view text, int base, int64_t min, int64_t max) {
    if (text.empty() || text.size() > 12) return std::nullopt;
    int64_t value = 0;
    for (char c : text) {
        const int digit = c >= '0' && c <= '9' ? c - '0' : 99;
        if (digit >= base) return std::nullopt;
        value = value * base + digit;
    }
    if (value < min || value > max) return std::nullopt;
    return value;
}

// One --name=value word of the options between the stop signal and the program.
Result<void> parse_option(std::string_view word, std::optional<SocketSpec>& socket,
                          std::vector<std::string>& seen) {
    const auto eq = word.find('=');
    const std::string name(word.substr(0, eq));
    const std::string_view value = eq == std::string_view::npos ? std::string_view() : word.substr(eq + 1);
    if (eq == std::string_view::npos || value.empty())
        return invalid_line("option '" + std::string(word) + "' needs a value (" + name + "=...)");
    if (std::find(seen.begin(), seen.end(), name) != seen.end()) return invalid_line("option " + name + " given twice");
    seen.push_back(name);
    if (!socket) socket.emplace();
    if (name == "--socket") {
        if (value[0] != '/' || value.size() > 107)
            return invalid_line("--socket '" + std::string(value) + "' is not an absolute path of at most 107 bytes");
        socket->path = value;
    } else if (name == "--socket-name") {
        if (value.size() > 255 || value.find_first_of(",=:") != std::string_view::npos)
            return invalid_line("--socket-name '" + std::string(value) + "' must be at most 255 bytes without , = or :");
        socket->name = value;
    } else if (name == "--socket-mode") {
        auto mode = parse_number(value, 8, 0, 0777);
        if (!mode) return invalid_line("--socket-mode '" + std::string(value) + "' is not octal permission bits (e.g. 0660)");
        socket->mode = static_cast<unsigned>(*mode);
    } else if (name == "--socket-owner") {
        const auto colon = value.find(':');
        auto uid = parse_number(value.substr(0, colon), 10, 0, 0xfffffffe);
        auto gid = colon == std::string_view::npos ? std::nullopt : parse_number(value.substr(colon + 1), 10, 0, 0xfffffffe);
        if (!uid || !gid) return invalid_line("--socket-owner '" + std::string(value) + "' is not numeric UID:GID");
        socket->uid = static_cast<unsigned>(*uid);
        socket->gid = static_cast<unsigned>(*gid);
    } else if (name == "--idle-stop") {
        auto seconds = parse_number(value, 10, 1, 86400);
        if (!seconds) return invalid_line("--idle-stop '" + std::string(value) + "' is not a number of seconds from 1 to 86400");
        socket->idle_stop_ms = *seconds * 1000;
    } else {
        return invalid_line("unknown option " + name + " (known: --socket --socket-name --socket-mode --socket-owner --idle-stop)");
    }
    return {};
}

// Parses one non-empty, non-comment line's words into a ServiceSpec.
Result<ServiceSpec> parse_words(std::vector<std::string> words, int line) {
    if (words.size() < 3)
        return invalid_line("missing fields: expected <name> <stop-signal> <absolute program> [args...]");
    if (auto ok = check_name(words[0]); !ok) return std::unexpected(ok.error());
    auto signal = parse_stop_signal(words[1]);
    if (!signal) {
        return invalid_line("stop signal '" + words[1] + "' is not one of TERM QUIT INT HUP KILL USR1 USR2");
    }
    ServiceSpec spec;
    std::size_t program = 2;
    std::vector<std::string> seen;
    for (; program < words.size() && words[program].starts_with("--"); ++program)
        if (auto ok = parse_option(words[program], spec.socket, seen); !ok) return std::unexpected(ok.error());
    if (spec.socket && spec.socket->path.empty())
        return invalid_line("--socket-name, --socket-mode, --socket-owner and --idle-stop need --socket=PATH");
    if (program >= words.size()) return invalid_line("missing the program after the options");
    if (words[program].empty() || words[program][0] != '/')
        return invalid_line("program '" + words[program] + "' is not an absolute path");
    spec.name = std::move(words[0]);
    spec.stop_signal = *signal;
    spec.argv.assign(std::make_move_iterator(words.begin() + static_cast<long>(program)), std::make_move_iterator(words.end()));
    spec.line = line;
    return spec;
}

Result<void> check_characters(std::string_view line) {
    if (line.size() > kMaxLineBytes)
        return invalid_line("line longer than " + std::to_string(kMaxLineBytes) + " bytes");
    for (char c : line) {
        auto u = static_cast<unsigned char>(c);
        if ((u < 0x20 && c != '\t') || u == 0x7f) return invalid_line("control character in line");
    }
    return {};
}

}  // namespace

namespace {

// nullopt for a blank or comment line.
Result<std::optional<ServiceSpec>> parse_line(std::string_view line, int line_no) {
    if (auto ok = check_characters(line); !ok) return std::unexpected(ok.error());
    auto words = split_words(line);
    if (!words) return std::unexpected(words.error());
    if (words->empty()) return std::nullopt;
    auto spec = parse_words(std::move(*words), line_no);
    if (!spec) return std::unexpected(spec.error());
    return std::optional(std::move(*spec));
}

}  // namespace

std::optional<int> parse_stop_signal(std::string_view name) {
    for (const auto& s : kStopSignals)
        if (s.name == name) return s.signal;
    return std::nullopt;
}

std::string_view stop_signal_name(int signal) {
    for (const auto& s : kStopSignals)
        if (s.signal == signal) return s.name;
    return "?";
}

Result<std::vector<std::string>> split_words(std::string_view line) {
    std::vector<std::string> words;
    std::string word;
    bool in_word = false;  // true once a word has started, even if it is '' (empty)
    for (std::size_t i = 0; i < line.size(); ++i) {
        char c = line[i];
        if (is_blank(c)) {
            if (in_word) words.push_back(std::exchange(word, {}));
            in_word = false;
        } else if (c == '#' && !in_word) {
            break;
        } else if (c == '\'') {
            auto end = line.find('\'', i + 1);
            if (end == std::string_view::npos) return invalid_line("unterminated ' quote");
            word.append(line.substr(i + 1, end - i - 1));
            in_word = true;
            i = end;
        } else if (c == '"') {
            in_word = true;
            for (++i;; ++i) {
                if (i >= line.size()) return invalid_line("unterminated \" quote");
                if (line[i] == '"') break;
                if (line[i] == '\\' && i + 1 < line.size() && (line[i + 1] == '"' || line[i + 1] == '\\'))
                    ++i;
                word.push_back(line[i]);
            }
        } else if (c == '\\') {
            if (i + 1 >= line.size()) return invalid_line("backslash at the end of the line");
            word.push_back(line[++i]);
            in_word = true;
        } else {
            word.push_back(c);
            in_word = true;
        }
    }
    if (in_word) words.push_back(std::move(word));
    return words;
}

Result<std::vector<ServiceSpec>> parse_service_list(std::string_view text, std::string_view source) {
    if (text.size() > kMaxFileBytes) {
        return fail_input(std::string(source), "larger than " + std::to_string(kMaxFileBytes) + " bytes");
    }
    std::vector<ServiceSpec> specs;
    int line_no = 0;
    while (!text.empty()) {
        ++line_no;
        auto eol = text.find('\n');
        std::string_view line = text.substr(0, eol);
        text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);

        auto where = std::string(source) + ":" + std::to_string(line_no);
        auto spec = parse_line(line, line_no);
        if (!spec) return std::unexpected(spec.error().context(where));
        if (!*spec) continue;
        for (const auto& other : specs) {
            if (other.name == (*spec)->name) {
                return fail_input(where, "duplicate service name '" + other.name + "' (first on line " +
                                             std::to_string(other.line) + ")");
            }
        }
        specs.push_back(std::move(**spec));
    }
    return specs;
}

Result<std::vector<ServiceSpec>> load_service_list(const std::string& path) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
    if (!fd.valid()) return fail_errno("open service list " + path, errno);
    std::string text;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail_errno("read service list " + path, errno);
        if (n == 0) break;
        text.append(buf, static_cast<std::size_t>(n));
        if (text.size() > kMaxFileBytes) break;  // parse_service_list reports it
    }
    return parse_service_list(text, path);
}

}  // namespace jailctl::init
