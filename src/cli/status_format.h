// Formatting of `jailctl status` (pure; unit-tested).
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "jail/registry.h"

namespace jailctl {

enum class JailState { Running, Stopped, NotConfigured };

struct JailStatus {
    JailRecord rec;
    JailState state = JailState::Stopped;
    uint64_t used_bytes = 0;  // 0 when the disk is not mounted
    std::string reason;       // why NotConfigured
    uint64_t memory_used = 0, pids_used = 0;  // from the jail's cgroups, when running
    nlohmann::json services = nlohmann::json::array();  // jailctl-init's view, when running
};

// "Jail status (*=running, !=not configured):" then "*example.com (203.0.113.10)" per jail.
std::string status_text(const std::vector<JailStatus>& jails);
nlohmann::json status_json(const std::vector<JailStatus>& jails);

}  // namespace jailctl
