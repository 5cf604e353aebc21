#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <sstream>
#include <vector>

#include "services/jail_tree.h"

namespace jailctl {
namespace {

JailSpec spec(FtpTls tls = FtpTls::Required) {
    return JailSpec{"shop.example.com", "203.0.113.10", "shopexamplecom", "$y$j9T$salt$hash", tls,
                    "-----BEGIN CERTIFICATE-----\n", "-----BEGIN PRIVATE KEY-----\n"};
}

std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

// Lines "  directive args;" of nginx.conf, trimmed, with every occurrence.
std::multimap<std::string, std::string> nginx_directives(const std::string& conf) {
    std::multimap<std::string, std::string> out;
    for (auto line : lines(conf)) {
        line.erase(0, line.find_first_not_of(' '));
        if (line.empty() || line[0] == '#' || line.back() != ';') continue;
        auto sp = line.find(' ');
        out.emplace(line.substr(0, sp), line.substr(sp + 1, line.size() - sp - 2));
    }
    return out;
}

std::vector<std::string> all(const std::multimap<std::string, std::string>& m, const std::string& key) {
    std::vector<std::string> out;
    for (auto [it, end] = m.equal_range(key); it != end; ++it) out.push_back(it->second);
    return out;
}

std::string only(const std::multimap<std::string, std::string>& m, const std::string& key) {
    EXPECT_EQ(m.count(key), 1u) << key;
    auto it = m.find(key);
    return it == m.end() ? "" : it->second;
}

TEST(NginxConf, ServesTheDomainOnTheJailAddress) {
    auto d = nginx_directives(render_nginx_conf(spec()));
    using V = std::vector<std::string>;
    EXPECT_EQ(all(d, "listen"), (V{"203.0.113.10:80 default_server", "203.0.113.10:443 ssl http2 default_server"}));
    EXPECT_EQ(all(d, "server_name"), (V{"shop.example.com www.shop.example.com", "shop.example.com www.shop.example.com"}));
    EXPECT_EQ(all(d, "root"), (V{"/srv/site/www", "/srv/site/www"}));
    EXPECT_EQ(only(d, "worker_processes"), "1");
    EXPECT_EQ(only(d, "daemon"), "off");
    EXPECT_EQ(only(d, "user"), "www-data");
    EXPECT_EQ(only(d, "pid"), "/run/nginx.pid");
    EXPECT_EQ(only(d, "worker_connections"), "256");
    EXPECT_EQ(only(d, "include"), "/etc/nginx/mime.types");
    EXPECT_EQ(only(d, "access_log"), "/srv/site/logs/access.log");
    EXPECT_EQ(only(d, "error_log"), "/srv/site/logs/error.log warn");
    for (const char* temp : {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"}) {
        std::string key = std::string(temp) + "_temp_path";
        EXPECT_EQ(only(d, key).rfind("/var/lib/nginx/", 0), 0u) << key;
    }
}

// Issue 14: a www. domain serves itself and its bare name, never www.www.; long names fit
// nginx's server name hash; source files and dotfiles are refused (403), /.well-known/ is not.
TEST(NginxConf, ServerNamesAndForbiddenFiles) {
    auto s = spec();
    s.domain = "www.example.com";
    auto conf = render_nginx_conf(s);
    auto d = nginx_directives(conf);
    EXPECT_EQ(all(d, "server_name"), (std::vector<std::string>(2, "www.example.com example.com")));
    EXPECT_EQ(conf.find("www.www."), std::string::npos);
    EXPECT_EQ(only(d, "server_names_hash_bucket_size"), "512");
    EXPECT_NE(conf.find("location ~ \"/\\.(?!well-known(/|$))\" {\n            return 403;"), std::string::npos) << conf;
    EXPECT_NE(conf.find("location ~* \"\\.ph(p[0-9]*|tml|ar)(~|\\.(bak|old|orig|save?|sw[op]|tmp|dist|[0-9]+))?(/|$)\" {\n            return 403;"), std::string::npos) << conf;
}

// Issue 12: HTTPS on 443 with the site certificate, TLS 1.2+ only; aliases in both servers.
TEST(NginxConf, HttpsWithTheSiteCertificateAndAliases) {
    auto s = spec();
    s.aliases = {"shop.example.org", "xn--bcher-kva.example"};
    auto d = nginx_directives(render_nginx_conf(s));
    EXPECT_EQ(only(d, "ssl_certificate"), "/etc/ssl/jailctl/site.crt");
    EXPECT_EQ(only(d, "ssl_certificate_key"), "/etc/ssl/jailctl/site.key");
    EXPECT_EQ(only(d, "ssl_protocols"), "TLSv1.2 TLSv1.3");
    EXPECT_EQ(only(d, "ssl_session_tickets"), "off");
    EXPECT_EQ(all(d, "server_name"),
              (std::vector<std::string>(
                  2, "shop.example.com www.shop.example.com shop.example.org xn--bcher-kva.example")));
    EXPECT_EQ(d.count("return"), 4u);  // the two 403 locations, on :80 and on :443; no redirect
}

// https_only: :80 only redirects (301 to the same host and URI over HTTPS); :443 serves the site.
TEST(NginxConf, HttpsOnlyRedirectsPlainHttp) {
    auto s = spec();
    s.https_only = true;
    auto conf = render_nginx_conf(s);
    auto d = nginx_directives(conf);
    auto http = conf.substr(0, conf.find(":443"));
    EXPECT_NE(http.find("location / {\n            return 301 https://$host$request_uri;"), std::string::npos) << http;
    EXPECT_EQ(http.find("root "), std::string::npos) << http;
    // ACME's HTTP-01 challenge stays on HTTP, from a directory outside the customer's www/.
    EXPECT_NE(http.find("location ^~ /.well-known/acme-challenge/ {\n            alias /var/lib/acme-challenge/;"),
              std::string::npos) << http;
    EXPECT_EQ(all(d, "root"), (std::vector<std::string>{"/srv/site/www"}));
    s.https_only = false;
    EXPECT_EQ(render_nginx_conf(s).find("return 301"), std::string::npos);
}

TEST(NginxConf, MimeTypesCoverAStaticSite) {
    std::string types = render_mime_types();
    for (const char* ext : {" html", " css", " js", " png", " jpg", " gif", " svg", " txt", " json", " ico", " pdf",
                            " woff2"})
        EXPECT_NE(types.find(ext), std::string::npos) << ext;
}

std::map<std::string, std::string> vsftpd_keys(const std::string& conf) {
    std::map<std::string, std::string> kv;
    for (const auto& line : lines(conf)) {
        if (line.empty() || line[0] == '#') continue;
        auto eq = line.find('=');
        EXPECT_NE(eq, std::string::npos) << line;
        EXPECT_TRUE(kv.emplace(line.substr(0, eq), line.substr(eq + 1)).second) << "duplicate " << line;
    }
    return kv;
}

TEST(VsftpdConf, RequiredTls) {
    auto kv = vsftpd_keys(render_vsftpd_conf(spec(FtpTls::Required)));
    const std::map<std::string, std::string> expected = {
        {"listen", "YES"},
        {"listen_ipv6", "NO"},
        {"listen_address", "203.0.113.10"},
        {"background", "NO"},
        {"anonymous_enable", "NO"},
        {"local_enable", "YES"},
        {"write_enable", "YES"},
        {"local_umask", "022"},
        {"chroot_local_user", "YES"},
        {"userlist_enable", "NO"},
        {"pam_service_name", "vsftpd"},
        {"seccomp_sandbox", "NO"},
        {"isolate_network", "NO"},
        {"isolate", "NO"},
        {"pasv_enable", "YES"},
        {"pasv_min_port", "40000"},
        {"pasv_max_port", "40099"},
        {"pasv_promiscuous", "NO"},
        {"ssl_enable", "YES"},
        {"force_local_logins_ssl", "YES"},
        {"force_local_data_ssl", "YES"},
        {"ssl_sslv2", "NO"},
        {"ssl_sslv3", "NO"},
        {"ssl_tlsv1", "NO"},
        {"require_ssl_reuse", "NO"},
        {"rsa_cert_file", "/etc/ssl/jailctl/ftp.crt"},
        {"rsa_private_key_file", "/etc/ssl/jailctl/ftp.key"},
        {"xferlog_enable", "YES"},
        {"xferlog_file", "/var/log/xferlog"},
        {"vsftpd_log_file", "/var/log/vsftpd.log"},
        {"secure_chroot_dir", "/run/vsftpd/empty"},
        {"nopriv_user", "nobody"},
        {"hide_ids", "YES"},
        {"max_clients", "50"},
        {"max_per_ip", "10"},
    };
    for (const auto& [key, value] : expected) {
        ASSERT_TRUE(kv.contains(key)) << key;
        EXPECT_EQ(kv.at(key), value) << key;
    }
    EXPECT_FALSE(kv.contains("allow_writeable_chroot"));
    EXPECT_FALSE(kv.contains("pasv_address"));
    // Debian's vsftpd 3.0.3 refuses to start on keys it does not know.
    EXPECT_FALSE(kv.contains("ssl_tlsv1_2"));
    EXPECT_FALSE(kv.contains("ssl_tlsv1_1"));
    EXPECT_NE(kv.at("ssl_ciphers").find("ECDHE-ECDSA-AES128-GCM-SHA256"), std::string::npos);
    EXPECT_EQ(kv.at("ssl_ciphers").find("RSA-"), std::string::npos);
}

TEST(VsftpdConf, OptionalTlsAllowsClearText) {
    auto kv = vsftpd_keys(render_vsftpd_conf(spec(FtpTls::Optional)));
    EXPECT_EQ(kv.at("ssl_enable"), "YES");
    EXPECT_EQ(kv.at("force_local_logins_ssl"), "NO");
    EXPECT_EQ(kv.at("force_local_data_ssl"), "NO");
    EXPECT_FALSE(kv.contains("allow_writeable_chroot"));
}

TEST(PamVsftpd, UnixAuthWithoutShellOrFtpusersChecks) {
    std::string pam = render_pam_vsftpd();
    EXPECT_NE(pam.find("auth     required pam_unix.so"), std::string::npos);
    EXPECT_NE(pam.find("account  required pam_unix.so"), std::string::npos);
    EXPECT_NE(pam.find("session  required pam_permit.so"), std::string::npos);
    EXPECT_EQ(pam.find("pam_shells"), std::string::npos);
    EXPECT_EQ(pam.find("pam_listfile"), std::string::npos);
}

TEST(Shadow, HashForTheFtpUserAndLockedSystemAccounts) {
    auto l = lines(render_shadow(spec()));
    EXPECT_EQ(l, (std::vector<std::string>{"root:!:::::::", "daemon:*:::::::", "www-data:*:::::::",
                                           "shopexamplecom:$y$j9T$salt$hash:::::::", "nobody:*:::::::"}));
    for (const auto& line : l)  // 9 fields: a 10th makes glibc skip the entry and PAM deny the login
        EXPECT_EQ(std::count(line.begin(), line.end(), ':'), 8) << line;
}

TEST(Accounts, PasswdAndGroup) {
    auto passwd = lines(render_passwd(spec()));
    EXPECT_NE(std::find(passwd.begin(), passwd.end(),
                        "shopexamplecom:x:2000:2000:FTP shop.example.com:/srv/site:/usr/sbin/nologin"),
              passwd.end());
    EXPECT_NE(std::find(passwd.begin(), passwd.end(), "www-data:x:33:33:www-data:/nonexistent:/usr/sbin/nologin"),
              passwd.end());
    EXPECT_NE(std::find(passwd.begin(), passwd.end(), "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin"),
              passwd.end());
    auto group = lines(render_group(spec()));
    for (const char* g : {"root:x:0:", "shadow:x:42:", "www-data:x:33:", "shopexamplecom:x:2000:", "nogroup:x:65534:"})
        EXPECT_NE(std::find(group.begin(), group.end(), g), group.end()) << g;
    EXPECT_EQ(render_shells(), "/bin/sh\n/usr/bin/sh\n/usr/sbin/nologin\n");
}

TEST(ServicesList, NginxAndVsftpdInTheForeground) {
    auto l = lines(render_services_list(spec()));
    EXPECT_NE(std::find(l.begin(), l.end(), "nginx QUIT /usr/sbin/nginx -c /etc/nginx/nginx.conf"), l.end());
    EXPECT_NE(std::find(l.begin(), l.end(),
                        "vsftpd TERM /usr/bin/env OPENSSL_CONF=/etc/ssl/jailctl/openssl.cnf /usr/sbin/vsftpd "
                        "/etc/vsftpd.conf"),
              l.end());
}

TEST(IndexHtml, NamesTheDomainEscaped) {
    EXPECT_NE(render_index_html("shop.example.com").find("<h1>shop.example.com</h1>"), std::string::npos);
    EXPECT_NE(render_index_html("a<b").find("a&lt;b"), std::string::npos);
}

TEST(Hosts, NamesTheJailAddress) {
    EXPECT_NE(render_hosts(spec()).find("203.0.113.10\tshop.example.com www.shop.example.com\n"), std::string::npos);
    EXPECT_EQ(jail_host_name(std::string(60, 'a') + ".b-c.de"), std::string(60, 'a') + ".b");  // cut at 63, no trailing "-"
}

}  // namespace
}  // namespace jailctl
