#include "init/log_cap.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "init/service_list.h"

namespace jailctl::init {

Result<std::vector<CappedLog>> parse_log_list(std::string_view text, std::string_view source) {
    std::vector<CappedLog> logs;
    int line_no = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t end = text.find('\n', pos);
        if (end == std::string_view::npos) end = text.size();
        std::string_view line = text.substr(pos, end - pos);
        pos = end + 1;
        ++line_no;
        auto where = [&](const std::string& why) {
            return fail_input(std::string(source) + ":" + std::to_string(line_no), why);
        };
        auto words = split_words(line);
        if (!words) return where(words.error().message);
        if (words->empty()) continue;
        if (words->size() != 4) return where("expected <path> <cap-bytes> <service> <signal>");
        const auto& w = *words;
        if (w[0].empty() || w[0][0] != '/') return where("'" + w[0] + "' is not an absolute path");
        if (w[1].empty() || w[1].size() > 15 || w[1].find_first_not_of("0123456789") != std::string::npos ||
            std::stoull(w[1]) == 0)
            return where("'" + w[1] + "' is not a size in bytes");
        auto sig = parse_stop_signal(w[3]);
        if (!sig) return where("'" + w[3] + "' is not a signal name (TERM QUIT INT HUP KILL USR1 USR2)");
        logs.push_back({w[0], std::stoull(w[1]), w[2], *sig});
    }
    return logs;
}

Result<std::vector<CappedLog>> load_log_list(const std::string& path) {
    std::ifstream in(path);
    if (!in) {
        if (errno == ENOENT) return std::vector<CappedLog>{};
        return fail_errno("open " + path, errno);
    }
    std::ostringstream text;
    text << in.rdbuf();
    return parse_log_list(text.str(), path);
}

Rotation rotate_full_logs(const std::vector<CappedLog>& logs) {
    Rotation r;
    for (const auto& log : logs) {
        struct stat st{};
        if (::lstat(log.path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
        if (static_cast<uint64_t>(st.st_size) <= log.cap_bytes) continue;
        const std::string old = log.path + ".1";
        if (::rename(log.path.c_str(), old.c_str()) != 0) {
            r.messages.push_back("rotate " + log.path + ": " + std::strerror(errno));
            continue;
        }
        // The writer still appends to the renamed file until it reopens: the new one must exist
        // with the old one's owner and mode (php-fpm would create it 0600, unreadable to the customer).
        int fd = ::open(log.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, st.st_mode & 07777);
        if (fd < 0) {
            r.messages.push_back("create " + log.path + ": " + std::strerror(errno));
        } else {
            if (::fchown(fd, st.st_uid, st.st_gid) != 0 || ::fchmod(fd, st.st_mode & 07777) != 0)
                r.messages.push_back("owner of " + log.path + ": " + std::strerror(errno));
            ::close(fd);
        }
        r.messages.push_back(log.path + ": " + std::to_string(st.st_size) + " bytes > cap " +
                             std::to_string(log.cap_bytes) + ": rotated to " + old);
        if (std::find(r.services.begin(), r.services.end(), log.service) == r.services.end())
            r.services.push_back(log.service);
    }
    return r;
}

}  // namespace jailctl::init
