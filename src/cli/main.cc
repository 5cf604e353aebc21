// jailctl: provisions and manages web + FTP hosting jails. See README.md.
#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>

#include "api/cluster_route.h"
#include "api/serve.h"
#include "cli/verbs.h"
#include "host/acme_challenge.h"

namespace {

// jailctl-init sits next to jailctl in a build tree, and in <prefix>/lib/jailctl once installed.
std::string find_init() {
    std::error_code ec;
    auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec) return "/usr/local/lib/jailctl/jailctl-init";
    auto dir = exe.parent_path();
    // never the throwing overloads: a build tree a non-root caller cannot read must still
    // let main() answer "not root" (exit 4)
    for (auto candidate : {dir / "jailctl-init", dir.parent_path() / "lib/jailctl/jailctl-init"})
        if (std::filesystem::exists(candidate, ec)) return candidate.string();
    return (dir.parent_path() / "lib/jailctl/jailctl-init").string();
}

// The parser's message, saying which verb was not known (CLI11 says "A subcommand is
// required" when the word is none of them), with where to look.
std::string parse_error_message(CLI::App& app, const CLI::ParseError& e, int argc, char** argv) {
    std::vector<std::string> words;  // the words that are not options (nor a global option's value)
    for (int i = 1; i < argc; ++i) {
        const std::string word = argv[i];
        if (word == "--") break;
        if (!word.starts_with("-")) words.push_back(word);
        else if (const auto* option = app.get_option_no_throw(word); option && option->get_items_expected_min() > 0) ++i;  // --root DIR
    }
    std::string path = "jailctl";
    size_t depth = 0;
    const CLI::App* at = &app;
    for (; !at->get_subcommands().empty(); ++depth) {
        at = at->get_subcommands().front();
        path += " " + at->get_name();
    }
    if (at->get_require_subcommand_min() > 0 && at->get_subcommands().empty()) {
        const std::string what = depth == 0 ? "verb" : "subcommand";
        if (depth >= words.size()) return "no " + what + " given (" + path + " --help lists them)";
        return what + ": unknown " + what + " '" + words[depth] + "' (" + path + " --help lists them)";
    }
    return std::string(e.what()) + " (see " + path + " --help)";
}

}  // namespace

int main(int argc, char** argv) {
    using namespace jailctl;
    // The ACME client runs this program as its trampoline and hook (host/acme_challenge.h).
    if (argc > 1 && argv[1] == kAcmeExecVerb) return acme_exec_main(argc, argv);
    if (is_acme_hook_call(argc)) return acme_hook_main(argc, argv);
    // `start --all` keeps two memfds per running worker, a thousand jails' logs and locks:
    // the soft open-files limit (often 1024) is raised to the hard one.
    if (rlimit nofile{}; ::getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
        nofile.rlim_cur = nofile.rlim_max;
        (void)::setrlimit(RLIMIT_NOFILE, &nofile);
    }
    CLI::App app{"jailctl: web + FTP hosting jails on Linux (LXC)", "jailctl"};
    app.set_version_flag("--version", JAILCTL_VERSION);
    app.require_subcommand(1);
    app.fallthrough();  // global options are accepted after the verb too
    Context ctx;
    auto* root = app.add_option("--root", ctx.options.root, "State directory (default /var/lib/jailctl)");
    app.add_option("--log-dir", ctx.options.log_dir, "Log directory (default /var/log/jailctl, or ROOT/log)");
    app.add_option("--uplink", ctx.options.uplink, "Interface that answers ARP for the jails' addresses");
    app.add_flag("--json", ctx.options.json, "Machine-readable output");
    app.add_flag("--cluster", ctx.options.cluster, "Run the verb through the cluster, on the jail's host (docs/FLEET.md)");
    app.add_option("--host", ctx.options.cluster_host, "With --cluster create: the host of the new jail (default: placed)");

    Action action;
    add_create(app, ctx, action);
    add_status(app, ctx, action);
    add_start_stop(app, ctx, action);
    add_test(app, ctx, action);
    add_passwd(app, ctx, action);
    add_destroy(app, ctx, action);
    add_host(app, ctx, action);
    add_fsck(app, ctx, action);
    add_grow(app, ctx, action);
    add_clone(app, ctx, action);
    add_exec(app, ctx, action);
    add_import_site(app, ctx, action);
    add_backup(app, ctx, action);
    add_restore(app, ctx, action);
    add_set(app, ctx, action);
    add_alias(app, ctx, action);
    add_repair(app, ctx, action);
    add_credentials(app, ctx, action);
    add_metrics(app, ctx, action);
    add_renew(app, ctx, action);
    add_serve(app, ctx, action);
    add_token(app, ctx, action);
    add_cluster(app, ctx, action);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
        // One KO line (and with --json its JSON twin on stdout), as for every other bad input.
        for (int i = 1; i < argc; ++i) ctx.options.json |= std::string_view(argv[i]) == "--json";
        return report_error(ctx, "validate", Error{ErrorKind::BadInput, parse_error_message(app, e, argc, argv)});
    }
    ctx.paths = make_paths(ctx.options, root->count() > 0);
    // host.conf `backup_dir = DIR`: backups somewhere else, e.g. a directory every host of a
    // cluster mounts (`jailctl recover` restores a dead host's jails from there).
    if (auto dir = host_conf_value(ctx.paths, "backup_dir"); !dir.empty()) {
        if (!dir.starts_with("/"))
            return report_error(ctx, "validate", Error{ErrorKind::HostNotReady, "host.conf: backup_dir = " + dir +
                                                                                    " is not an absolute path"});
        ctx.paths.backups = dir;
    }
    ctx.init_path = find_init();
    if (::geteuid() != 0) return report_error(ctx, "validate", Error{ErrorKind::HostNotReady, "jailctl must run as root"});
    if (ctx.options.cluster) return run_in_cluster(ctx, std::vector<std::string>(argv + 1, argv + argc), ctx.options.cluster_host);
    if (!ctx.options.cluster_host.empty())
        return report_error(ctx, "validate", Error{ErrorKind::BadInput, "host: --host goes with --cluster create"});
    return action ? action() : 0;
}
