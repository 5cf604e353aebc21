#include "cli/metrics.h"

#include <gtest/gtest.h>

namespace jailctl {
namespace {

JailStatus jail(const std::string& domain, JailState state) {
    JailStatus s;
    s.rec.domain = domain;
    s.rec.size_bytes = 128ull << 20;
    s.rec.memory_bytes = 256ull << 20;
    s.state = state;
    return s;
}

bool has_line(const std::string& text, const std::string& line) {
    return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

TEST(Metrics, RunningAndStoppedJailsAndTheJournal) {
    auto a = jail("a.example", JailState::Running);
    a.used_bytes = 4096;
    a.memory_used = 10485760;
    a.pids_used = 9;
    a.cpu_usec = 2500000;
    a.services = nlohmann::json::array({{{"name", "nginx"}, {"state", "running"}, {"restarts", 3}}});
    auto b = jail("b.example", JailState::Stopped);
    auto text = render_exposition(
        build_metrics({a, b}, {{"backup", "KO", 1764720000}, {"create", "OK", 1764720100}}));
    EXPECT_TRUE(has_line(text, "# HELP jailctl_jail_up Whether the jail runs (1) or not (0).")) << text;
    EXPECT_TRUE(has_line(text, "# TYPE jailctl_jail_up gauge"));
    EXPECT_TRUE(has_line(text, "jailctl_jail_up{domain=\"a.example\"} 1"));
    EXPECT_TRUE(has_line(text, "jailctl_jail_up{domain=\"b.example\"} 0"));
    EXPECT_TRUE(has_line(text, "jailctl_jail_disk_size_bytes{domain=\"b.example\"} 134217728"));
    EXPECT_TRUE(has_line(text, "jailctl_jail_disk_used_bytes{domain=\"a.example\"} 4096"));
    EXPECT_EQ(text.find("jailctl_jail_disk_used_bytes{domain=\"b.example\"}"),
              std::string::npos);  // not mounted
    EXPECT_TRUE(has_line(text, "jailctl_jail_memory_bytes{domain=\"a.example\"} 10485760"));
    EXPECT_TRUE(has_line(text, "jailctl_jail_memory_bytes{domain=\"b.example\"} 0"));
    EXPECT_TRUE(has_line(text, "# TYPE jailctl_jail_cpu_seconds_total counter"));
    EXPECT_TRUE(has_line(text, "jailctl_jail_cpu_seconds_total{domain=\"a.example\"} 2.5"));
    EXPECT_EQ(text.find("jailctl_jail_cpu_seconds_total{domain=\"b.example\"}"), std::string::npos);
    EXPECT_TRUE(has_line(text, "jailctl_jail_processes{domain=\"a.example\"} 9"));
    EXPECT_TRUE(
        has_line(text, "jailctl_jail_service_restarts_total{domain=\"a.example\",service=\"nginx\"} 3"));
    EXPECT_TRUE(has_line(text, "jailctl_jails{state=\"running\"} 1"));
    EXPECT_TRUE(has_line(text, "jailctl_jails{state=\"stopped\"} 1"));
    EXPECT_TRUE(has_line(text, "jailctl_jails{state=\"not_configured\"} 0"));
    EXPECT_TRUE(has_line(text, "jailctl_last_task_success{verb=\"backup\"} 0"));
    EXPECT_TRUE(has_line(text, "jailctl_last_task_success{verb=\"create\"} 1"));
    EXPECT_TRUE(has_line(text, "jailctl_last_task_timestamp_seconds{verb=\"create\"} 1764720100"));
}

TEST(Metrics, LabelValuesFromTheJailAreEscaped) {
    auto a = jail("a.example", JailState::Running);
    a.services = nlohmann::json::array({{{"name", "x\"y\\z\nw"}, {"state", "running"}, {"restarts", 1}}});
    auto text = render_exposition(build_metrics({a}, {}));
    EXPECT_TRUE(
        has_line(text, R"(jailctl_jail_service_restarts_total{domain="a.example",service="x\"y\\z\nw"} 1)"))
        << text;
}

TEST(Metrics, NoJailsStillDescribesEveryFamily) {
    auto families = build_metrics({}, {});
    auto text = render_exposition(families);
    EXPECT_TRUE(has_line(text, "# TYPE jailctl_jail_up gauge"));
    EXPECT_TRUE(has_line(text, "jailctl_jails{state=\"running\"} 0"));
    auto json = metrics_json(families);
    ASSERT_TRUE(json["metrics"].is_array());
    EXPECT_EQ(json["metrics"][0]["name"], "jailctl_jail_up");
    EXPECT_EQ(json["metrics"].size(), families.size());
}

}  // namespace
}  // namespace jailctl
