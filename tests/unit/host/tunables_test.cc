#include "host/tunables.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "fixture.h"

namespace jailctl {
namespace {

namespace fs = std::filesystem;
using namespace jailctl::test;

// A fake /proc/sys in a temp dir.
class Tunables : public TempDirTest {
protected:
    Tunables() : TempDirTest("/tmp/jailctl-tunables-") {}

    void put(const std::string& name, const std::string& content) {
        std::string path = sysctl_path(name, dir_);
        fs::create_directories(fs::path(path).parent_path());
        std::ofstream(path) << content;
    }
    std::string get(const std::string& name) { return read_file(sysctl_path(name, dir_)); }
};

TEST_F(Tunables, PathFromName) {
    EXPECT_EQ(sysctl_path("net.ipv4.neigh.default.gc_thresh3", "/x"), "/x/net/ipv4/neigh/default/gc_thresh3");
    EXPECT_EQ(sysctl_path("kernel.pid_max"), "/proc/sys/kernel/pid_max");
}

TEST_F(Tunables, TableIsSane) {
    auto table = jail_scale_tunables();
    ASSERT_FALSE(table.empty());
    for (const auto& t : table) {
        EXPECT_GT(t.minimum, 0u) << t.name;
        EXPECT_NE(std::string(t.why), "") << t.name;
    }
    // gc thresholds must stay ordered, or the soft cap would sit above the hard one
    uint64_t g1 = 0, g2 = 0, g3 = 0;
    for (const auto& t : table) {
        std::string n = t.name;
        if (n.ends_with("gc_thresh1")) g1 = t.minimum;
        if (n.ends_with("gc_thresh2")) g2 = t.minimum;
        if (n.ends_with("gc_thresh3")) g3 = t.minimum;
    }
    EXPECT_LE(g1, g2);
    EXPECT_LE(g2, g3);
    EXPECT_GE(g3, 2000u + 1000u);  // 2 entries per jail at 1000 jails, plus headroom
}

TEST_F(Tunables, ReadsValues) {
    put("kernel.pid_max", "32768\n");
    auto v = read_tunable("kernel.pid_max", dir_);
    ASSERT_TRUE(v) << v.error().message;
    ASSERT_TRUE(*v);
    EXPECT_EQ(**v, 32768u);
}

TEST_F(Tunables, AbsentFileIsNotAnError) {
    auto v = read_tunable("net.ipv4.neigh.default.gc_thresh1", dir_);
    ASSERT_TRUE(v) << v.error().message;
    EXPECT_FALSE(*v);
}

TEST_F(Tunables, MalformedValuesNameTheSysctl) {
    for (const char* bad : {"", "\n", "abc\n", "-1\n", "12 34\n", "1x\n", "99999999999999999999999\n"}) {
        put("fs.inotify.max_user_instances", bad);
        auto v = read_tunable("fs.inotify.max_user_instances", dir_);
        ASSERT_FALSE(v) << "'" << bad << "' was accepted";
        EXPECT_NE(v.error().message.find("read fs.inotify.max_user_instances"), std::string::npos)
            << v.error().message;
        EXPECT_NE(v.error().message.find("not one unsigned number"), std::string::npos) << v.error().message;
    }
}

TEST_F(Tunables, UnreadableFileNamesTheSysctl) {
    // a directory where the value should be: read() fails with EISDIR, even for root
    fs::create_directories(sysctl_path("kernel.pid_max", dir_));
    auto v = read_tunable("kernel.pid_max", dir_);
    ASSERT_FALSE(v);
    EXPECT_NE(v.error().message.find("read kernel.pid_max"), std::string::npos) << v.error().message;
    auto r = raise_tunable("kernel.pid_max", 4194304, dir_);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("raise kernel.pid_max"), std::string::npos) << r.error().message;
}

TEST_F(Tunables, RaisesALowValue) {
    put("kernel.pid_max", "32768\n");
    auto r = raise_tunable("kernel.pid_max", 4194304, dir_);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(*r, 4194304u);
    EXPECT_EQ(get("kernel.pid_max"), "4194304\n");
}

TEST_F(Tunables, NeverLowersAHigherValue) {
    put("net.ipv4.neigh.default.gc_thresh3", "100000\n");
    auto r = raise_tunable("net.ipv4.neigh.default.gc_thresh3", 8192, dir_);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(*r, 100000u);
    EXPECT_EQ(get("net.ipv4.neigh.default.gc_thresh3"), "100000\n");
    put("kernel.pid_max", "4194304\n");  // equal: left alone too
    ASSERT_TRUE(raise_tunable("kernel.pid_max", 4194304, dir_));
    EXPECT_EQ(get("kernel.pid_max"), "4194304\n");
}

TEST_F(Tunables, RaisingAnAbsentFileFails) {
    auto r = raise_tunable("net.ipv4.neigh.default.gc_thresh1", 2048, dir_);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("raise net.ipv4.neigh.default.gc_thresh1 to 2048"), std::string::npos)
        << r.error().message;
    EXPECT_FALSE(fs::exists(sysctl_path("net.ipv4.neigh.default.gc_thresh1", dir_)));
}

