// Formatting of `jailctl status` (pure; unit-tested).
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "cli/context.h"
#include "jail/registry.h"

namespace jailctl {

enum class JailState { Running, Stopped, NotConfigured };

struct JailStatus {
    JailRecord rec;
    JailState state = JailState::Stopped;
    uint64_t used_bytes = 0;  // 0 when the disk is not mounted
    uint64_t free_bytes = 0;  // what the customer may still write; 0 when not mounted
    bool disk_known = false;  // the disk is mounted: used/free were measured
    std::string reason;       // why NotConfigured
    uint64_t memory_used = 0, pids_used = 0;  // from the jail's cgroups, when running
    uint64_t cpu_usec = 0;                    // CPU time since start, when running
    nlohmann::json services = nlohmann::json::array();  // jailctl-init's view, when running
    nlohmann::json web;  // web_json (cli/web_ops.h): aliases, https_only, tls, certificate
};

// "Jail status (*=running, !=not configured):" then "*example.com (203.0.113.10)" per jail,
// with "  disk 95% full (1.2 MiB free)" appended when the disk is at least 90 % full.
std::string status_text(const std::vector<JailStatus>& jails);
// `status DOMAIN...`: the same listing, each jail followed by what it serves, indented:
// "  profile:   php", then web_text's lines.
std::string status_detail_text(const std::vector<JailStatus>& jails);
// The web side (web_json of cli/web_ops.h) as text: "aliases:   a b" ("-" for none),
// "https:     custom, https-only" (or ", http too"), and, when the certificate was read,
// "site cert: until <notAfter>, sha256 <fingerprint>" (", self-signed" when it is).
std::vector<std::string> web_text(const nlohmann::json& web);
nlohmann::json status_json(const std::vector<JailStatus>& jails);

// What status sees of every registered jail (status.cc), sorted by domain; `detail`: usage,
// services and disk use too (what --json shows and metrics exports).
Result<std::vector<JailStatus>> inspect_jails(Context& ctx, bool detail);

}  // namespace jailctl
