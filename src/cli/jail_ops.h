// The named steps every jail task is built from, each with its undo beside it.
// A verb (create.cc, start_stop.cc, destroy.cc ...) lists the steps it needs.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <future>
#include <optional>
#include <string>
#include <vector>

#include "cli/context.h"
#include "host/network.h"
#include "jail/ipv4.h"
#include "services/certificate.h"
#include "services/jail_tree.h"
#include "task/task.h"

namespace jailctl {

// Everything the steps of one task know about their jail.
// A duplicate address check's outcome, with the warnings it would have added to a plan.
struct AddressVerdict {
    Result<void> result;
    std::vector<std::string> warnings;
};

struct JailPlan {
    JailRecord rec;
    std::string uplink;  // resolved interface name
    // Known only while creating or changing credentials:
    std::string password;
    std::string fingerprint;
    bool made_jail_dir = false;   // create_disk made <jail dir>: only then may its undo remove it
    bool foreign_veth = false;    // start_jail found its interface name taken: never remove it
    std::vector<std::string> warnings;  // validation's warnings: logged, reported (text and --json)
    size_t warnings_logged = 0;         // how many of them log_warnings wrote
    // A new or stopped jail's duplicate address check, running while the jail is made or started;
    // start_jail takes the verdict before it announces the address (a conflict undoes the task).
    std::shared_future<AddressVerdict> address_check;
    bool config_existed = false;  // write_lxc_config found a config (start): its undo keeps it
    // `/` serves jailctl's placeholder naming the domain (create; a clone or restore of a site
    // that still had it): the test looks for the domain. Else the customer's site answers `/`
    // as it likes (test_jail's "").
    bool own_page = true;
    JailSpec spec;
};

// Makes the named steps of one task on one jail (each with its undo), all working on `plan`,
// which validation or a registry lookup (plan_for) filled.
struct JailSteps {
    Context& ctx;
    JailPlan& plan;
    const Paths& paths() const { return ctx.paths; }
    const std::string& domain() const { return plan.rec.domain; }

