#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "host/lxc.h"
#include "host/network.h"
#include "host/subid.h"

namespace jailctl {
namespace {

std::multimap<std::string, std::string> parse(const std::string& config) {
    std::multimap<std::string, std::string> kv;
    std::istringstream in(config);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        auto eq = line.find(" = ");
        EXPECT_NE(eq, std::string::npos) << line;
        kv.emplace(line.substr(0, eq), line.substr(eq + 3));
    }
    return kv;
}

TEST(LxcConfig, RendersTheJail) {
    LxcSpec spec{"example.com", "/var/lib/jailctl/jails", "/var/lib/jailctl/jails/example.com/rootfs",
                 1073807360,    "203.0.113.10",           "jc2",
                 "eth0",        "/usr/local/lib/jailctl/jailctl-init"};
    auto kv = parse(render_lxc_config(spec));
    EXPECT_EQ(kv.find("lxc.uts.name")->second, "example.com");
    EXPECT_EQ(kv.find("lxc.rootfs.path")->second, "dir:/var/lib/jailctl/jails/example.com/rootfs");
    EXPECT_EQ(kv.count("lxc.idmap"), 2u);
    EXPECT_EQ(kv.find("lxc.idmap")->second, "u 0 1073807360 65536");
    EXPECT_EQ(kv.find("lxc.init.cmd")->second, "/init");
    EXPECT_EQ(kv.find("lxc.net.0.veth.mode")->second, "router");
    EXPECT_EQ(kv.find("lxc.net.0.veth.pair")->second, "jc2");
    EXPECT_EQ(kv.find("lxc.net.0.link")->second, "eth0");
    EXPECT_EQ(kv.find("lxc.net.0.l2proxy")->second, "1");
    EXPECT_EQ(kv.find("lxc.net.0.ipv4.address")->second, "203.0.113.10/32");
    EXPECT_EQ(kv.find("lxc.net.0.ipv4.gateway")->second, "169.254.0.1");
    bool usr_ro = false, init_ro = false;
    for (auto [it, end] = kv.equal_range("lxc.mount.entry"); it != end; ++it) {
        usr_ro |= it->second == "/usr usr none bind,ro,nosuid,nodev 0 0";
        init_ro |= it->second == "/usr/local/lib/jailctl/jailctl-init init none bind,ro,nosuid,nodev 0 0";
    }
    EXPECT_TRUE(usr_ro);
    EXPECT_TRUE(init_ro);
}

TEST(LxcConfig, HostnameFitsHostNameMax) {
    EXPECT_EQ(jail_hostname("example.com"), "example.com");
    std::string long_name = std::string(60, 'a') + ".b-c.example";
    EXPECT_LE(jail_hostname(long_name).size(), 63u);
    EXPECT_NE(jail_hostname(long_name).back(), '.');
}

TEST(Network, VethNameFitsIfnamsiz) {
    EXPECT_EQ(veth_name(7), "jc7");
    EXPECT_LE(veth_name(32768).size(), 15u);
}

// uplink_of (cli/jail_ops.cc) reads back the uplink a running jail was started with.
TEST(LxcConfig, UplinkReadBack) {
    LxcSpec spec{"example.com", "/l", "/l/example.com/rootfs", 1073807360, "203.0.113.10", "jc2", "uplink0", "/init"};
    const std::string path = ::testing::TempDir() + "/lxc_config_uplink_test.conf";
    {
        std::ofstream(path) << render_lxc_config(spec);
    }
    EXPECT_EQ(lxc_config_uplink(path), "uplink0");
    std::remove(path.c_str());
    EXPECT_EQ(lxc_config_uplink(path), "");  // no config: no uplink
}

TEST(Subid, CoverageAndConflicts) {
    std::string text = "alice:100000:65536\nroot:1073741824:2147483648\n";
    EXPECT_TRUE(subid_range_covered(text, "root", 1073741824, 65536));
    EXPECT_TRUE(subid_range_covered(text, "root", 1073741824, 2147483648));
    EXPECT_FALSE(subid_range_covered(text, "root", 1073741824, 2147483649u));
    EXPECT_FALSE(subid_range_covered(text, "root", 100000, 65536));
    EXPECT_TRUE(subid_range_covered("0:10:20\n", "root", 10, 20));
    EXPECT_EQ(subid_range_conflict(text, "root", 100000, 10), "alice:100000:65536");
    EXPECT_EQ(subid_range_conflict(text, "root", 1073741824, 10), "");
    EXPECT_FALSE(subid_range_covered("garbage\nroot:x:y\n", "root", 1, 1));
}

}  // namespace
}  // namespace jailctl
