#include "cli/status_format.h"

#include "host/image.h"
#include "jail/byte_size.h"

namespace jailctl {
namespace {

char marker(JailState s) { return s == JailState::Running ? '*' : s == JailState::Stopped ? ' ' : '!'; }
const char* state_name(JailState s) {
    return s == JailState::Running ? "running" : s == JailState::Stopped ? "stopped" : "not-configured";
}

DiskUse disk_of(const JailStatus& j) { return {j.used_bytes, j.free_bytes}; }

}  // namespace

std::string status_text(const std::vector<JailStatus>& jails) {
    std::string out = "Jail status (*=running, !=not configured):\n";
    for (const auto& j : jails) {
        out += std::string(1, marker(j.state)) + j.rec.domain + " (" + j.rec.ip + ")";
        if (j.disk_known && disk_of(j).used_percent() >= kDiskFullPercent)
            out += "  disk " + std::to_string(disk_of(j).used_percent()) + "% full (" + human_bytes(j.free_bytes) +
                   " free)";
        out += "\n";
    }
    return out;
}

nlohmann::json status_json(const std::vector<JailStatus>& jails) {
    auto arr = nlohmann::json::array();
    for (const auto& j : jails) {
        arr.push_back({{"domain", j.rec.domain},
                       {"ip", j.rec.ip},
                       {"state", state_name(j.state)},
                       {"size_bytes", j.rec.size_bytes},
                       {"used_bytes", j.used_bytes},
                       {"free_bytes", j.disk_known ? nlohmann::json(j.free_bytes) : nlohmann::json(nullptr)},
                       {"used_percent", j.disk_known ? nlohmann::json(disk_of(j).used_percent()) : nlohmann::json(nullptr)},
                       {"ftp_user", j.rec.ftp_user},
                       {"profile", j.rec.profile},
                       {"created", j.rec.created},
                       {"reason", j.reason.empty() ? nlohmann::json(nullptr) : nlohmann::json(j.reason)},
                       {"limits",
                        {{"memory_bytes", j.rec.memory_bytes}, {"cpus", j.rec.millicpus / 1000.0}, {"pids", j.rec.pids}}},
                       {"usage", {{"memory_bytes", j.memory_used}, {"pids", j.pids_used}}},
                       {"services", j.services},
                       {"web", j.web.is_null() ? nlohmann::json{{"aliases", j.rec.aliases},
                                                               {"https_only", j.rec.https_only},
                                                               {"tls", j.rec.tls},
                                                               {"certificate", nullptr}}
                                               : j.web}});
    }
    return arr;
}

}  // namespace jailctl
