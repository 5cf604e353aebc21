#include "cli/jail_ops.h"
#include "cli/web_ops.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "host/arp_probe.h"
#include "host/ext4.h"
#include "host/image.h"
#include "host/jail_fs.h"
#include "host/limits.h"
#include "host/loop.h"
#include "host/lxc.h"
#include "host/mount.h"
#include "host/network.h"
#include "host/subid.h"
#include "services/probe.h"
#include "util/atomic_file.h"

namespace jailctl {
namespace fs = std::filesystem;
namespace {

// The three steps that write the jail tree (services/jail_tree.h), each its own files.
enum class TreeStep { Populate, ConfigureWww, ConfigureFtp };

bool starts_with(const std::string& s, std::string_view prefix) { return s.rfind(prefix, 0) == 0; }

// Which step writes a file of the jail tree.
TreeStep step_writing(const std::string& path) {
    if (starts_with(path, "etc/nginx/") || starts_with(path, "etc/jailctl/php") ||
        starts_with(path, "etc/ssl/jailctl/site.") || path == "srv/site/www/index.html")
        return TreeStep::ConfigureWww;
    if (path == "etc/vsftpd.conf" || path == "etc/pam.d/vsftpd" || starts_with(path, "etc/ssl/jailctl/"))
        return TreeStep::ConfigureFtp;
    return TreeStep::Populate;
}

// The files of the jail tree that `which` writes (populate: the directories and links too).
Result<void> write_tree_files(const JailSteps& jail, TreeStep which) {
    auto root = open_jail_root(jail.paths().rootfs(jail.domain()));
    if (!root) return std::unexpected(root.error());
    JailTree tree = build_jail_tree(jail.plan.spec);
    if (which == TreeStep::Populate) {
        JailTree skeleton{tree.dirs, {}, tree.links};
        for (auto& f : tree.files)
            if (step_writing(f.path) == TreeStep::Populate) skeleton.files.push_back(f);
        return write_jail_tree(jail.paths().rootfs(jail.domain()), skeleton, jail.plan.rec.id_base);
    }
    for (const auto& f : tree.files) {
        if (step_writing(f.path) != which) continue;
        if (auto r = write_jail_file(root->get(), f.path, f.content, f.mode, f.uid, f.gid, jail.plan.rec.id_base); !r)
            return r;
    }
    return {};
}

Result<void> remove_host_file(const std::string& path) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return fail_errno("remove " + path, errno);
    return {};
}

// Until the web server answers (200, or an https-only site's 301) and the FTP server accepts
// connections.
Result<void> wait_for_services(const JailRecord& rec, std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    bool http_ok = false;
    for (;;) {
        Result<void> r;
        if (!http_ok) r = http_answers({rec.ip, rec.domain}, rec.https_only ? "301" : "200");
        http_ok = http_ok || r;
        if (http_ok)
            if (auto ftp = tcp_accepts(rec.ip, 21); !ftp)
                r = std::unexpected(ftp.error().context("the FTP server does not accept connections on port 21"));
        if (r) return {};
        if (std::chrono::steady_clock::now() > deadline)
            return fail("the jail's services did not answer within " + std::to_string(limit.count() / 1000) +
                        " s: " + r.error().message);
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

Result<void> detach_leftover_loops(const std::string& image) {
    auto loops = find_loops_for(image);
    if (!loops) return std::unexpected(loops.error());
    for (const auto& l : *loops)
        if (auto r = detach_loop(l.device); !r) return r;
    return {};
}

Result<void> unmount_and_detach(const Paths& paths, const std::string& domain) {
    if (auto r = unmount(paths.rootfs(domain)); !r) return r;
    return detach_leftover_loops(paths.image(domain));
}

Result<void> network_cleanup(const Context& ctx, const JailRecord& rec) {
    // A route to the address through another device: the address is another jail's by now
    // (moved to another state root on this machine, as the cluster tests' hosts are): its route
    // and proxy ARP entry are not this jail's to remove. A device without a name is this jail's
    // veth being torn down with its namespace (the route outlives the name for a moment): the
    // entries are this jail's then (a parallel destroy once left its proxy ARP entry so).
    if (auto device = route_device(rec.ip); device && *device && !(*device)->empty() && **device != veth_name(rec.id))
        return delete_link(veth_name(rec.id));
    std::string uplink = uplink_of(ctx, rec.domain);
    if (!uplink.empty())
        if (auto r = delete_proxy_neighbour(rec.ip, uplink); !r) return r;
    if (auto r = delete_route(rec.ip); !r) return r;
    return delete_link(veth_name(rec.id));
}

}  // namespace

// No fsync: create writes several on its path (docs/DECISIONS.md); the rename keeps it atomic.
Result<void> write_host_file(const std::string& path, const std::string& content, mode_t mode) {
    return write_file_atomically(path, content, {.mode = mode, .durable = false});
}

Result<Uplink> check_address_on_uplink(const Context& ctx, Ipv4 ip, const AddressOptions& options, JailPlan& plan) {
    auto uplink = find_uplink(configured_uplink(ctx));
    if (!uplink) return std::unexpected(uplink.error());
    if (auto up_addr = Ipv4::parse_syntax(uplink->address); up_addr) {  // an uplink without an address: nothing to check
        if (auto r = check_not_uplink_reserved(ip, *up_addr, uplink->prefix_len); !r) return std::unexpected(r.error());
        auto outside = check_in_uplink_subnet(ip, *up_addr, uplink->prefix_len, options.routed);
        if (!outside) return std::unexpected(outside.error());
        if (!outside->empty()) plan.warnings.push_back("ip: " + *outside);
    }
    plan.uplink = uplink->name;
    return uplink;
}

Result<void> check_address_free(const std::string& uplink, Ipv4 ip, const AddressOptions& options, JailPlan& plan) {
    auto holder = probe_ipv4_in_use(uplink, ip);
    if (!holder) {
        plan.warnings.push_back("ip: duplicate address detection skipped: " + holder.error().message);
        return {};
    }
    if (!*holder) return {};
    std::string what = ip.str() + " is already in use on " + uplink + ": " + format_mac(**holder) +
                       " answered an ARP probe for it";
    if (!options.force_ip)
        return fail(ErrorKind::Conflict, "ip: " + what + "; choose a free address, or give --force-ip to take it anyway");
    plan.warnings.push_back("ip: " + what + "; taken anyway (--force-ip)");
    return {};
}

std::shared_future<AddressVerdict> check_address_in_background(std::string uplink, Ipv4 ip, AddressOptions options) {
    return std::async(std::launch::async, [uplink = std::move(uplink), ip, options]() {
               JailPlan scratch;  // collects the warnings only
               AddressVerdict verdict{check_address_free(uplink, ip, options, scratch), {}};
               verdict.warnings = std::move(scratch.warnings);
               return verdict;
           })
        .share();
}

Result<void> check_new_address(Context& ctx, Ipv4 ip, const std::string& uplink, const AddressOptions& options,
                               JailPlan& plan) {
    auto by_ip = ctx.registry().find_by_ip(ip.str());
    if (!by_ip) return std::unexpected(by_ip.error());
    if (*by_ip) return fail(ErrorKind::Conflict, "ip: " + ip.str() + " is already used by jail " + (*by_ip)->domain);
    plan.address_check = check_address_in_background(uplink, ip, options);
    return {};
}

void log_warnings(JailPlan& plan, TaskLog& log) {
    for (; plan.warnings_logged < plan.warnings.size(); ++plan.warnings_logged)
        log.warn("validate", plan.warnings[plan.warnings_logged]);
}

void report_warnings(const JailPlan& plan, nlohmann::json& fields, std::vector<std::string>& text) {
    fields["warnings"] = plan.warnings;
    for (const auto& w : plan.warnings) text.push_back("warning:   " + w);
}

std::string uplink_of(const Context& ctx, const std::string& domain) {
    if (std::string link = lxc_config_uplink(ctx.paths.lxc_config(domain)); !link.empty()) return link;
    std::string configured = configured_uplink(ctx);
    if (!configured.empty()) return configured;
    auto up = find_uplink("");
    return up ? up->name : "";
}

Result<JailPlan> plan_for(const Context& ctx, const JailRecord& rec, bool starts_jail) {
    JailPlan plan;
    plan.rec = rec;
    if (!starts_jail) {
        plan.uplink = uplink_of(ctx, rec.domain);
        return plan;
    }
    auto configured = find_uplink(configured_uplink(ctx));
    if (!configured) return std::unexpected(configured.error());
    plan.uplink = configured->name;
    return plan;
}

Step JailSteps::register_jail() {
    return {"register",
            [this]() -> Result<void> {
                auto rec = ctx.registry().insert_jail(plan.rec);
                if (!rec) return std::unexpected(rec.error());
                plan.rec = *rec;
                plan.spec.ftp_user = rec->ftp_user;  // the registry made it unique on the host
                return {};
            },
            [this]() -> Result<void> {
                // Only the row this task inserted: a register that failed on a conflict
                // must not remove the jail that holds the name.
                if (plan.rec.id == 0) return {};
                return ctx.registry().remove_id(plan.rec.id);
            }};
}

Step JailSteps::prepare_host() {
    return {"host-prepare", [this]() -> Result<void> {
                auto fwd = ipv4_forwarding_enabled();
                if (!fwd) return std::unexpected(fwd.error());
                if (!*fwd)
                    if (auto r = enable_ipv4_forwarding(); !r) return r;
                uint64_t count = uint64_t{kMaxJailIds} * kIdRangeSize;
                for (const char* file : {kSubuidFile, kSubgidFile})
                    if (auto r = declare_subid_range(file, kIdBase, count); !r) return r;
                return {};
            }};
}

Step JailSteps::create_disk() {
    return {"disk",
            [this]() -> Result<void> {
                std::string dir = paths().jail_dir(domain());
                if (::mkdir(dir.c_str(), 0711) == 0) plan.made_jail_dir = true;
                else
                    return errno == EEXIST ? fail(ErrorKind::Conflict, dir + " already exists: run 'jailctl repair " +
                                                                             domain() + "' or remove it")
                                           : fail_errno("create " + dir, errno);
                ::chmod(dir.c_str(), 0711);  // umask-proof: LXC reaches rootfs as the jail's root
                if (::mkdir(paths().rootfs(domain()).c_str(), 0755) != 0)
                    return fail_errno("create " + paths().rootfs(domain()), errno);
                if (auto r = create_image(paths().image(domain()), plan.rec.size_bytes, plan.rec.sparse); !r) return r;
                return format_ext4(paths().image(domain()), plan.rec.id_base, plan.rec.id_base,
                                   "jail" + std::to_string(plan.rec.id));
            },
            [this]() -> Result<void> {
                if (!plan.made_jail_dir) return {};  // someone else's directory: not ours to remove
                if (auto r = unmount_and_detach(paths(), domain()); !r) return r;
                std::error_code ec;
                fs::remove_all(paths().jail_dir(domain()), ec);
                if (ec) return fail("remove " + paths().jail_dir(domain()) + ": " + ec.message());
                return {};
            }};
}

Step JailSteps::mount_disk() {
    return {"mount",
            [this]() -> Result<void> {
                auto loop = LoopDevice::attach(paths().image(domain()));
                if (!loop) return std::unexpected(loop.error());
                return mount_ext4(loop->path(), paths().rootfs(domain()));
                // The loop device is closed here: with autoclear it lives exactly as long as the mount.
            },
            [this]() { return unmount_and_detach(paths(), domain()); }};
}

Step JailSteps::populate() {
    return {"populate", [this]() { return write_tree_files(*this, TreeStep::Populate); }};
}

Step JailSteps::configure_www() {
    return {"configure-www", [this]() { return write_tree_files(*this, TreeStep::ConfigureWww); }};
}

Step JailSteps::configure_ftp() {
    return {"configure-ftp", [this]() { return write_tree_files(*this, TreeStep::ConfigureFtp); }};
}

Step JailSteps::write_lxc_config() {
    // Decided when the task is built, not when the step runs: an injected failure or a
    // crash can come before apply.
    plan.config_existed = ::access(paths().lxc_config(domain()).c_str(), F_OK) == 0;
    return {"lxc-config",
            [this]() -> Result<void> {
                auto init = publish_init(ctx.init_path, ctx.paths.root);
                if (!init) return std::unexpected(init.error());
                LxcSpec spec{domain(),         paths().lxcpath, paths().rootfs(domain()), plan.rec.id_base,
                             plan.rec.ip,      veth_name(plan.rec.id), plan.uplink, *init};
                spec.limits = {plan.rec.memory_bytes, plan.rec.millicpus, plan.rec.pids};
                spec.layout = detect_cgroup_layout();
                return write_host_file(paths().lxc_config(domain()), render_lxc_config(spec), 0644);
            },
            [this]() -> Result<void> {
                if (plan.config_existed) return {};  // a start rewrote it: the next start rewrites it again
                return remove_host_file(paths().lxc_config(domain()));
            }};
}

Step JailSteps::start_jail() {
    return {"start",
            [this]() -> Result<void> {
                // LXC only says "ABORTING" when the host side of the veth exists already. The
                // jail's own veth of a moment ago (an undo restarting a jail just stopped) goes
                // away with its network namespace, which the kernel frees asynchronously: only
                // an interface still there after a second belongs to someone else.
                const std::string veth = veth_name(plan.rec.id);
                for (int i = 0; i < 100 && link_exists(veth); ++i)
                    std::this_thread::sleep_for(std::chrono::milliseconds(10));
                plan.foreign_veth = link_exists(veth);
                if (plan.foreign_veth)
                    return fail(ErrorKind::Conflict,
                                "interface " + veth + " (this jail's veth, named from its registry id " +
                                    std::to_string(plan.rec.id) + ") already exists on this host: most likely another "
                                    "jailctl state root (a second --root) has a jail with the same id; run one state "
                                    "root per host, or remove a leftover with 'jailctl repair " + domain() + "'");
                if (auto r = lxc_start(paths().lxcpath, domain()); !r) return r;
                if (auto r = add_gateway_address(veth); !r) return r;
                if (auto r = restrict_to_own_address(veth); !r) return r;
                if (plan.address_check.valid()) {  // consumed once: its warnings join the plan's
                    AddressVerdict verdict = plan.address_check.get();
                    plan.address_check = {};
                    plan.warnings.insert(plan.warnings.end(), verdict.warnings.begin(), verdict.warnings.end());
                    if (!verdict.result) {  // never announced, nor left answering for it (even with --keep-on-failure)
                        (void)stop_and_cleanup(2);
                        return verdict.result;
                    }
                }
                (void)announce_started_jail(veth, plan.uplink, plan.rec.ip);  // best effort: else a 1 s retry
                return wait_for_services(plan.rec, std::chrono::seconds(15));
            },
            [this]() -> Result<void> {
                if (plan.foreign_veth) return {};  // nothing started; the interface is not ours
                return stop_and_cleanup(2);
            }};
}

Result<void> JailSteps::stop_and_cleanup(int timeout_s) {
    auto stopped = lxc_stop(paths().lxcpath, domain(), timeout_s);
    auto cleaned = network_cleanup(ctx, plan.rec);  // even when the stop failed
    return stopped ? cleaned : stopped;
}

std::vector<Step> JailSteps::start_from_disk() {
    return {mount_disk(), prepare_host(), write_lxc_config(), start_jail()};
}

Result<void> JailSteps::start_if_stopped() {
    if (lxc_running(paths().lxcpath, domain())) return {};
    auto mounted = find_mount(paths().rootfs(domain()));
    if (!mounted) return std::unexpected(mounted.error());
    if (!*mounted)
        if (auto r = mount_disk().apply(); !r) return r;
    if (auto r = write_lxc_config().apply(); !r) return r;
    return start_jail().apply();
}

Step JailSteps::save_credentials() {
    return {"credentials",
            [this]() {
                // passwd and restore do not make a certificate: the one the jail presents is read.
                if (plan.fingerprint.empty())
                    if (auto cert = read_jail_certificate(paths(), domain()))
                        if (auto fpr = certificate_fingerprint(*cert)) plan.fingerprint = *fpr;
                return write_host_file(paths().credentials(domain()),
                                       render_credentials({plan.rec.ftp_user, plan.password, plan.fingerprint}), 0600);
            },
            [this]() { return remove_host_file(paths().credentials(domain())); }};
}

Step JailSteps::test_from_outside() {
    return {"test", [this]() { return test_jail(ctx, plan.rec, plan.own_page ? std::nullopt : std::optional<std::string>("")); }};
}

Step JailSteps::mark_ready() {
    return {"ready", [this]() -> Result<void> {
                if (auto r = ctx.registry().set_state(domain(), "ready"); !r) return r;
                plan.rec.state = "ready";
                return {};
            }};
}

Step JailSteps::fsck_preen() {
    return {"fsck", [this]() -> Result<void> {
                auto report = fsck_ext4(paths().image(domain()), FsckMode::Preen);
                if (!report) return std::unexpected(report.error());
                if (report->outcome == FsckOutcome::ErrorsRemain)
                    return fail("the jail's filesystem has errors an automatic check cannot fix: run 'jailctl fsck " +
                                domain() + " --repair'");
                return {};
            }};
}

Step JailSteps::stop_jail(int timeout_s) {
    return {"stop", [this, timeout_s]() { return lxc_stop(paths().lxcpath, domain(), timeout_s); }};
}

Step JailSteps::cleanup_network() {
    return {"network-cleanup", [this]() { return network_cleanup(ctx, plan.rec); }};
}

Step JailSteps::unmount_disk() {
    return {"unmount", [this]() { return unmount_and_detach(paths(), domain()); }};
}

Step JailSteps::remove_files() {
    return {"remove-files", [this]() -> Result<void> {
                auto mounted = find_mount(paths().rootfs(domain()));
                if (!mounted) return std::unexpected(mounted.error());
                if (*mounted) return fail(paths().rootfs(domain()) + " is still mounted; refusing to delete");
                std::error_code ec;
                fs::remove_all(paths().jail_dir(domain()), ec);
                if (ec) return fail("remove " + paths().jail_dir(domain()) + ": " + ec.message());
                return {};
            }};
}

Step JailSteps::unregister() {
    return {"unregister", [this]() { return ctx.registry().remove(domain()); }};
}

Step Restart::stop(JailSteps& jail) {
    Step stop = jail.stop_jail();
    auto apply = stop.apply;
    stop.apply = [this, apply]() {
        down_since = std::chrono::steady_clock::now();
        return apply();
    };
    stop.undo = [&jail]() { return jail.start_if_stopped(); };
    return stop;
}

std::vector<Step> Restart::start(JailSteps& jail) {
    std::vector<Step> steps = jail.start_from_disk();
    auto apply = steps.back().apply;
    steps.back().apply = [this, apply]() -> Result<void> {
        if (auto r = apply(); !r) return r;
        up_again = std::chrono::steady_clock::now();
        return {};
    };
    return steps;
}

void Restart::report_downtime(TaskLog& log, nlohmann::json& fields, std::vector<std::string>& text) const {
    auto ms = std::chrono::duration<double, std::milli>(up_again - down_since).count();
    fields["downtime_ms"] = static_cast<int64_t>(ms + 0.5);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.3f s", ms / 1000);
    log.info("downtime", std::string("the site was down for ") + buf + " (stop -> services answer)");
    text.push_back(std::string("downtime:  ") + buf);
}

std::string render_credentials(const Credentials& creds) {
    std::string text = "user: " + creds.user + "\npassword: " + creds.password + "\n";
    if (!creds.fingerprint.empty()) text += "fingerprint: " + creds.fingerprint + "\n";
    return text;
}

Result<Credentials> read_credentials(const Paths& paths, const std::string& domain) {
    std::ifstream in(paths.credentials(domain));
    if (!in) return fail_errno("read " + paths.credentials(domain), errno);
    std::string line;
    Credentials creds;
    while (std::getline(in, line)) {
        if (starts_with(line, "user: ")) creds.user = line.substr(6);
        if (starts_with(line, "password: ")) creds.password = line.substr(10);
        if (starts_with(line, "fingerprint: ")) creds.fingerprint = line.substr(13);
    }
    if (creds.user.empty() || creds.password.empty()) return fail(paths.credentials(domain) + ": no user or password");
    return creds;
}

Result<std::string> read_jail_certificate(const Paths& paths, const std::string& domain) {
    auto root = open_jail_root(paths.rootfs(domain));
    if (!root) return std::unexpected(root.error());
    return read_jail_file(root->get(), "etc/ssl/jailctl/ftp.crt", 64 * 1024);
}

Result<void> test_jail(const Context& ctx, const JailRecord& rec, std::optional<std::string> expect) {
    const ProbeTarget plain{rec.ip, rec.domain};
    if (auto r = rec.https_only ? probe_https_redirect(plain) : probe_http(plain, expect.value_or(rec.domain)); !r)
        return std::unexpected(r.error().context("HTTP"));
    // A jail created before HTTPS has no site certificate until a `set` gives it one.
    ProbeTarget secure = plain;
    if (auto site = read_site_certificate(ctx.paths, rec.domain); site && !site->empty()) {
        secure.site_cert_pem = *site;
        if (auto r = probe_http(secure, expect.value_or(rec.domain)); !r)
            return std::unexpected(r.error().context("HTTPS"));
    }
    auto creds = read_credentials(ctx.paths, rec.domain);
    if (!creds) return std::unexpected(creds.error());
    auto cert = read_jail_certificate(ctx.paths, rec.domain);
    if (!cert) return std::unexpected(cert.error());
    // The upload is read back the way the site serves it: over HTTPS when HTTP only redirects.
    if (auto r = probe_ftp(rec.https_only ? secure : plain, creds->user, creds->password, *cert, rec.profile == "php"); !r)
        return std::unexpected(r.error().context("FTP"));
    return {};
}

}  // namespace jailctl
