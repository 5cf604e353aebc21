#include "init/log_cap.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace jailctl::init {
namespace {

namespace fs = std::filesystem;

TEST(LogCap, ParsesTheList) {
    auto logs = parse_log_list("# comment\n\n/srv/site/logs/access.log 1048576 nginx USR1\n"
                               "/srv/site/logs/php-fpm.log 42 php-fpm USR1 # reopen\n",
                               "logs");
    ASSERT_TRUE(logs) << logs.error().message;
    ASSERT_EQ(logs->size(), 2u);
    EXPECT_EQ((*logs)[0].path, "/srv/site/logs/access.log");
    EXPECT_EQ((*logs)[0].cap_bytes, 1048576u);
    EXPECT_EQ((*logs)[0].service, "nginx");
    EXPECT_EQ((*logs)[0].signal, SIGUSR1);
    EXPECT_EQ((*logs)[1].cap_bytes, 42u);
}

TEST(LogCap, RefusesBadLinesNamingTheLine) {
    for (const char* bad : {"relative.log 10 nginx USR1", "/a.log 0 nginx USR1", "/a.log 1x nginx USR1",
                            "/a.log 10 nginx STOP", "/a.log 10 nginx", "/a.log 10 nginx USR1 extra"}) {
        auto r = parse_log_list(std::string("\n") + bad + "\n", "logs");
        ASSERT_FALSE(r) << bad;
        EXPECT_NE(r.error().message.find("logs:2"), std::string::npos) << r.error().message;
    }
}

TEST(LogCap, MissingListIsEmpty) {
    auto logs = load_log_list("/nonexistent/jailctl/logs");
    ASSERT_TRUE(logs);
    EXPECT_TRUE(logs->empty());
}

TEST(LogCap, RotatesOnlyLogsPastTheirCapKeepingTheMode) {
    const fs::path dir = fs::temp_directory_path() / ("jailctl-logcap-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const std::string big = (dir / "access.log").string(), small = (dir / "error.log").string();
    std::ofstream(big) << std::string(2000, 'a');
    std::ofstream(big + ".1") << "older";
    std::ofstream(small) << "short";
    ::chmod(big.c_str(), 0644);
    fs::create_symlink(big, dir / "link.log");
    std::vector<CappedLog> logs = {{big, 1000, "nginx", SIGUSR1},
                                   {small, 1000, "nginx", SIGUSR1},
                                   {(dir / "link.log").string(), 1, "other", SIGUSR1},
                                   {(dir / "absent.log").string(), 1, "php-fpm", SIGUSR1}};
    Rotation r = rotate_full_logs(logs);
    EXPECT_EQ(r.services, std::vector<std::string>{"nginx"});
    EXPECT_EQ(fs::file_size(big + ".1"), 2000u);  // the previous .1 is replaced
    EXPECT_EQ(fs::file_size(big), 0u);
    struct stat st{};
    ASSERT_EQ(::stat(big.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0644u);
    EXPECT_EQ(fs::file_size(small), 5u);
    EXPECT_FALSE(fs::exists(small + ".1"));
    EXPECT_TRUE(fs::is_symlink(dir / "link.log"));
    EXPECT_FALSE(fs::exists(dir / "link.log.1"));
    fs::remove_all(dir);
}

}  // namespace
}  // namespace jailctl::init