TEST_F(Tunables, InspectClassifies) {
    Tunable t{"kernel.pid_max", 4096, "why", nullptr};
    put("kernel.pid_max", "4095\n");
    EXPECT_EQ(inspect_tunable(t, dir_)->state, TunableState::Low);
    put("kernel.pid_max", "4096\n");
    EXPECT_EQ(inspect_tunable(t, dir_)->state, TunableState::Ok);
    EXPECT_EQ(inspect_tunable(t, dir_)->current, 4096u);
    fs::remove(sysctl_path("kernel.pid_max", dir_));
    EXPECT_EQ(inspect_tunable(t, dir_)->state, TunableState::Absent);
    put("kernel.pid_max", "junk\n");
    EXPECT_FALSE(inspect_tunable(t, dir_));
}

TEST_F(Tunables, DropInKeepsHigherValuesAndMinimumsForAbsent) {
    Tunable low{"kernel.pid_max", 4194304, "pids", nullptr};
    Tunable high{"net.ipv4.neigh.default.gc_thresh3", 8192, "arp", "only in the initial netns"};
    Tunable absent{"net.ipv4.neigh.default.gc_thresh1", 2048, "arp1", "only in the initial netns"};
    std::string text = render_sysctl_dropin({{&low, TunableState::Low, 32768},
                                             {&high, TunableState::Ok, 100000},
                                             {&absent, TunableState::Absent, 0}});
    EXPECT_NE(text.find("\nkernel.pid_max = 4194304\n"), std::string::npos) << text;
    EXPECT_NE(text.find("\nnet.ipv4.neigh.default.gc_thresh3 = 100000\n"), std::string::npos) << text;
    EXPECT_NE(text.find("\nnet.ipv4.neigh.default.gc_thresh1 = 2048\n"), std::string::npos) << text;
    EXPECT_NE(text.find("# pids\n"), std::string::npos) << text;
    EXPECT_NE(text.find("not visible when prepared: only in the initial netns"), std::string::npos) << text;
}

TEST_F(Tunables, WritesTheDropInAtomicallyAndIdempotently) {
    fs::create_directories(dir_ + "/etc");
    std::string path = dir_ + "/etc/sysctl.d/90-jailctl.conf";  // sysctl.d does not exist yet
    ASSERT_TRUE(write_sysctl_dropin(path, "kernel.pid_max = 4194304\n"));
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    EXPECT_EQ(ss.str(), "kernel.pid_max = 4194304\n");
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0644u);
    ino_t inode = st.st_ino;
    ASSERT_TRUE(write_sysctl_dropin(path, "kernel.pid_max = 4194304\n"));  // same text: untouched
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_ino, inode);
    ASSERT_TRUE(write_sysctl_dropin(path, "kernel.pid_max = 5000000\n"));
    std::ifstream again(path);
    std::stringstream s2;
    s2 << again.rdbuf();
    EXPECT_EQ(s2.str(), "kernel.pid_max = 5000000\n");
    // no temp files left beside it
    int files = 0;
    for (auto& e : fs::directory_iterator(dir_ + "/etc/sysctl.d")) files += e.is_regular_file();
    EXPECT_EQ(files, 1);
}

TEST_F(Tunables, DropInErrorsNameTheFile) {
    std::string path = dir_ + "/file/90-jailctl.conf";
    std::ofstream(dir_ + "/file") << "x";  // a file where the directory should be
    auto r = write_sysctl_dropin(path, "a = 1\n");
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("write sysctl drop-in " + path), std::string::npos) << r.error().message;
}

TEST_F(Tunables, DropInShortfalls) {
    std::string path = dir_ + "/90-jailctl.conf";
    auto none = dropin_shortfalls(path);  // no file: every tunable is short
    ASSERT_TRUE(none) << none.error().message;
    EXPECT_EQ(none->size(), jail_scale_tunables().size());

    std::string text = "# comment\n";
    for (const auto& t : jail_scale_tunables())
        text += std::string(t.name) + " = " + std::to_string(t.minimum) + "\n";
    std::ofstream(path) << text;
    auto all = dropin_shortfalls(path);
    ASSERT_TRUE(all) << all.error().message;
    EXPECT_TRUE(all->empty());

    // a later, lower line wins (as at boot) and makes that tunable short
    std::ofstream(path) << text << "kernel.pid_max=1000\n";
    auto low = dropin_shortfalls(path);
    ASSERT_TRUE(low);
    ASSERT_EQ(low->size(), 1u);
    EXPECT_EQ((*low)[0], "kernel.pid_max");
}

}  // namespace
}  // namespace jailctl
