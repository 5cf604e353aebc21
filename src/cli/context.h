// What every verb shares: global options, the state layout, the registry, the
// per-jail lock, and how results are printed (text or --json).
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "jail/byte_size.h"
#include "jail/registry.h"
#include "services/acme.h"
#include "task/task.h"
#include "util/fd.h"
#include "util/result.h"

namespace jailctl {

struct GlobalOptions {
    std::string root = "/var/lib/jailctl";
    std::string log_dir;  // default: /var/log/jailctl, or <root>/log when --root is given
    std::string uplink;   // default: host.conf, else the default route's interface
    bool json = false;
    bool cluster = false;     // --cluster: the verb runs through the cluster (api/cluster_route.h)
    std::string cluster_host; // --host with --cluster create: where the new jail goes
};

// The on-disk layout (DESIGN.md "Storage layout").
struct Paths {
    std::string root, db, lxcpath, backups, locks, log_dir, host_conf;
    std::string jail_dir(const std::string& domain) const { return lxcpath + "/" + domain; }
    std::string image(const std::string& domain) const { return jail_dir(domain) + "/disk.img"; }
    std::string rootfs(const std::string& domain) const { return jail_dir(domain) + "/rootfs"; }
    std::string lxc_config(const std::string& domain) const { return jail_dir(domain) + "/config"; }
    std::string credentials(const std::string& domain) const { return jail_dir(domain) + "/credentials"; }
    std::string acme() const { return root + "/acme"; }  // uacme's state: account, keys, certificates
};

struct Context {
    GlobalOptions options;
    Paths paths;
    std::string init_path;  // jailctl-init next to this executable
    bool json_compact = false;  // several results: one JSON object per line
    Registry& registry() { return *registry_; }
    // Opens the registry and creates the state directories.
    Result<void> open();
    // Closes the registry (before forking workers; each opens its own).
    void close() { registry_.reset(); }

private:
    std::optional<Registry> registry_;
};

Paths make_paths(const GlobalOptions& options, bool root_given);
// The uplink named by --uplink, else "uplink = IF" in <root>/host.conf, else "" (default route).
std::string configured_uplink(const Context& ctx);
// The value of "key = value" in <root>/host.conf, "" when the key (or the file) is absent.
std::string host_conf_value(const Paths& paths, const std::string& key);
// host.conf's acme_directory, acme_email and acme_ca_bundle (ACME is off without a directory).
AcmeSettings configured_acme(const Paths& paths);
// A file the operator names for jailctl to write (--output, export's FILE): absolute, without
// control characters, in a directory that exists; else bad input naming `field`.
Result<std::string> output_file(const std::string& field, const std::string& given);
// configured_acme, checked (services/acme.h): a malformed setting is "host not ready" naming host.conf.
Result<AcmeSettings> checked_acme(const Paths& paths);

// Exclusive lock on one jail for the duration of a task: two jailctl commands on the
// same jail are serialised (the second waits).
Result<Fd> lock_jail(const Paths& paths, const std::string& domain);

// A task's outcome printed the same way by every verb: text or JSON, OK/KO, the
// last stderr line "KO: <step>: <cause>"; returns the exit status.
int report(const Context& ctx, const TaskOutcome& outcome, nlohmann::json fields,
           const std::vector<std::string>& text_lines, const std::string& log_path);
// A verb that ran no task (tokens, cluster membership): OK with its fields and lines.
int report_ok(const Context& ctx, nlohmann::json fields, const std::vector<std::string>& text_lines);
// A failure before any task ran (validation, lookup): KO with step "validate".
int report_error(const Context& ctx, const std::string& step, const Error& error);

nlohmann::json steps_json(const std::vector<StepRecord>& steps);

}  // namespace jailctl

namespace jailctl {

// Runs a task on one jail with its log file and journal: records the task in the
// registry, logs every external command with argv, exit status and duration, and
// the final OK/KO line.
TaskOutcome run_journaled(Context& ctx, TaskLog& log, const std::string& domain, const std::string& verb,
                          const std::vector<Step>& steps, const TaskOptions& options = {});
// Opens the task's log file; failing that, the task cannot run (KO before any change).
Result<TaskLog> open_task_log(const Context& ctx, const std::string& domain, const std::string& verb);

}  // namespace jailctl
