#include "services/acme.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "util/atomic_file.h"
#include "util/command.h"

namespace jailctl {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSystemBundle = "/etc/ssl/certs/ca-certificates.crt";

Result<std::string> read_small_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail_errno("read " + path, errno);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// The directory bind-mounted over /etc/ssl/certs for uacme: the system's CAs and the bundle
// together, so a private CA adds trust and takes none away. "-" when no bundle is configured.
Result<std::string> prepare_trust(const AcmeSettings& settings, const std::string& state_dir) {
    if (settings.ca_bundle.empty()) return std::string("-");
    std::string dir = state_dir + "/trust";
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return fail_errno("create " + dir, errno);
    auto extra = read_small_file(settings.ca_bundle);
    if (!extra) return std::unexpected(extra.error().context("acme_ca_bundle"));
    std::string bundle;
    if (auto system = read_small_file(kSystemBundle)) bundle = *system + "\n";
    bundle += *extra;
    if (auto r = write_file_atomically(dir + "/ca-certificates.crt", bundle, {.mode = 0644, .durable = false}); !r)
        return std::unexpected(r.error());
    return dir;
}

bool output_says(const CommandResult& r, std::string_view text) { return r.output.find(text) != std::string::npos; }

}  // namespace

Result<void> check_acme_settings(const AcmeSettings& s) {
    if (!s.enabled()) return {};
    if (!s.directory.starts_with("https://") || s.directory.size() <= 8 ||
        s.directory.find_first_of(" \t\"'") != std::string::npos)
        return fail_input("acme_directory", "'" + s.directory + "' is not an https:// URL (e.g. "
                                            "https://acme-v02.api.letsencrypt.org/directory)");
    if (!s.email.empty()) {
        auto at = s.email.find('@');
        if (at == std::string::npos || at == 0 || at + 1 == s.email.size() || s.email.find_first_of(" \t<>,:") != std::string::npos)
            return fail_input("acme_email", "'" + s.email + "' is not one e-mail address");
    }
    if (!s.ca_bundle.empty()) {
        auto pem = read_small_file(s.ca_bundle);
        if (!pem) return fail_input("acme_ca_bundle", pem.error().message);
        if (pem->find("-----BEGIN CERTIFICATE-----") == std::string::npos)
            return fail_input("acme_ca_bundle", s.ca_bundle + " holds no PEM certificate");
    }
    return {};
}

Result<IssuedCertificate> acme_issue(const AcmeSettings& settings, const AcmeOrder& order) {
    if (order.names.empty()) return fail("ACME: no name to issue for");
    std::error_code ec;
    fs::create_directories(order.state_dir, ec);
    if (ec) return fail("create " + order.state_dir + ": " + ec.message());
    if (::chmod(order.state_dir.c_str(), 0700) != 0) return fail_errno("chmod " + order.state_dir, errno);
    auto trust = prepare_trust(settings, order.state_dir);
    if (!trust) return std::unexpected(trust.error());

    const std::vector<std::string> uacme = {order.jailctl_exe, std::string(kAcmeExecVerb), *trust, order.rootfs,
                                            std::to_string(order.id_base), "uacme", "-v", "-c", order.state_dir,
                                            "-a", settings.directory, "-t", "EC", "-y"};
    auto run = [&uacme](std::vector<std::string> tail) {
        auto argv = uacme;
        argv.insert(argv.end(), tail.begin(), tail.end());
        return run_command(argv);
    };
    auto register_account = [&]() -> Result<void> {
        std::vector<std::string> tail = {"new"};
        if (!settings.email.empty()) tail.push_back(settings.email);
        auto r = run(tail);
        if (!r) return std::unexpected(r.error());
        if (r->exit_status != 0 && !output_says(*r, "Account already exists"))
            return fail("ACME account at " + settings.directory + ": " + exit_message("uacme", *r));
        return {};
    };
    if (::access((order.state_dir + "/private/key.pem").c_str(), F_OK) != 0)
        if (auto r = register_account(); !r) return std::unexpected(r.error());

    // -f: jailctl decided the certificate is due (renew's rules), not uacme's own 30 days.
    std::vector<std::string> issue = {"-f", "-h", order.jailctl_exe, "issue"};
    issue.insert(issue.end(), order.names.begin(), order.names.end());
    auto r = run(issue);
    if (!r) return std::unexpected(r.error());
    if (r->exit_status != 0 && output_says(*r, "no account associated")) {  // a CA that forgot us
        if (auto a = register_account(); !a) return std::unexpected(a.error());
        r = run(issue);
        if (!r) return std::unexpected(r.error());
    }
    if (r->exit_status != 0) return fail("ACME order at " + settings.directory + ": " + exit_message("uacme", *r));

    const std::string& name = order.names.front();
    auto cert = read_small_file(order.state_dir + "/" + name + "/cert.pem");
    if (!cert) return std::unexpected(cert.error());
    auto key = read_small_file(order.state_dir + "/private/" + name + "/key.pem");
    if (!key) return std::unexpected(key.error());
    return IssuedCertificate{*cert, *key};
}

std::optional<std::string> renewal_reason(const CertificateFacts& facts, const std::vector<std::string>& names,
                                          int days, std::time_t now) {
    if (facts.self_signed) return "self-signed";
    for (const auto& name : names)
        if (std::find(facts.dns_names.begin(), facts.dns_names.end(), name) == facts.dns_names.end())
            return "does not cover " + name;
    if (facts.not_after_time - now < static_cast<std::time_t>(days) * 86400)
        return "expires " + facts.not_after + ", within " + std::to_string(days) + " days";
    return std::nullopt;
}

}  // namespace jailctl
