#include "host/limits.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace jailctl
