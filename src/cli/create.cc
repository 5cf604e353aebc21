// jailctl create DOMAIN --ip IPV4 --size SIZE: the contest procedure of DESIGN.md.
#include <iostream>

#include "cli/acme_ops.h"
#include "cli/jail_ops.h"
#include "cli/verbs.h"
#include "cli/web_ops.h"
#include "host/image.h"
#include "host/limits.h"
#include "host/network.h"
#include "jail/byte_size.h"
#include "jail/domain.h"
#include "jail/ftp_user.h"
#include "jail/ipv4.h"
#include "services/password_hash.h"
#include "services/php.h"
#include "util/password.h"

namespace jailctl {
namespace {

constexpr uint64_t kMinSize = 64ull << 20;  // the smallest disk a jail gets


}  // namespace

Result<Limits> parse_limits(const std::string& memory, const std::string& cpus, const std::string& pids) {
    Limits l;
    auto mem = ByteSize::parse(memory, "memory");
    if (!mem) return std::unexpected(mem.error());
    if (auto min = mem->at_least(32ull << 20, "memory"); !min) return std::unexpected(min.error());
    l.memory_bytes = mem->bytes();
    auto milli = parse_cpus(cpus);
    if (!milli) return std::unexpected(milli.error());
    l.millicpus = *milli;
    if (pids.empty() || pids.size() > 7 || pids.find_first_not_of("0123456789") != std::string::npos ||
        std::stoul(pids) < 16 || std::stoul(pids) > 4194304)
        return fail_input("pids", "'" + pids + "' is not a number from 16 to 4194304");
    l.pids = static_cast<uint32_t>(std::stoul(pids));
    if (auto fits = check_fits_host(l, host_capacity()); !fits) return std::unexpected(fits.error());
    return l;
}

Result<void> validate_new_jail(Context& ctx, const NewJailArgs& args, JailPlan& plan,
                               const std::function<Result<void>(const ByteSize&)>& check_size) {
    auto domain = Domain::parse(args.domain);
    if (!domain) return std::unexpected(domain.error());
    // Not required by the parser: with --cluster the cluster's pools give one (cluster_route.h).
    if (args.ip.empty()) return fail_input("ip", "is required (--ip)");
    auto ip = Ipv4::parse(args.ip);
    if (!ip) return std::unexpected(ip.error());
    auto size = ByteSize::parse_disk(args.size, "size");
    if (!size) return std::unexpected(size.error());
    if (auto min = size->at_least(kMinSize, "size"); !min) return std::unexpected(min.error());
    if (args.ftp_tls != "required" && args.ftp_tls != "optional")
        return fail_input("ftp-tls", "'" + args.ftp_tls + "' is not one of: required, optional");
    auto custom_tls = read_custom_tls(args.tls_cert, args.tls_key, domain->host_names());
    if (!custom_tls) return std::unexpected(custom_tls.error());
    auto limits = parse_limits(args.memory, args.cpus, args.pids);
    if (!limits) return std::unexpected(limits.error());
    auto profile = parse_profile(args.profile);
    if (!profile) return std::unexpected(profile.error());
    if (*profile == Profile::Php)
        if (auto r = require_php(find_php()); !r) return r;
    if (check_size)
        if (auto r = check_size(*size); !r) return r;

    auto uplink = check_address_on_uplink(ctx, *ip, args.address, plan);
    if (!uplink) return std::unexpected(uplink.error());
    if (::access(ctx.init_path.c_str(), X_OK) != 0)
        return fail(ErrorKind::HostNotReady, "jailctl-init not found at " + ctx.init_path + ": reinstall jailctl");

    if (auto r = ctx.open(); !r) return r;
    // A jail left half-created by a killed jailctl holds its name and address until
    // repaired: repair it now (find_jail does) rather than report a conflict.
    for (auto holder : {ctx.registry().find(domain->str()), ctx.registry().find_by_ip(ip->str())})
        if (holder && *holder && needs_repair(ctx, **holder)) (void)find_jail(ctx, (*holder)->domain);
    auto by_domain = ctx.registry().find(domain->str());
    if (!by_domain) return std::unexpected(by_domain.error());
    if (*by_domain) return fail(ErrorKind::Conflict, "domain: " + domain->str() + " is already registered");
    // Checked again inside the registry's transaction (register step): this one fails early.
    auto claim = ctx.registry().host_name_holder(domain->str());
    if (!claim) return std::unexpected(claim.error());
    if (*claim) return fail(ErrorKind::Conflict, host_name_conflict(domain->str(), (*claim)->first, (*claim)->second));
    if (auto r = check_new_address(ctx, *ip, uplink->name, args.address, plan); !r) return r;
    if (!args.sparse) {
        auto free = free_bytes(ctx.paths.lxcpath);
        if (!free) return std::unexpected(free.error());
        if (*free < size->bytes())
            return fail_input("size", size->human() + " is more than the " + human_bytes(*free) + " free in " +
                                          ctx.paths.lxcpath + " (use --sparse to thin-provision)");
    }

    plan.rec.domain = domain->str();
    plan.rec.ip = ip->str();
    plan.rec.size_bytes = size->bytes();
    plan.rec.sparse = args.sparse;
    plan.rec.ftp_user = derive_ftp_user(*domain);
    plan.rec.ftp_tls = args.ftp_tls;
    plan.rec.memory_bytes = limits->memory_bytes;
    plan.rec.millicpus = limits->millicpus;
    plan.rec.pids = limits->pids;
    plan.rec.profile = std::string(profile_name(*profile));
    if (*custom_tls) {
        plan.rec.tls = "custom";
        plan.spec.site_cert_pem = (*custom_tls)->cert_pem;
        plan.spec.site_key_pem = (*custom_tls)->key_pem;
    }
    return give_new_identity(plan);
}

Result<void> give_new_identity(JailPlan& plan) {
    plan.password = generate_password();
    auto hash = hash_password(plan.password);
    if (!hash) return std::unexpected(hash.error());
    auto cert = make_certificate(plan.rec.domain, plan.rec.ip);
    if (!cert) return std::unexpected(cert.error());
    JailSpec spec = web_spec(plan.rec);
    spec.ftp_user = plan.rec.ftp_user;
    spec.ftp_password_hash = *hash;
    spec.ftp_tls = plan.rec.ftp_tls == "optional" ? FtpTls::Optional : FtpTls::Required;
    spec.cert_pem = cert->cert_pem;
    spec.key_pem = cert->key_pem;
    apply_profile(spec, stored_profile(plan.rec.profile), plan.rec.memory_bytes, plan.rec.pids);
    spec.site_cert_pem = std::move(plan.spec.site_cert_pem);
    spec.site_key_pem = std::move(plan.spec.site_key_pem);
    if (spec.site_cert_pem.empty()) {
        auto site = self_signed_site_tls(plan.rec);
        if (!site) return std::unexpected(site.error());
        spec.site_cert_pem = site->cert_pem;
        spec.site_key_pem = site->key_pem;
        plan.rec.tls = "self-signed";
    }
    spec.log_cap_bytes = log_cap_for(plan.rec.size_bytes);
    plan.spec = std::move(spec);
    plan.fingerprint = cert->sha256_fingerprint;
    return {};
}

void add_address_options(CLI::App* cmd, AddressOptions& options) {
    cmd->add_flag("--routed", options.routed,
                  "Accept an address outside the uplink's subnet (the upstream router must route it here)");
    cmd->add_flag("--force-ip", options.force_ip,
                  "Take the address even though a neighbour answers ARP for it (logged)");
}

void add_new_jail_options(CLI::App* cmd, NewJailArgs& args) {
    cmd->add_option("domain", args.domain, "The site's domain name (IDN allowed)")->required();
    cmd->add_option("--ip", args.ip, "The jail's public IPv4 address (required; with --cluster, default: the lowest free address of the cluster's pools)");
    cmd->add_option("--size", args.size, "Disk quota, e.g. 512M, 2G (" JAILCTL_SIZE_UNITS "; minimum 64 MiB)")->required();
    cmd->add_flag("--sparse", args.sparse, "Thin-provision the disk image instead of preallocating it");
    cmd->add_option("--ftp-tls", args.ftp_tls, "FTPS policy: required (default) or optional");
    cmd->add_option("--memory", args.memory, "Memory limit of the whole jail (default 256M, at least 32M)");
    cmd->add_option("--cpus", args.cpus, "CPU limit in CPUs, e.g. 0.5 (default 1)");
    cmd->add_option("--pids", args.pids, "Process and thread limit (default 512, at least 16)");
    cmd->add_option("--profile", args.profile, "What the site runs: static (default) or php (php-fpm)");
    cmd->add_option("--tls-cert", args.tls_cert,
                    "The site's own certificate (PEM file: the certificate, then its chain) instead of a self-signed one");
    cmd->add_option("--tls-key", args.tls_key, "The unencrypted PEM private key of --tls-cert");
    cmd->add_flag("--keep-on-failure", args.keep_on_failure, "On KO, keep what was built, for debugging");
    add_address_options(cmd, args.address);
}

void report_new_jail(const JailPlan& plan, nlohmann::json& fields, std::vector<std::string>& text) {
    fields["ftp"] = {{"user", plan.rec.ftp_user},
                     {"password", plan.password},
                     {"tls", plan.rec.ftp_tls},
                     {"fingerprint", plan.fingerprint}};
    text = {"domain:    " + plan.rec.domain,
            "ip:        " + plan.rec.ip,
            "disk:      " + human_bytes(plan.rec.size_bytes),
            "profile:   " + plan.rec.profile,
            "ftp user:  " + plan.rec.ftp_user,
            "ftp pass:  " + plan.password,
            "ftp tls:   " + plan.rec.ftp_tls + ", sha256 " + plan.fingerprint};
    report_warnings(plan, fields, text);
}

namespace {

int run_create(Context& ctx, const NewJailArgs& args) {
    JailPlan plan;
    if (auto r = validate_new_jail(ctx, args, plan); !r) return report_error(ctx, "validate", r.error());
    auto acme = checked_acme(ctx.paths);
    if (!acme) return report_error(ctx, "validate", acme.error());
    auto log = open_task_log(ctx, plan.rec.domain, "create");
    if (!log) return report_error(ctx, "log", log.error());
    log_warnings(plan, *log);
    auto lock = lock_jail(ctx.paths, plan.rec.domain);
    if (!lock) return report_error(ctx, "lock", lock.error());

    JailSteps jail{ctx, plan};
    std::vector<Step> steps = {jail.register_jail(), jail.prepare_host(),     jail.create_disk(),
                               jail.mount_disk(),    jail.populate(),         jail.configure_www(),
                               jail.configure_ftp(), jail.write_lxc_config(), jail.save_credentials(),
                               jail.start_jail()};
    // An ACME certificate once the jail answers on port 80, tested with the site before OK; a CA
    // that cannot issue leaves the self-signed one and a warning (docs/DECISIONS.md).
    if (acme->enabled() && plan.rec.tls != "custom")
        for (auto& step : acme_certificate_steps(jail, *acme, true)) steps.push_back(std::move(step));
    steps.push_back(jail.test_from_outside());
    steps.push_back(jail.mark_ready());
    TaskOutcome outcome = run_journaled(ctx, *log, plan.rec.domain, "create", steps, {!args.keep_on_failure});
    log_warnings(plan, *log);  // the address check's, known once the jail started

    nlohmann::json fields = {{"domain", plan.rec.domain}, {"ip", plan.rec.ip}, {"size_bytes", plan.rec.size_bytes},
                             {"profile", plan.rec.profile}};
    std::vector<std::string> text;
    if (outcome.ok) {
        report_new_jail(plan, fields, text);
    }
    return report(ctx, outcome, fields, text, log->path());
}

}  // namespace

void add_create(CLI::App& app, Context& ctx, Action& action) {
    auto [cmd, args] =
        add_command<NewJailArgs>(app, ctx, action, "create", "Create, start and test a new jail", run_create);
    add_new_jail_options(cmd, *args);
}

}  // namespace jailctl
