// jailctl metrics: the jails and the host in the Prometheus text exposition format 0.0.4,
// for node_exporter's textfile collector (contrib/jailctl-metrics.timer) and for the
// /metrics endpoint of `jailctl serve` (call metrics_text).
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <utility>
#include <vector>

#include "cli/context.h"
#include "cli/status_format.h"
#include "jail/registry.h"

namespace jailctl {

struct MetricSample {
    std::vector<std::pair<std::string, std::string>> labels;
    double value = 0;
};
struct MetricFamily {
    std::string name, type, help;  // type: "gauge" | "counter"
    std::vector<MetricSample> samples;
};

// The families from what status sees and the task journal (pure; unit-tested).
std::vector<MetricFamily> build_metrics(const std::vector<JailStatus>& jails,
                                        const std::vector<Registry::LastTask>& last_tasks);
// "# HELP", "# TYPE" and one line per sample, label values escaped (pure; unit-tested).
std::string render_exposition(const std::vector<MetricFamily>& families);
// The same as JSON: {"metrics": [{"name", "type", "help", "samples": [{"labels": {}, "value"}]}]}.
nlohmann::json metrics_json(const std::vector<MetricFamily>& families);

// Everything above gathered now: what `jailctl metrics` prints and `serve` answers at /metrics.
Result<std::vector<MetricFamily>> collect_metrics(Context& ctx);
Result<std::string> metrics_text(Context& ctx);

// The content type of render_exposition's text, for an HTTP answer.
inline constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace jailctl
