// The php profile's renderers and checks (services/php.h), and what the profile changes in
// nginx.conf, the service list and the jail tree.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "services/jail_tree.h"
#include "services/php.h"

namespace jailctl {
namespace {

PhpRuntime runtime() { return {"/usr/sbin/php-fpm8.2", "/usr/lib/php/20220829", {"pdo", "opcache", "ctype"}}; }

JailSpec spec(Profile profile) {
    JailSpec s{"shop.example.com", "203.0.113.10", "shopexamplecom", "$y$j9T$salt$hash", FtpTls::Required,
               "-----BEGIN CERTIFICATE-----\n", "-----BEGIN PRIVATE KEY-----\n"};
    apply_profile(s, profile, 256ull << 20, 512, runtime());
    return s;
}

bool has(const std::string& text, const std::string& needle) { return text.find(needle) != std::string::npos; }

TEST(Php, ParseProfile) {
    EXPECT_EQ(parse_profile("static").value(), Profile::Static);
    EXPECT_EQ(parse_profile("php").value(), Profile::Php);
    for (const char* bad : {"", "PHP", "php8", "static ", "perl"}) {
        auto r = parse_profile(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().kind, ErrorKind::BadInput);
        EXPECT_TRUE(has(r.error().message, "profile")) << r.error().message;
    }
    EXPECT_EQ(stored_profile("php"), Profile::Php);
    EXPECT_EQ(stored_profile("static"), Profile::Static);
    EXPECT_EQ(stored_profile(""), Profile::Static);  // a record from before profiles
}

TEST(Php, MaxChildrenFollowTheLimits) {
    EXPECT_EQ(php_max_children(256ull << 20, 512), 6u);   // (256 - 48) / 32
    EXPECT_EQ(php_max_children(32ull << 20, 512), 1u);    // never 0: the site must run
    EXPECT_EQ(php_max_children(4ull << 30, 512), 32u);    // capped
    EXPECT_EQ(php_max_children(4ull << 30, 40), 4u);      // (40 - 32) / 2: the pids limit binds
    EXPECT_EQ(php_max_children(4ull << 30, 16), 1u);
}

TEST(Php, RequirePhpNamesThePackage) {
    EXPECT_TRUE(require_php(runtime()));
    auto r = require_php(PhpRuntime{});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::HostNotReady);
    EXPECT_TRUE(has(r.error().message, "php8.2-fpm")) << r.error().message;
}

TEST(Php, FindPhpPicksTheNewestAndOrdersExtensions) {
    namespace fs = std::filesystem;
    const fs::path usr = fs::temp_directory_path() / ("jailctl-php-test-" + std::to_string(::getpid()));
    fs::create_directories(usr / "sbin");
    fs::create_directories(usr / "lib/php/20210902");
    fs::create_directories(usr / "lib/php/20220829");
    for (const char* name : {"php-fpm7.4", "php-fpm8.2", "php-fpm8.10x", "php-fpm"}) {
        std::ofstream(usr / "sbin" / name) << "";
        fs::permissions(usr / "sbin" / name, fs::perms::owner_all);
    }
    for (const char* name : {"tokenizer.so", "pdo.so", "readline.so", "mysqlnd.so", "ffi.so", "opcache.so", "README"})
        std::ofstream(usr / "lib/php/20220829" / name) << "";
    PhpRuntime php = find_php(usr.string());
    EXPECT_EQ(php.fpm, "/usr/sbin/php-fpm8.2");
    EXPECT_EQ(php.extension_dir, "/usr/lib/php/20220829");
    EXPECT_EQ(php.extensions, (std::vector<std::string>{"mysqlnd", "pdo", "opcache", "tokenizer"}));
    fs::remove_all(usr / "sbin");
    EXPECT_TRUE(find_php(usr.string()).fpm.empty());
    fs::remove_all(usr);
}

TEST(Php, PoolIsOndemandAsTheFtpUserOnTheSocket) {
    const std::string conf = render_php_fpm_conf(spec(Profile::Php));
    for (const char* line : {"pm = ondemand\n", "pm.max_children = 6\n", "user = shopexamplecom\n",
                             "group = shopexamplecom\n", "listen = /run/php-fpm-pool.sock\n", "listen.group = www-data\n",
                             "listen.mode = 0660\n", "daemonize = no\n", "error_log = /srv/site/logs/php-fpm.log\n",
                             "security.limit_extensions = .php\n"})
        EXPECT_TRUE(has(conf, line)) << line;
    EXPECT_FALSE(has(conf, "/etc/php/")) << "the host's /etc is not the jail's";
}

TEST(Php, IniLoadsTheExtensionsFoundAndKeepsStateInTheJail) {
    const std::string ini = render_php_ini(spec(Profile::Php));
    EXPECT_TRUE(has(ini, "extension_dir = \"/usr/lib/php/20220829\"\n"));
    EXPECT_TRUE(has(ini, "zend_extension = opcache\n"));
    EXPECT_TRUE(has(ini, "extension = pdo\n"));
    EXPECT_LT(ini.find("extension = pdo"), ini.find("extension = ctype"));
    EXPECT_TRUE(has(ini, "session.save_path = /var/lib/php/sessions\n"));
    EXPECT_TRUE(has(ini, "upload_tmp_dir = /var/lib/php/tmp\n"));
    // opcache caches scripts, but an idle master keeps no copy of PHP's names (bench/density)
    EXPECT_TRUE(has(ini, "opcache.interned_strings_buffer = 0\n"));
}

TEST(Php, NginxRunsPhpOnlyForThePhpProfile) {
    const std::string php = render_nginx_conf(spec(Profile::Php));
    const std::string stat = render_nginx_conf(spec(Profile::Static));
    EXPECT_TRUE(has(php, "fastcgi_pass unix:/run/php-fpm.sock;"));
    EXPECT_TRUE(has(php, "index index.php index.html index.htm;"));
    EXPECT_FALSE(has(stat, "fastcgi_pass"));
    EXPECT_TRUE(has(stat, "index index.html index.htm;"));
    // Both keep refusing backups and other PHP suffixes, and for php the refusal comes after
    // the *.php location (nginx takes the first matching regex): x.php runs, x.php~ is 403.
    const std::string deny = "location ~* \"\\.ph(p[0-9]*|tml|ar)(~|";
    ASSERT_TRUE(has(php, deny));
    ASSERT_TRUE(has(stat, deny));
    EXPECT_LT(php.find("location ~ \"\\.php$\""), php.find(deny));
    EXPECT_LT(php.find("location ~ \"/\\.(?!well-known"), php.find("location ~ \"\\.php$\""));
}

TEST(Php, ServiceListAndTree) {
    EXPECT_TRUE(has(render_services_list(spec(Profile::Php)),
                    "php-fpm QUIT --socket=/run/php-fpm.sock --socket-name=/run/php-fpm-pool.sock --socket-mode=0660 "
                    "--socket-owner=33:33 --idle-stop=60 "
                    "/usr/sbin/php-fpm8.2 --nodaemonize --fpm-config /etc/jailctl/php-fpm.conf -c "
                    "/etc/jailctl/php.ini\n"));
    // The pool listens where jailctl-init holds the socket (php-fpm takes it through FPM_SOCKETS).
    EXPECT_TRUE(has(render_php_fpm_conf(spec(Profile::Php)), "listen = /run/php-fpm-pool.sock\n"));
    EXPECT_FALSE(has(render_services_list(spec(Profile::Static)), "php"));
    auto paths = [](const JailTree& t) {
        std::vector<std::string> p;
        for (const auto& f : t.files) p.push_back(f.path);
        return p;
    };
    auto php = paths(build_jail_tree(spec(Profile::Php)));
    auto stat = paths(build_jail_tree(spec(Profile::Static)));
    for (const char* f : {"etc/jailctl/php-fpm.conf", "etc/jailctl/php.ini", "etc/nginx/fastcgi_params"}) {
        EXPECT_NE(std::ranges::find(php, f), php.end()) << f;
        EXPECT_EQ(std::ranges::find(stat, f), stat.end()) << f;
    }
    const JailTree t = build_jail_tree(spec(Profile::Static));
    auto dir = std::ranges::find_if(t.dirs, [](const JailDir& d) { return d.path == "var/lib/php/sessions"; });
    ASSERT_NE(dir, t.dirs.end());
    EXPECT_EQ(dir->uid, kFtpUid);
    EXPECT_EQ(dir->mode, 0700u);
    auto logs = std::ranges::find_if(t.dirs, [](const JailDir& d) { return d.path == "srv/site/logs"; });
    ASSERT_NE(logs, t.dirs.end());
    EXPECT_EQ(logs->uid, kRootUid);  // readable by the customer, not theirs to change
}

TEST(Php, LogsAreCappedAndListedForInit) {
    EXPECT_EQ(log_cap_for(64ull << 20), 512u << 10);
    EXPECT_EQ(log_cap_for(16ull << 20), 256u << 10);  // floor
    EXPECT_EQ(log_cap_for(1ull << 40), 16u << 20);    // ceiling
    JailSpec php = spec(Profile::Php), stat = spec(Profile::Static);
    php.log_cap_bytes = stat.log_cap_bytes = 4096;
    EXPECT_TRUE(has(render_log_list(php), "/srv/site/logs/access.log 4096 nginx USR1\n"));
    EXPECT_TRUE(has(render_log_list(php), "/srv/site/logs/php-fpm.log 4096 php-fpm USR1\n"));
    EXPECT_TRUE(has(render_log_list(stat), "/srv/site/logs/error.log 4096 nginx USR1\n"));
    EXPECT_FALSE(has(render_log_list(stat), "php-fpm"));
}

}  // namespace
}  // namespace jailctl
