#include "host/subid.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "util/fd.h"

namespace jailctl {
namespace {

struct SubidLine {
    std::string user;
    uint64_t start = 0, count = 0;
};

bool parse_line(const std::string& line, SubidLine& out) {
    auto a = line.find(':');
    auto b = line.find(':', a == std::string::npos ? a : a + 1);
    if (a == std::string::npos || b == std::string::npos) return false;
    try {
        out.user = line.substr(0, a);
        out.start = std::stoull(line.substr(a + 1, b - a - 1));
        out.count = std::stoull(line.substr(b + 1));
    } catch (...) {
        return false;
    }
    return true;
}

template <class F>
void for_each_line(const std::string& text, F&& f) {
    std::istringstream in(text);
    std::string line;
    SubidLine l;
    while (std::getline(in, line))
        if (parse_line(line, l)) f(l, line);
}

Result<std::string> read_all(const std::string& file) {
    std::ifstream in(file);
    if (!in) return errno == ENOENT ? Result<std::string>{""} : fail_errno("read " + file, errno);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

bool is_root(const std::string& user) { return user == "root" || user == "0"; }

}  // namespace

bool subid_range_covered(const std::string& text, const std::string& user, uint64_t start, uint64_t count) {
    bool covered = false;
    for_each_line(text, [&](const SubidLine& l, const std::string&) {
        bool same_user = l.user == user || (is_root(user) && is_root(l.user));
        if (same_user && l.start <= start && start + count <= l.start + l.count) covered = true;
    });
    return covered;
}

std::string subid_range_conflict(const std::string& text, const std::string& user, uint64_t start, uint64_t count) {
    std::string conflict;
    for_each_line(text, [&](const SubidLine& l, const std::string& line) {
        bool same_user = l.user == user || (is_root(user) && is_root(l.user));
        if (!same_user && l.start < start + count && start < l.start + l.count && conflict.empty()) conflict = line;
    });
    return conflict;
}

Result<bool> subid_declared(const std::string& file, uint64_t start, uint64_t count) {
    auto text = read_all(file);
    if (!text) return std::unexpected(text.error());
    return subid_range_covered(*text, "root", start, count);
}

Result<void> declare_subid_range(const std::string& file, uint64_t start, uint64_t count) {
    Fd fd(::open(file.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644));
    if (!fd.valid()) return fail_errno("open " + file, errno);
    if (::flock(fd.get(), LOCK_EX) != 0) return fail_errno("lock " + file, errno);
    auto text = read_all(file);
    if (!text) return std::unexpected(text.error());
    if (subid_range_covered(*text, "root", start, count)) return {};
    if (auto other = subid_range_conflict(*text, "root", start, count); !other.empty())
        return fail(ErrorKind::HostNotReady, file + ": jailctl's id block " + std::to_string(start) + "+" +
                                                 std::to_string(count) + " overlaps '" + other + "'");
    std::string line = (text->empty() || text->back() == '\n' ? "" : "\n") + std::string("root:") +
                       std::to_string(start) + ":" + std::to_string(count) + "\n";
    if (::write(fd.get(), line.data(), line.size()) != static_cast<ssize_t>(line.size()))
        return fail_errno("append to " + file, errno);
    return {};
}

}  // namespace jailctl
