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

// Parses one non-empty, non-comment line's words into a ServiceSpec.
Result<ServiceSpec> parse_words(std::vector<std::string> words, int line) {
    if (words.size() < 3)
        return invalid_line("missing fields: expected <name> <stop-signal> <absolute program> [args...]");
    if (auto ok = check_name(words[0]); !ok) return std::unexpected(ok.error());
    auto signal = parse_stop_signal(words[1]);
    if (!signal) {
        return invalid_line("stop signal '" + words[1] + "' is not one of TERM QUIT INT HUP KILL USR1 USR2");
    }
    if (words[2].empty() || words[2][0] != '/')
        return invalid_line("program '" + words[2] + "' is not an absolute path");
    ServiceSpec spec;
    spec.name = std::move(words[0]);
    spec.stop_signal = *signal;
    spec.argv.assign(std::make_move_iterator(words.begin() + 2), std::make_move_iterator(words.end()));
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
