#include "jail/ftp_user.h"

#include <algorithm>
#include <iterator>

namespace jailctl {
namespace {

// Debian base-passwd users and groups, plus the accounts of the services and tools that may
// exist in a jail whose /usr is the host's. A user named like a group would also clash with
// useradd's user-private group.
// clang-format off
constexpr std::string_view kSystemNames[] = {
    // base-passwd users
    "root", "daemon", "bin", "sys", "sync", "games", "man", "lp", "mail", "news", "uucp", "proxy",
    "www-data", "backup", "list", "irc", "gnats", "nobody", "_apt",
    // base-passwd groups
    "nogroup", "adm", "tty", "disk", "kmem", "dialout", "fax", "voice", "cdrom", "floppy", "tape",
    "sudo", "audio", "dip", "operator", "src", "shadow", "utmp", "video", "sasl", "plugdev",
    "staff", "users", "input", "render", "sgx", "kvm", "netdev",
    // services and daemons that may own files in a jail
    "ftp", "nginx", "vsftpd", "sshd", "messagebus", "systemd-network", "systemd-resolve",
    "systemd-timesync", "systemd-journal",
};
// clang-format on

constexpr std::string_view kReservedSuffix = "-ftp";

}  // namespace

bool is_reserved_system_name(std::string_view name) {
    return std::find(std::begin(kSystemNames), std::end(kSystemNames), name) != std::end(kSystemNames);
}

std::string ftp_user_variant(const std::string& base, int n) {
    if (n <= 1) return base;
    const std::string suffix = "-" + std::to_string(n);
    std::string name = base.substr(0, kMaxFtpUserLength - suffix.size());
    while (!name.empty() && name.back() == '-') name.pop_back();
    return name + suffix;
}

std::string derive_ftp_user(const Domain& domain) {
    std::string name;
    std::string_view rest = domain.str();
    while (!rest.empty()) {
        size_t dot = rest.find('.');
        std::string_view label = rest.substr(0, dot);
        if (label.starts_with("xn--")) {
            name += "xn";
            label.remove_prefix(4);
        }
        for (char c : label)  // Domain guarantees a-z 0-9 '-'; filter anyway so the regex holds
            if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-') name += c;
        rest = dot == std::string_view::npos ? std::string_view() : rest.substr(dot + 1);
    }
    if (name.empty() || !(name[0] >= 'a' && name[0] <= 'z')) name = "u" + name;  // not insert(0, ...): GCC 12 -Wrestrict false positive
    if (name.size() > kMaxFtpUserLength) name.resize(kMaxFtpUserLength);
    while (name.back() == '-') name.pop_back();  // never empty: name[0] is a letter
    if (is_reserved_system_name(name)) {
        name.resize(std::min(name.size(), kMaxFtpUserLength - kReservedSuffix.size()));
        name += kReservedSuffix;
    }
    return name;
}

}  // namespace jailctl