    Step register_jail();        // registry row + id range; undo: remove the row
    Step prepare_host();         // forwarding on, root's subordinate ids declared
    Step create_disk();          // jail dir + image + ext4; undo: remove them
    Step mount_disk();           // loop + mount nosuid,nodev; undo: unmount (autoclear detaches)
    Step populate();             // etc skeleton, users, document root, merged-usr links
    Step configure_www();        // nginx.conf, mime types, index page
    Step configure_ftp();        // vsftpd.conf, PAM, certificate, the FTP account's hash
    Step write_lxc_config();     // <jail dir>/config; undo: remove it
    Step start_jail();           // lxc start, gateway address, wait for HTTP; undo: stop + network cleanup
    // mount, host-prepare, lxc-config, start: a stopped and unmounted jail running again.
    std::vector<Step> start_from_disk();
    // Starts the jail again unless it runs (mount, config, start): the undo of a maintenance stop.
    Result<void> start_if_stopped();
    Step save_credentials();     // <jail dir>/credentials 0600; undo: remove it
    Step test_from_outside();    // HTTP + FTPS login/upload/read/delete
    Step mark_ready();           // registry state "ready"
    Step fsck_preen();           // e2fsck -p of the stopped jail's image
    Step stop_jail(int timeout_s = 10);  // graceful stop, then kill
    Step cleanup_network();      // proxy ARP entry, route, host veth
    // Stops the jail (timeout_s, then kill) and cleans its network even when the stop failed:
    // start_jail's undo, and its refusal of a neighbour's address. The first error.
    Result<void> stop_and_cleanup(int timeout_s);
    Step unmount_disk();         // unmount; the loop device detaches itself
    Step remove_files();         // the jail dir (image, config, credentials)
    Step unregister();           // registry row
};

// A task that stops a running jail and starts it again (fsck --restart, grow's fallback), and
// the downtime it caused: from the stop's beginning until the services answer again.
struct Restart {
    std::chrono::steady_clock::time_point down_since{}, up_again{};
    // The stop, whose undo starts the jail again: a step that fails later must not leave the site down.
    Step stop(JailSteps& jail);
    // JailSteps::start_from_disk, whose start ends the downtime.
    std::vector<Step> start(JailSteps& jail);
    // "downtime: 1.234 s" in the log, the text and the JSON ("downtime_ms"), once the task passed.
    void report_downtime(TaskLog& log, nlohmann::json& fields, std::vector<std::string>& text) const;
};

// --routed and --force-ip of every verb that puts a new address on the customer network.
struct AddressOptions {
    bool routed = false;    // accept an address outside the uplink's subnet (with a warning)
    bool force_ip = false;  // take the address even though a neighbour answers for it
};
// The configured uplink, checked for the new address `ip`: not one of the uplink's reserved
// addresses, inside its subnet unless --routed (then a warning in plan.warnings).
Result<Uplink> check_address_on_uplink(const Context& ctx, Ipv4 ip, const AddressOptions& options, JailPlan& plan);
// Duplicate address detection (host/arp_probe.h) of `ip` on the uplink: a conflict (exit 3)
// naming the address and the MAC that answered, unless --force-ip (then a warning). A probe that
// cannot run (an uplink without ARP) is a warning, not a refusal.
Result<void> check_address_free(const std::string& uplink, Ipv4 ip, const AddressOptions& options, JailPlan& plan);
// check_address_free in a thread of its own: a start's 45 ms of listening for an answer overlap
// its fsck, mount and LXC start instead of coming before them (docs/DECISIONS.md).
std::shared_future<AddressVerdict> check_address_in_background(std::string uplink, Ipv4 ip, AddressOptions options);
// A new jail's address: no other jail's on this host (a conflict naming it, now), and free on the
// uplink (check_address_free, in the background: its 45 ms of listening overlap the new jail's
// disk and start; start_jail takes the verdict before it announces the address, and a conflict
// fails that step, whose undo, like every step's before it, leaves nothing).
Result<void> check_new_address(Context& ctx, Ipv4 ip, const std::string& uplink, const AddressOptions& options,
                               JailPlan& plan);
// The plan's warnings not logged yet in the task log (WARN, step "validate"): before the steps,
// and after them for those the duplicate address check added meanwhile.
void log_warnings(JailPlan& plan, TaskLog& log);
// The plan's warnings in a report: "warning:   ..." lines and a "warnings" array.
void report_warnings(const JailPlan& plan, nlohmann::json& fields, std::vector<std::string>& text);

// The FTP account a jail was given, as its credentials file (<jail dir>/credentials, 0600)
// keeps it: "user: U", "password: P" and, when known, "fingerprint: AB:CD:..." (the SHA-256
// of the certificate vsftpd presents).
struct Credentials {
    std::string user, password, fingerprint;
};
std::string render_credentials(const Credentials& creds);
// A host file (not inside a jail) replaced atomically: write_file_atomically without fsync.
Result<void> write_host_file(const std::string& path, const std::string& content, mode_t mode);

// Reads the credentials file back (the one reader: test, passwd, restore, credentials).
Result<Credentials> read_credentials(const Paths& paths, const std::string& domain);
// The certificate the jail's vsftpd presents, read safely from its tree.
Result<std::string> read_jail_certificate(const Paths& paths, const std::string& domain);
// The uplink the running jail was started with (its LXC config), else the configured one.
std::string uplink_of(const Context& ctx, const std::string& domain);
// The plan of a task on an existing jail: its record and the uplink it runs on (uplink_of). A task
// that starts the jail (again) takes the configured uplink as it is now, which must exist.
Result<JailPlan> plan_for(const Context& ctx, const JailRecord& rec, bool starts_jail = false);
// Probes a running jail as a customer would: HTTP page (probe_http: status 200 containing
// `expect`, by default the domain as jailctl's own index page shows it; "" for the customer's own
// site: any answer but a server error), then FTPS login/upload/read back over HTTP/delete (for the
// php profile the upload is a PHP script whose answer is read): that read-back proves this jail
// serves its document root whatever its `/` is.
Result<void> test_jail(const Context& ctx, const JailRecord& rec, std::optional<std::string> expect = std::nullopt);

}  // namespace jailctl
