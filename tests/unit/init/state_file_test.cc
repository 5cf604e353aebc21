#include "init/state_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "init/init_loop.h"

namespace jailctl::init {
namespace {

TEST(StateFile, JsonStringEscapes) {
    EXPECT_EQ(json_string("nginx"), R"("nginx")");
    EXPECT_EQ(json_string(""), R"("")");
    EXPECT_EQ(json_string(R"(a"b\c)"), R"("a\"b\\c")");
    EXPECT_EQ(json_string("l1\nl2\r\t\b\f"), R"("l1\nl2\r\t\b\f")");
    EXPECT_EQ(json_string(std::string("\x01\x1f\x7f", 3)), R"("\u0001\u001f\u007f")");
    EXPECT_EQ(json_string(std::string("nul\0x", 5)), R"("nul\u0000x")");
    EXPECT_EQ(json_string("caf\xc3\xa9 </script>"), "\"caf\xc3\xa9 </script>\"");  // UTF-8 passes through
}

TEST(StateFile, RenderState) {
    Supervisor sup({{"nginx", SIGQUIT, {"/usr/sbin/nginx"}, 1}, {"we\"ird\\", SIGTERM, {"/bin/x"}, 2}});
    EXPECT_EQ(render_state(sup.services()),
              R"({"services":[{"name":"nginx","pid":0,"state":"backoff","restarts":0,"started":0},)"
              R"({"name":"we\"ird\\","pid":0,"state":"backoff","restarts":0,"started":0}]})"
              "\n");
    sup.on_started(0, 12, {.mono_ms = 5, .unix_s = 1767225600});
    sup.on_exit(12, 10);
    sup.on_started(0, 13, {.mono_ms = 200, .unix_s = 1767225601});
    sup.begin_stop(300, 1000);
    EXPECT_EQ(render_state(sup.services()),
              R"({"services":[{"name":"nginx","pid":13,"state":"running","restarts":1,"started":1767225601},)"
              R"({"name":"we\"ird\\","pid":0,"state":"stopped","restarts":0,"started":0}]})"
              "\n");
    EXPECT_EQ(render_state({}), "{\"services\":[]}\n");
}

TEST(StateFile, WriteAtomicallyCreatesDirectories) {
    auto dir = std::filesystem::temp_directory_path() / ("init_state_test." + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    auto path = (dir / "run/jailctl/init.json").string();
    ASSERT_TRUE(write_state_file(path, "one\n").has_value());
    ASSERT_TRUE(write_state_file(path, "two\n").has_value());
    std::stringstream content;
    content << std::ifstream(path).rdbuf();
    EXPECT_EQ(content.str(), "two\n");
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0644u);
    // Nothing beside it: no temporary file left behind.
    auto entries = std::distance(std::filesystem::directory_iterator(dir / "run/jailctl"), {});
    EXPECT_EQ(entries, 1);
    ASSERT_EQ(::stat((dir / "run/jailctl").c_str(), &st), 0);
    EXPECT_TRUE(S_ISDIR(st.st_mode));

    auto blocked = write_state_file((dir / "run/jailctl/init.json/x").string(), "x");
    ASSERT_FALSE(blocked.has_value());
    EXPECT_NE(blocked.error().message.find("init.json"), std::string::npos) << blocked.error().message;
    std::filesystem::remove_all(dir);
}

TEST(Options, Defaults) {
    const char* argv[] = {"jailctl-init", nullptr};
    auto o = parse_options(1, argv, nullptr, nullptr);
    ASSERT_TRUE(o.has_value());
    EXPECT_EQ(o->services_path, "/etc/jailctl/services");
    EXPECT_EQ(o->state_path, "/run/jailctl/init.json");
    EXPECT_EQ(o->grace_ms, 5000);
}

TEST(Options, Overrides) {
    const char* argv[] = {"jailctl-init", "/tmp/services", nullptr};
    auto o = parse_options(2, argv, "/tmp/state.json", "250");
    ASSERT_TRUE(o.has_value());
    EXPECT_EQ(o->services_path, "/tmp/services");
    EXPECT_EQ(o->state_path, "/tmp/state.json");
    EXPECT_EQ(o->grace_ms, 250);
    const char* too_many[] = {"jailctl-init", "a", "b", nullptr};
    EXPECT_FALSE(parse_options(3, too_many, nullptr, nullptr).has_value());
    EXPECT_FALSE(parse_options(1, argv, "", nullptr).has_value());
}

TEST(Options, GraceMs) {
    EXPECT_EQ(parse_grace_ms("0"), 0);
    EXPECT_EQ(parse_grace_ms("600000"), 600000);
    for (const char* bad : {"", "-1", "1.5", "5s", " 5", "600001", "99999999999"}) {
        auto r = parse_grace_ms(bad);
        ASSERT_FALSE(r.has_value()) << bad;
        EXPECT_EQ(r.error().message.rfind("JAILCTL_INIT_GRACE_MS: ", 0), 0u) << r.error().message;
    }
}

}  // namespace
}  // namespace jailctl::init
