// exec's user lookup in a jail's /etc/passwd (pure; src/cli/exec.cc, tests/unit/cli/exec_test.cc).
#pragma once

#include <sys/types.h>

#include <string>

#include "util/result.h"

namespace jailctl {

struct ExecUser {
    std::string name;
    uid_t uid = 0;
    gid_t gid = 0;
    std::string home = "/";
};
// The passwd entry of `user` (a name or a numeric uid) in the jail's /etc/passwd text.
Result<ExecUser> lookup_jail_user(const std::string& passwd, const std::string& user);

}  // namespace jailctl
