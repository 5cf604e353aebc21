// One file per verb (src/cli/<verb>.cc): each adds its subcommand to the app and,
// when chosen, sets `action` to the function that runs it and returns the exit status.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <memory>
#include <utility>

#include "cli/context.h"
#include "cli/jail_ops.h"
#include "host/limits.h"
#include "jail/byte_size.h"

namespace jailctl {

using Action = std::function<int()>;

// Adds the subcommand `name`: its options fill one `Args`, and choosing it sets `action` to
// run(ctx, args). Returns the subcommand and its arguments, for the verb to declare its options.
template <class Args>
std::pair<CLI::App*, std::shared_ptr<Args>> add_command(CLI::App& app, Context& ctx, Action& action,
                                                        const std::string& name, const std::string& help,
                                                        std::function<int(Context&, const Args&)> run) {
    auto args = std::make_shared<Args>();
    auto* cmd = app.add_subcommand(name, help);
    cmd->callback([&ctx, &action, args, run] { action = [&ctx, args, run] { return run(ctx, *args); }; });
    return {cmd, args};
}

void add_create(CLI::App& app, Context& ctx, Action& action);
void add_status(CLI::App& app, Context& ctx, Action& action);
// What `status --json` prints for these jails (all when `filter` is empty); serve's GET /jails.
Result<nlohmann::json> status_objects(Context& ctx, const std::vector<std::string>& filter);
void add_start_stop(CLI::App& app, Context& ctx, Action& action);  // start, stop, restart
void add_test(CLI::App& app, Context& ctx, Action& action);
void add_passwd(CLI::App& app, Context& ctx, Action& action);
void add_destroy(CLI::App& app, Context& ctx, Action& action);
void add_host(CLI::App& app, Context& ctx, Action& action);  // host check, host prepare
// Day-2 operations (issue #3)
void add_fsck(CLI::App& app, Context& ctx, Action& action);         // fsck.cc
void add_grow(CLI::App& app, Context& ctx, Action& action);         // grow.cc
void add_clone(CLI::App& app, Context& ctx, Action& action);        // clone.cc
void add_exec(CLI::App& app, Context& ctx, Action& action);         // exec.cc: exec, console
void add_import_site(CLI::App& app, Context& ctx, Action& action);  // import_site.cc
void add_backup(CLI::App& app, Context& ctx, Action& action);       // backup.cc: backup, backups, export
void add_restore(CLI::App& app, Context& ctx, Action& action);      // restore.cc: restore, import
// Isolation and resilience (issue #4)
void add_set(CLI::App& app, Context& ctx, Action& action);          // set.cc
void add_alias(CLI::App& app, Context& ctx, Action& action);        // alias.cc
void add_repair(CLI::App& app, Context& ctx, Action& action);       // repair.cc
// The operator's first week (issue #14)
void add_credentials(CLI::App& app, Context& ctx, Action& action);  // credentials.cc
void add_metrics(CLI::App& app, Context& ctx, Action& action);      // metrics.cc
// HTTPS (issue #12)
void add_renew(CLI::App& app, Context& ctx, Action& action);        // renew.cc

// The options every verb that makes a new jail from the operator's inputs shares
// (create, import-site).
struct NewJailArgs {
    std::string domain, ip, size, ftp_tls = "required";
    std::string memory = "256M", cpus = "1", pids = "512";
    std::string profile = "static";
    bool sparse = false, keep_on_failure = false;
    AddressOptions address;
    std::string tls_cert, tls_key;  // the customer's own site certificate (files), else self-signed
};
// Adds the options of NewJailArgs (the DOMAIN argument, --ip, --size, --sparse, --ftp-tls, --memory,
// --cpus, --pids, --profile, --keep-on-failure, --routed, --force-ip).
void add_new_jail_options(CLI::App* cmd, NewJailArgs& args);
// Adds --routed and --force-ip to a verb that puts a new address on the customer network.
void add_address_options(CLI::App* cmd, AddressOptions& options);
// Checks everything about a new jail without changing anything (inputs, then the
// uplink, the registry, free space) and fills the plan: identity, limits, password,
// certificate. `check_size`, when given, runs right after the inputs are parsed.
Result<void> validate_new_jail(Context& ctx, const NewJailArgs& args, JailPlan& plan,
                               const std::function<Result<void>(const ByteSize&)>& check_size = {});

// A new jail's FTP password (its hash in plan.spec) and certificates, for the plan's domain, IP,
// FTP user and TLS policy (create, import-site, clone): FTPS's self-signed one, and the site's
// unless plan.spec already holds one (--tls-cert), self-signed.
Result<void> give_new_identity(JailPlan& plan);
// --memory/--cpus/--pids of create and set, validated together.
// The OK report of a new jail (create, clone, import-site): identity and FTP account.
void report_new_jail(const JailPlan& plan, nlohmann::json& fields, std::vector<std::string>& text);
Result<Limits> parse_limits(const std::string& memory, const std::string& cpus, const std::string& pids);

// An interrupted task (its process died) left this jail for repair to reconcile.
// What the verbs that own scratch files know how to finish or undo, for repair (grow.cc,
// restore.cc, backup.cc).
std::vector<Step> finish_interrupted_grow(JailSteps& jail, bool restart);
std::vector<Step> undo_interrupted_replace(JailSteps& jail, bool restart);
Result<int> remove_archive_leftovers(const Paths& paths, const std::string& domain);

bool needs_repair(Context& ctx, const JailRecord& rec);
// An unfinished task whose process is gone (killed, crashed): repair finishes or undoes it.
bool task_interrupted(const Registry::OpenTask& t);
// Reconciles one jail (the caller holds its lock); quiet: print nothing when it succeeds.
int repair_jail(Context& ctx, const JailRecord& rec, bool quiet);

// Looks up a registered jail by the domain the operator typed (normalised like create),
// repairing it first when an interrupted task left it inconsistent.
Result<JailRecord> find_jail(Context& ctx, const std::string& domain_input);

// A registered jail held for one task: its record as read once the lock was held.
struct LockedJail {
    JailRecord rec;
    Fd lock;  // released when this goes
};
// Why a jail could not be locked, for report_error: step "validate" or "lock".
struct LockRefusal {
    std::string step;
    Error error;
    bool found = false;  // the lookup found the jail; the lock or the read under it failed
};
// The prologue of every task on one existing jail: find_jail, its lock (a second command on
// the jail waits), then its record read again under the lock (another command may have
// changed or destroyed it meanwhile).
// Every verb but destroy also needs the jail's disk image (DiskNeed::Required): a missing one is
// refused before anything runs, with what to do (require_disk).
enum class DiskNeed { Required, Optional };
std::expected<LockedJail, LockRefusal> locked_jail(Context& ctx, const std::string& domain_input,
                                                   DiskNeed disk = DiskNeed::Required);
// The jail's disk image is where the registry says (a Conflict naming it and what to do, when an
// operator moved or deleted it outside jailctl).
Result<void> require_disk(const Context& ctx, const JailRecord& rec);
int report_error(const Context& ctx, const LockRefusal& refusal);

}  // namespace jailctl
