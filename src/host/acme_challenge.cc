#include "host/acme_challenge.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "host/jail_fs.h"
#include "services/acme.h"
#include "services/jail_spec.h"

namespace jailctl {
namespace {

namespace fs = std::filesystem;

constexpr const char* kRootfsEnv = "JAILCTL_ACME_ROOTFS";
constexpr const char* kIdBaseEnv = "JAILCTL_ACME_ID_BASE";

// A token is base64url (RFC 8555 8.1): nothing that could name another file.
bool valid_token(std::string_view token) {
    if (token.empty() || token.size() > 256) return false;
    for (char c : token)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) return false;
    return true;
}

// The challenge directory of a jail made before ACME existed: created on first use.
Result<void> ensure_challenge_dir(int root_fd, uint32_t id_base) {
    fs::path dir(kAcmeChallengeDir);
    auto parent = open_jail_dir(root_fd, dir.parent_path().string());
    if (!parent) return std::unexpected(parent.error());
    std::string name = dir.filename().string();
    if (::mkdirat(parent->get(), name.c_str(), 0755) != 0) {
        if (errno == EEXIST) return {};
        return fail_errno("create /" + dir.string() + " in the jail", errno);
    }
    if (::fchownat(parent->get(), name.c_str(), id_base + kRootUid, id_base + kRootUid, AT_SYMLINK_NOFOLLOW) != 0)
        return fail_errno("chown /" + dir.string() + " in the jail", errno);
    return {};
}

}  // namespace

bool is_acme_hook_call(int argc) { return argc == 6 && std::getenv(kRootfsEnv) != nullptr; }

int acme_exec_main(int argc, char** argv) {
    // jailctl __acme-exec TRUST ROOTFS ID_BASE PROGRAM ARGS...
    if (argc < 6) {
        std::cerr << "jailctl " << kAcmeExecVerb << ": internal use only\n";
        return 127;
    }
    ::setenv(kRootfsEnv, argv[3], 1);
    ::setenv(kIdBaseEnv, argv[4], 1);
    if (std::string_view(argv[2]) != "-") {
        if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
            ::mount(argv[2], "/etc/ssl/certs", nullptr, MS_BIND, nullptr) != 0) {
            std::cerr << "jailctl: trust " << argv[2] << " for the ACME client: " << std::strerror(errno) << "\n";
            return 127;
        }
    }
    ::execvp(argv[5], argv + 5);
    std::cerr << "jailctl: run " << argv[5] << ": " << std::strerror(errno) << " (apt-get install uacme)\n";
    return 127;
}

int acme_hook_main(int argc, char** argv) {
    // uacme: HOOK METHOD TYPE IDENT TOKEN AUTH; a non-zero exit declines the challenge type.
    std::string_view method = argv[1], type = argv[2], token = argv[4];
    if (argc != 6 || type != "http-01") return 1;
    if (!valid_token(token)) {
        std::cerr << "jailctl: ACME token '" << token << "' is not base64url\n";
        return 1;
    }
    const char* id_env = std::getenv(kIdBaseEnv);
    uint32_t id_base = id_env ? static_cast<uint32_t>(std::strtoul(id_env, nullptr, 10)) : 0;
    auto root = open_jail_root(std::getenv(kRootfsEnv));
    std::string path = std::string(kAcmeChallengeDir) + "/" + std::string(token);
    Result<void> r = root ? Result<void>{} : std::unexpected(root.error());
    if (r && method == "begin") {
        r = ensure_challenge_dir(root->get(), id_base);
        if (r) r = write_jail_file(root->get(), path, argv[5], 0644, kRootUid, kRootUid, id_base);
    } else if (r && (method == "done" || method == "failed")) {
        r = remove_jail_file(root->get(), path);
    } else if (r) {
        r = fail("unknown hook method '" + std::string(method) + "'");
    }
    if (!r) {
        std::cerr << "jailctl: ACME challenge " << path << ": " << r.error().message << "\n";
        return 1;
    }
    return 0;
}

}  // namespace jailctl
