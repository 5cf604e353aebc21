#include "util/atomic_file.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

namespace jailctl {
namespace {

namespace fs = std::filesystem;

class AtomicFile : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("atomic_file_test." + std::to_string(::getpid()));
        fs::remove_all(dir_);
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }

    std::string path(const std::string& name) const { return (dir_ / name).string(); }
    static std::string content_of(const std::string& p) {
        std::stringstream s;
        s << std::ifstream(p).rdbuf();
        return s.str();
    }
    // The names in the directory: a failed or finished write leaves no temporary file.
    std::vector<std::string> names() const {
        std::vector<std::string> out;
        for (auto& e : fs::directory_iterator(dir_)) out.push_back(e.path().filename().string());
        std::sort(out.begin(), out.end());
        return out;
    }
    static mode_t mode_of(const std::string& p) {
        struct stat st{};
        return ::stat(p.c_str(), &st) == 0 ? st.st_mode & 07777 : 0;
    }

    fs::path dir_;
};

TEST_F(AtomicFile, WritesAndReplaces) {
    ASSERT_TRUE(write_file_atomically(path("f"), "one\n").has_value());
    EXPECT_EQ(content_of(path("f")), "one\n");
    ASSERT_TRUE(write_file_atomically(path("f"), "two\n", {.durable = false}).has_value());
    EXPECT_EQ(content_of(path("f")), "two\n");
    ASSERT_TRUE(write_file_atomically(path("f"), "").has_value());
    EXPECT_EQ(content_of(path("f")), "");
    EXPECT_EQ(names(), std::vector<std::string>{"f"});
}

TEST_F(AtomicFile, ModeIsExactWhateverTheUmask) {
    mode_t old = ::umask(077);
    auto r1 = write_file_atomically(path("public"), "x", {.mode = 0644});
    auto r2 = write_file_atomically(path("private"), "x", {.mode = 0600});
    ::umask(old);
    ASSERT_TRUE(r1 && r2);
    EXPECT_EQ(mode_of(path("public")), 0644u);
    EXPECT_EQ(mode_of(path("private")), 0600u);
}

TEST_F(AtomicFile, MissingDirectoryFailsNamingThePath) {
    auto r = write_file_atomically(path("no/such/f"), "x");
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.error().message.find(path("no/such/f")), std::string::npos) << r.error().message;
}

TEST_F(AtomicFile, FailedRenameRemovesTheTemporaryFile) {
    fs::create_directories(path("d/inside"));  // a non-empty directory cannot be renamed over
    auto r = write_file_atomically(path("d"), "x");
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.error().message.find("rename"), std::string::npos) << r.error().message;
    EXPECT_EQ(names(), std::vector<std::string>{"d"});
    EXPECT_TRUE(fs::is_directory(path("d/inside")));
}

// A write that stops part-way (the file size limit: the kernel writes up to it, returns the
// short count, then EFBIG) fails the whole write: the old content stays, no temporary file
// is left. restore's credentials writer left its .tmp behind on a short write.
TEST_F(AtomicFile, ShortWriteKeepsTheOldFile) {
    ASSERT_TRUE(write_file_atomically(path("f"), "old\n").has_value());
    struct rlimit saved{};
    ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
    auto old_handler = ::signal(SIGXFSZ, SIG_IGN);
    struct rlimit small = saved;
    small.rlim_cur = 1000;
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
    auto r = write_file_atomically(path("f"), std::string(5000, 'n'));
    ::setrlimit(RLIMIT_FSIZE, &saved);
    ::signal(SIGXFSZ, old_handler);
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.error().message.find("File too large"), std::string::npos) << r.error().message;
    EXPECT_EQ(content_of(path("f")), "old\n");
    EXPECT_EQ(names(), std::vector<std::string>{"f"});
}

TEST(WriteAll, WritesEverythingThroughAPipe) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    std::string big(40000, 'p');  // more than a pipe holds: the reader drains it meanwhile
    std::string got;
    std::thread reader([&] {
        char buf[4096];
        for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) got.append(buf, static_cast<size_t>(n));
    });
    auto r = write_all(fds[1], big, "pipe");
    ::close(fds[1]);
    reader.join();
    ::close(fds[0]);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(got, big);
}

}  // namespace
}  // namespace jailctl
