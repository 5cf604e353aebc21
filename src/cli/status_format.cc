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

// web_json when status read it, else what the registry knows (a stopped jail: no certificate).
nlohmann::json web_of(const JailStatus& j) {
    if (!j.web.is_null()) return j.web;
    return {{"aliases", j.rec.aliases}, {"https_only", j.rec.https_only}, {"tls", j.rec.tls}, {"certificate", nullptr}};
}

}  // namespace

std::vector<std::string> web_text(const nlohmann::json& web) {
    std::string aliases;
    for (const auto& a : web.value("aliases", nlohmann::json::array()))
        aliases += (aliases.empty() ? "" : " ") + a.get<std::string>();
    std::vector<std::string> lines = {
        "aliases:   " + (aliases.empty() ? std::string("-") : aliases),
        "https:     " + web.value("tls", std::string("self-signed")) +
            (web.value("https_only", false) ? ", https-only" : ", http too")};
    if (const auto cert = web.find("certificate"); cert != web.end() && cert->is_object())
        lines.push_back("site cert: until " + cert->value("not_after", std::string("?")) + ", sha256 " +
                        cert->value("fingerprint", std::string("?")) +
                        (cert->value("self_signed", false) ? ", self-signed" : ""));
    return lines;
}

namespace {

std::string text_listing(const std::vector<JailStatus>& jails, bool detail) {
    std::string out = "Jail status (*=running, !=not configured):\n";
    for (const auto& j : jails) {
        out += std::string(1, marker(j.state)) + j.rec.domain + " (" + j.rec.ip + ")";
        if (j.disk_known && disk_of(j).used_percent() >= kDiskFullPercent)
            out += "  disk " + std::to_string(disk_of(j).used_percent()) + "% full (" + human_bytes(j.free_bytes) +
                   " free)";
        out += "\n";
        if (!detail || j.state == JailState::NotConfigured) continue;
        out += "  profile:   " + j.rec.profile + "\n";
        for (const auto& line : web_text(web_of(j))) out += "  " + line + "\n";
    }
    return out;
}

}  // namespace

std::string status_text(const std::vector<JailStatus>& jails) { return text_listing(jails, false); }
std::string status_detail_text(const std::vector<JailStatus>& jails) { return text_listing(jails, true); }

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
                       {"autostart", j.rec.autostart},
                       {"created", j.rec.created},
                       {"reason", j.reason.empty() ? nlohmann::json(nullptr) : nlohmann::json(j.reason)},
                       {"limits",
                        {{"memory_bytes", j.rec.memory_bytes}, {"cpus", j.rec.millicpus / 1000.0}, {"pids", j.rec.pids}}},
                       {"usage", {{"memory_bytes", j.memory_used}, {"pids", j.pids_used}}},
                       {"services", j.services},
                       {"web", web_of(j)}});
    }
    return arr;
}

}  // namespace jailctl
