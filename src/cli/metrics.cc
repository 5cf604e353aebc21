// jailctl metrics [--output FILE]: see metrics.h.
#include "cli/metrics.h"

#include <sys/stat.h>

#include <charconv>
#include <iostream>
#include <memory>

#include "cli/jail_ops.h"
#include "cli/verbs.h"

namespace jailctl {
namespace {

// The exposition format escapes \ and newlines in HELP texts, and " too in label values.
std::string escape(const std::string& text, bool label_value) {
    std::string out;
    for (char c : text) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '"' && label_value)
            out += "\\\"";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

// Shortest text that reads back as the same double, never in exponent form.
std::string format_value(double v) {
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
    return ec == std::errc() ? std::string(buf, end) : "NaN";
}

const char* state_label(JailState s) {
    switch (s) {
        case JailState::Running:
            return "running";
        case JailState::Stopped:
            return "stopped";
        case JailState::NotConfigured:
            return "not_configured";
    }
    return "unknown";
}

}  // namespace

std::vector<MetricFamily> build_metrics(const std::vector<JailStatus>& jails,
                                        const std::vector<Registry::LastTask>& last_tasks) {
    MetricFamily up{"jailctl_jail_up", "gauge", "Whether the jail runs (1) or not (0).", {}};
    MetricFamily size{"jailctl_jail_disk_size_bytes", "gauge", "Size of the jail's disk image.", {}};
    MetricFamily used{"jailctl_jail_disk_used_bytes",
                      "gauge",
                      "Bytes used on the jail's filesystem (only while its disk is mounted).",
                      {}};
    MetricFamily memory{"jailctl_jail_memory_bytes",
                        "gauge",
                        "Memory the jail's processes use (cgroup), 0 when stopped.",
                        {}};
    MetricFamily memory_limit{"jailctl_jail_memory_limit_bytes", "gauge", "The jail's memory limit.", {}};
    MetricFamily cpu{"jailctl_jail_cpu_seconds_total",
                     "counter",
                     "CPU time the running jail used since it started (cgroup cpuacct.usage or cpu.stat).",
                     {}};
    MetricFamily procs{
        "jailctl_jail_processes", "gauge", "Processes and threads in the jail, 0 when stopped.", {}};
    MetricFamily restarts{"jailctl_jail_service_restarts_total",
                          "counter",
                          "Restarts of a service by the jail's init since the jail started.",
                          {}};
    MetricFamily states{"jailctl_jails", "gauge", "Jails on this host by state.", {}};
    MetricFamily task_ok{"jailctl_last_task_success",
                         "gauge",
                         "Whether the last finished task of this verb succeeded (1) or not (0).",
                         {}};
    MetricFamily task_time{"jailctl_last_task_timestamp_seconds",
                           "gauge",
                           "When the last task of this verb finished, in seconds since the epoch.",
                           {}};

    uint64_t count[3] = {0, 0, 0};
    for (const auto& j : jails) {
        const std::vector<std::pair<std::string, std::string>> domain = {{"domain", j.rec.domain}};
        bool running = j.state == JailState::Running;
        ++count[static_cast<int>(j.state)];
        up.samples.push_back({domain, running ? 1.0 : 0.0});
        size.samples.push_back({domain, static_cast<double>(j.rec.size_bytes)});
        if (j.used_bytes > 0) used.samples.push_back({domain, static_cast<double>(j.used_bytes)});
        memory.samples.push_back({domain, running ? static_cast<double>(j.memory_used) : 0.0});
        memory_limit.samples.push_back({domain, static_cast<double>(j.rec.memory_bytes)});
        if (running) cpu.samples.push_back({domain, static_cast<double>(j.cpu_usec) / 1e6});
        procs.samples.push_back({domain, running ? static_cast<double>(j.pids_used) : 0.0});
        if (running && j.services.is_array())
            for (const auto& s : j.services)
                restarts.samples.push_back({{{"domain", j.rec.domain}, {"service", s.value("name", "")}},
                                            static_cast<double>(s.value("restarts", uint64_t{0}))});
    }
    for (auto s : {JailState::Running, JailState::Stopped, JailState::NotConfigured})
        states.samples.push_back(
            {{{"state", state_label(s)}}, static_cast<double>(count[static_cast<int>(s)])});
    for (const auto& t : last_tasks) {
        task_ok.samples.push_back({{{"verb", t.verb}}, t.result == "OK" ? 1.0 : 0.0});
        task_time.samples.push_back({{{"verb", t.verb}}, static_cast<double>(t.finished)});
    }
    return {up, size, used, memory, memory_limit, cpu, procs, restarts, states, task_ok, task_time};
}

std::string render_exposition(const std::vector<MetricFamily>& families) {
    std::string out;
    for (const auto& f : families) {
        out += "# HELP " + f.name + " " + escape(f.help, false) + "\n";
        out += "# TYPE " + f.name + " " + f.type + "\n";
        for (const auto& s : f.samples) {
            out += f.name;
            if (!s.labels.empty()) {
                out += "{";
                for (size_t i = 0; i < s.labels.size(); ++i)
                    out +=
                        (i ? "," : "") + s.labels[i].first + "=\"" + escape(s.labels[i].second, true) + "\"";
                out += "}";
            }
            out += " " + format_value(s.value) + "\n";
        }
    }
    return out;
}

nlohmann::json metrics_json(const std::vector<MetricFamily>& families) {
    auto list = nlohmann::json::array();
    for (const auto& f : families) {
        auto samples = nlohmann::json::array();
        for (const auto& s : f.samples) {
            auto labels = nlohmann::json::object();
            for (const auto& [k, v] : s.labels) labels[k] = v;
            samples.push_back({{"labels", labels}, {"value", s.value}});
        }
        list.push_back({{"name", f.name}, {"type", f.type}, {"help", f.help}, {"samples", samples}});
    }
    return {{"metrics", list}};
}

Result<std::vector<MetricFamily>> collect_metrics(Context& ctx) {
    auto jails = inspect_jails(ctx, true);
    if (!jails) return std::unexpected(jails.error());
    auto tasks = ctx.registry().last_tasks();
    if (!tasks) return std::unexpected(tasks.error());
    return build_metrics(*jails, *tasks);
}

Result<std::string> metrics_text(Context& ctx) {
    auto families = collect_metrics(ctx);
    if (!families) return std::unexpected(families.error());
    return render_exposition(*families);
}

namespace {

int run_metrics(Context& ctx, std::string output) {
    if (!output.empty()) {
        auto checked = output_file("output", output);
        if (!checked) return report_error(ctx, "validate", checked.error());
        output = *checked;
        // Replaced whole by a rename: only a regular file (or nothing) may be there — never a
        // symlink, device or pipe (/dev/stdout, /dev/null would become files).
        struct stat st {};
        if (::lstat(output.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
            return report_error(ctx, "validate", Error{ErrorKind::BadInput, "output: " + output +
                                                                                " is not a regular file (metrics replace the file "
                                                                                "whole; without --output they go to stdout)"});
    }
    auto families = collect_metrics(ctx);
    if (!families) return report_error(ctx, "metrics", families.error());
    if (output.empty()) {
        if (ctx.options.json)
            std::cout << metrics_json(*families).dump(2) << std::endl;
        else
            std::cout << render_exposition(*families) << std::flush;
        return 0;
    }
    // node_exporter's textfile collector reads every *.prom of its directory: the file is
    // replaced whole (temp file + rename), world-readable like the collector expects.
    if (auto r = write_host_file(output, render_exposition(*families), 0644); !r)
        return report_error(ctx, "output", r.error());
    return report(ctx, TaskOutcome{.ok = true}, {{"output", output}}, {"output:    " + output}, "");
}

}  // namespace

void add_metrics(CLI::App& app, Context& ctx, Action& action) {
    auto output = std::make_shared<std::string>();
    auto* cmd = app.add_subcommand(
        "metrics", "Print the jails' and the host's metrics for Prometheus (text format 0.0.4)");
    cmd->add_option("--output", *output,
                    "Write them to this file atomically (node_exporter's textfile collector)");
    cmd->callback([&ctx, &action, output] { action = [&ctx, output] { return run_metrics(ctx, *output); }; });
}

}  // namespace jailctl
