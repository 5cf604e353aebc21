#include "host/procs.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

namespace jailctl {
namespace {

// reload_nginx reads old workers' titles while they exit: a gone process is "", never an
// exception (an ifstream over /proc/PID/cmdline threw from underflow with ESRCH).
TEST(Procs, TitleOfALiveAndAGoneProcess) {
    EXPECT_NE(process_title(::getpid()).find("unit_host"), std::string::npos);
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) ::_exit(0);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    EXPECT_EQ(process_title(child), "");
}

}  // namespace
}  // namespace jailctl
