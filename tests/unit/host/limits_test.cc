#include "host/limits.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

namespace jailctl {
namespace {

TEST(Limits, CgroupV1Settings) {
    Limits l{128ull << 20, 500, 100};
    auto s = cgroup_settings(l, CgroupLayout::V1);
    std::map<std::string, std::string> m(s.begin(), s.end());
    EXPECT_EQ(m["memory.limit_in_bytes"], "134217728");
    EXPECT_EQ(m["cpu.cfs_period_us"], "100000");
    EXPECT_EQ(m["cpu.cfs_quota_us"], "50000");
    EXPECT_EQ(m["pids.max"], "100");
    EXPECT_EQ(render_limits_config(l, CgroupLayout::V1).find("lxc.cgroup.memory.limit_in_bytes = 134217728\n"), 0u);
}

TEST(Limits, CgroupV2Settings) {
    Limits l{1ull << 30, 2000, 4096};
    auto s = cgroup_settings(l, CgroupLayout::V2);
    std::map<std::string, std::string> m(s.begin(), s.end());
    EXPECT_EQ(m["memory.max"], "1073741824");
    EXPECT_EQ(m["cpu.max"], "200000 100000");
    EXPECT_EQ(m["pids.max"], "4096");
    EXPECT_EQ(m.count("memory.limit_in_bytes"), 0u);
    std::string config = render_limits_config(l, CgroupLayout::V2);
    EXPECT_NE(config.find("lxc.cgroup2.cpu.max = 200000 100000\n"), std::string::npos);
    EXPECT_EQ(config.find("lxc.cgroup."), std::string::npos);
}

TEST(Limits, ParseCpus) {
    EXPECT_EQ(*parse_cpus("1"), 1000u);
    EXPECT_EQ(*parse_cpus("0.5"), 500u);
    EXPECT_EQ(*parse_cpus("2.25"), 2250u);
    for (const char* bad : {"", "abc", "-1", "0", "0.001", "1.", ".5", "1.2.3", "1e3", "2000", " 1", "99999999999999"}) {
        auto r = parse_cpus(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().kind, ErrorKind::BadInput);
        EXPECT_EQ(r.error().message.rfind("cpus:", 0), 0u) << bad;
    }
    EXPECT_EQ(format_cpus(500), "0.5");
    EXPECT_EQ(format_cpus(1000), "1");
    EXPECT_EQ(format_cpus(2250), "2.25");
}

// PayloadCgroups over a fake cgroup tree (the layout LXC leaves at the hierarchy roots).
class PayloadCgroupsTest : public ::testing::Test {
protected:
    std::filesystem::path root = std::filesystem::temp_directory_path() /
                                 ("jailctl-cg-" + std::to_string(::getpid()) + "-" +
                                  ::testing::UnitTest::GetInstance()->current_test_info()->name());
    void SetUp() override { std::filesystem::create_directories(root); }
    void TearDown() override { std::filesystem::remove_all(root); }
    void write(const std::filesystem::path& rel, const std::string& text) {
        std::filesystem::create_directories((root / rel).parent_path());
        std::ofstream(root / rel) << text << "\n";
    }
};

TEST_F(PayloadCgroupsTest, V1RunningStoppedAndUnknown) {
    write("pids/lxc.payload.a.example.net/pids.current", "4");
    write("memory/lxc.payload.a.example.net/memory.usage_in_bytes", "5242880");
    write("cpuacct/lxc.payload.a.example.net/cpuacct.usage", "1500000000");
    write("pids/lxc.payload.empty.example.net/pids.current", "0");   // starting or stopping
    write("pids/lxc.payload.moved.example.net-1/pids.current", "3");  // LXC's "-N" pick
    write("pids/lxc.monitor.b.example.net/pids.current", "1");        // a monitor is not a payload
    PayloadCgroups cg(CgroupLayout::V1, root.string());
    using V = PayloadCgroups::Verdict;
    auto a = cg.state_of("a.example.net");
    EXPECT_EQ(a.verdict, V::Running);
    EXPECT_EQ(a.usage.pids, 4u);
    EXPECT_EQ(a.usage.memory_bytes, 5242880u);
    EXPECT_EQ(a.usage.cpu_usec, 1500000u);  // cpuacct.usage is in nanoseconds
    EXPECT_EQ(cg.state_of("b.example.net").verdict, V::Stopped);
    EXPECT_EQ(cg.state_of("empty.example.net").verdict, V::Unknown);
    EXPECT_EQ(cg.state_of("moved.example.net").verdict, V::Unknown);
    EXPECT_EQ(cg.state_of("example.net").verdict, V::Stopped);  // a prefix of other names, not a jail
}

TEST_F(PayloadCgroupsTest, V2ReadsTheUnifiedFiles) {
    write("lxc.payload.a.example.net/pids.current", "7");
    write("lxc.payload.a.example.net/memory.current", "1048576");
    write("lxc.payload.a.example.net/cpu.stat", "usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\n");
    PayloadCgroups cg(CgroupLayout::V2, root.string());
    auto a = cg.state_of("a.example.net");
    EXPECT_EQ(a.usage.cpu_usec, 2500000u);
    EXPECT_EQ(a.verdict, PayloadCgroups::Verdict::Running);
    EXPECT_EQ(a.usage.pids, 7u);
    EXPECT_EQ(a.usage.memory_bytes, 1048576u);
    // no pids hierarchy to read: nothing is concluded (status asks LXC)
    EXPECT_EQ(PayloadCgroups(CgroupLayout::V2, (root / "absent").string()).state_of("a.example.net").verdict,
              PayloadCgroups::Verdict::Unknown);
}

TEST(CpuStat, UsageUsecWhereverItIs) {
    EXPECT_EQ(parse_cpu_stat_usec("usage_usec 123\nuser_usec 100\n"), 123u);
    EXPECT_EQ(parse_cpu_stat_usec("user_usec 100\nusage_usec 77"), 77u);
    EXPECT_EQ(parse_cpu_stat_usec("user_usec 100\n"), 0u);
    EXPECT_EQ(parse_cpu_stat_usec("usage_usec x\n"), 0u);
    EXPECT_EQ(parse_cpu_stat_usec(""), 0u);
}

TEST(Limits, MeminfoTotal) {
    EXPECT_EQ(parse_meminfo_total("MemTotal:       24576000 kB\nMemFree:  1 kB\n"), 24576000ull << 10);
    EXPECT_EQ(parse_meminfo_total("MemFree: 5 kB\nMemTotal: 2048 kB\n"), 2048ull << 10);
    EXPECT_EQ(parse_meminfo_total("MemTotal: 2048 kB"), 2048ull << 10);  // no final newline
    EXPECT_EQ(parse_meminfo_total("MemFree: 5 kB\n"), 0u);
    EXPECT_EQ(parse_meminfo_total("MemTotal: x kB\n"), 0u);
    EXPECT_EQ(parse_meminfo_total("MemTotal: 2048 MB\n"), 0u);
    EXPECT_EQ(parse_meminfo_total("MemTotal: 99999999999999999999 kB\n"), 0u);
    EXPECT_EQ(parse_meminfo_total(""), 0u);
}

TEST(Limits, HostCapacityIsThisMachine) {
    HostCapacity host = host_capacity();
    EXPECT_GT(host.memory_bytes, 64ull << 20);
    EXPECT_GE(host.cpus, 1u);
    EXPECT_LE(host.cpus, static_cast<uint32_t>(::sysconf(_SC_NPROCESSORS_CONF)));
}

TEST(Limits, FitsHost) {
    const HostCapacity host{8ull << 30, 2};
    EXPECT_TRUE(check_fits_host({8ull << 30, 2000, 512}, host));
    auto mem = check_fits_host({1ull << 40, 1000, 512}, host);
    ASSERT_FALSE(mem);
    EXPECT_EQ(mem.error().kind, ErrorKind::BadInput);
    EXPECT_EQ(mem.error().message, "memory: 1 TiB is more than this host's 8 GiB of memory (MemTotal)");
    auto cpus = check_fits_host({1ull << 30, 2010, 512}, host);
    ASSERT_FALSE(cpus);
    EXPECT_EQ(cpus.error().message, "cpus: 2.01 is more than this host's 2 online CPUs");
    EXPECT_TRUE(check_fits_host({1ull << 40, 64000, 512}, HostCapacity{}));  // unknown: not checked
}

}  // namespace
}  // namespace jailctl
