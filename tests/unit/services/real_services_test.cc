// The rendered jail tree under the real nginx and vsftpd, probed by the real probes.
// Needs root (skipped otherwise): everything runs in private mount, network and PID
// namespaces created here — the tree lives on a tmpfs that only they see, the jail
// address exists only on their loopback, and every process dies with the namespace.
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "services/certificate.h"
#include "services/jail_tree.h"
#include "services/password_hash.h"
#include "services/probe.h"

namespace jailctl {
namespace {

constexpr const char* kIp = "203.0.113.10";  // exists only inside the test's network namespace

// Everything below runs in the namespaced child and reports through `out`.
struct Child {
    std::string root;
    std::ostringstream out;

    bool check(bool ok, const std::string& what) {
        if (!ok) out << what << ": " << std::strerror(errno) << "\n";
        return ok;
    }

    bool write_tree(const JailTree& t) {
        for (const auto& d : t.dirs) {
            std::string p = root + "/" + d.path;
            if (!check(::mkdir(p.c_str(), d.mode) == 0 && ::chown(p.c_str(), d.uid, d.gid) == 0 &&
                           ::chmod(p.c_str(), d.mode) == 0,
                       "mkdir " + p))
                return false;
        }
        for (const auto& f : t.files) {
            std::string p = root + "/" + f.path;
            std::ofstream(p, std::ios::binary) << f.content;
            if (!check(::chown(p.c_str(), f.uid, f.gid) == 0 && ::chmod(p.c_str(), f.mode) == 0, "write " + p))
                return false;
        }
        for (const auto& l : t.links)
            if (!check(::symlink(l.target.c_str(), (root + "/" + l.path).c_str()) == 0, "symlink " + l.path))
                return false;
        return true;
    }

    bool mount_all(const JailTree& t) {
        if (!check(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0, "make / private") ||
            !check(::mount("tmpfs", root.c_str(), "tmpfs", MS_NOSUID, "mode=0755") == 0, "tmpfs on " + root) ||
            !write_tree(t))
            return false;
        std::string usr = root + "/usr";
        if (!check(::mount("/usr", usr.c_str(), nullptr, MS_BIND | MS_REC, nullptr) == 0, "bind /usr") ||
            !check(::mount(nullptr, usr.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) == 0,
                   "remount /usr read-only"))
            return false;
        for (const char* dev : {"null", "zero", "random", "urandom"}) {
            std::string dst = root + "/dev/" + dev, src = std::string("/dev/") + dev;
            std::ofstream{dst};
            if (!check(::mount(src.c_str(), dst.c_str(), nullptr, MS_BIND, nullptr) == 0, "bind " + src)) return false;
        }
        return true;
    }

    bool loopback_with_jail_address() {
        int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        ifreq ifr{};
        std::strcpy(ifr.ifr_name, "lo");
        auto* sin = reinterpret_cast<sockaddr_in*>(&ifr.ifr_addr);
        sin->sin_family = AF_INET;
        ::inet_pton(AF_INET, kIp, &sin->sin_addr);
        bool ok = check(::ioctl(s, SIOCSIFADDR, &ifr) == 0, "address on lo");
        ifr.ifr_flags = IFF_UP | IFF_LOOPBACK | IFF_RUNNING;
        ok = ok && check(::ioctl(s, SIOCSIFFLAGS, &ifr) == 0, "lo up");
        ::close(s);
        return ok;
    }

    // Runs argv chrooted into the tree, stdout+stderr to /var/log/<log> in it.
    pid_t spawn(const std::vector<std::string>& args, const std::string& log) {
        pid_t pid = ::fork();
        if (pid != 0) return pid;
        int fd = ::open((root + "/var/log/" + log).c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        ::dup2(fd, 1);
        ::dup2(fd, 2);
        if (::chroot(root.c_str()) != 0 || ::chdir("/") != 0) ::_exit(126);
        std::vector<char*> argv;
        for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        char path_env[] = "PATH=/usr/sbin:/usr/bin";
        char* envp[] = {path_env, nullptr};
        ::execve(argv[0], argv.data(), envp);
        ::_exit(127);
    }

    std::string file(const std::string& rel) {
        std::ifstream in(root + "/" + rel);
        return std::string(std::istreambuf_iterator<char>(in), {});
    }

    bool wait_for_port(uint16_t port) {
        for (int i = 0; i < 300; ++i) {
            int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            sockaddr_in a{};
            a.sin_family = AF_INET;
            a.sin_port = htons(port);
            ::inet_pton(AF_INET, kIp, &a.sin_addr);
            bool up = ::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
            ::close(s);
            if (up) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        out << "nothing listens on " << kIp << ":" << port << "\n";
        return false;
    }

    // The scenario; true when everything passed.
    bool run() {
        auto cert = make_certificate("shop.example.com", kIp);
        const std::string password = "Probe-Password-4711-xyz";
        auto hash = hash_password(password);
        if (!cert || !hash) return out << "certificate or hash failed\n", false;
        JailSpec spec{"shop.example.com", kIp, "shopexamplecom", *hash, FtpTls::Required, cert->cert_pem,
                      cert->key_pem};
        spec.aliases = {"shop.example.org"};
        auto site = make_certificate("shop.example.com", kIp, spec.aliases);
        if (!site) return out << "site certificate failed\n", false;
        spec.site_cert_pem = site->cert_pem;
        spec.site_key_pem = site->key_pem;
        if (!mount_all(build_jail_tree(spec)) || !loopback_with_jail_address()) return false;

        int status = 0;
        ::waitpid(spawn({"/usr/sbin/nginx", "-t", "-c", "/etc/nginx/nginx.conf"}, "nginx-t.out"), &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            return out << "nginx -t refused the config:\n" << file("var/log/nginx-t.out"), false;
        spawn({"/usr/sbin/nginx", "-c", "/etc/nginx/nginx.conf"}, "nginx.out");
        spawn({"/usr/sbin/vsftpd", "/etc/vsftpd.conf"}, "vsftpd.out");
        bool ok = wait_for_port(80) && wait_for_port(443) && wait_for_port(21);
        ProbeTarget target{kIp, "shop.example.com"};
        if (ok) {
            auto http = probe_http(target, "shop.example.com");
            if (!http) ok = false, out << "probe_http: " << http.error().message << "\n";
        }
        if (ok) {  // HTTPS for the domain and the alias, pinned to the site certificate
            for (const char* name : {"shop.example.com", "www.shop.example.com", "shop.example.org"}) {
                ProbeTarget secure{kIp, name};
                secure.site_cert_pem = site->cert_pem;
                auto https = probe_http(secure, "shop.example.com");
                if (!https) ok = false, out << "probe_http over HTTPS for " << name << ": " << https.error().message << "\n";
            }
            ProbeTarget wrong{kIp, "shop.example.com"};  // FTP's certificate is not the site's
            wrong.site_cert_pem = cert->cert_pem;
            auto other = probe_http(wrong, "");
            if (other) ok = false, out << "HTTPS accepted a certificate other than the site's\n";
            ProbeTarget unnamed{kIp, "other.example.net"};
            unnamed.site_cert_pem = site->cert_pem;
            if (probe_http(unnamed, "")) ok = false, out << "HTTPS accepted a name the certificate lacks\n";
        }
        if (ok) {
            auto ftp = probe_ftp(target, "shopexamplecom", password, cert->cert_pem);
            if (!ftp) ok = false, out << "probe_ftp: " << ftp.error().message << "\n";
        }
        if (ok) {
            auto wrong = probe_ftp(target, "shopexamplecom", "not-the-password", cert->cert_pem);
            if (wrong || wrong.error().message.find("login denied") == std::string::npos)
                ok = false, out << "wrong password: " << (wrong ? "accepted" : wrong.error().message) << "\n";
        }
        if (ok) {
            auto other = make_certificate("shop.example.com", kIp);
            auto mismatch = probe_ftp(target, "shopexamplecom", password, other->cert_pem);
            if (mismatch || mismatch.error().message.find("certificate mismatch") == std::string::npos)
                ok = false, out << "other certificate: " << (mismatch ? "accepted" : mismatch.error().message) << "\n";
        }
        if (ok && file("srv/site/www/index.html").find("shop.example.com") == std::string::npos)
            ok = false, out << "index.html changed\n";
        if (ok) {  // the probes' files were deleted again: only index.html is left
            std::string listing;
            if (DIR* d = ::opendir((root + "/srv/site/www").c_str())) {
                while (dirent* e = ::readdir(d))
                    if (e->d_name[0] != '.' || (std::strcmp(e->d_name, ".") && std::strcmp(e->d_name, "..")))
                        listing += std::string(e->d_name) + " ";
                ::closedir(d);
            }
            if (listing != "index.html ") ok = false, out << "left in www/: " << listing << "\n";
        }
        for (const auto& name : {"nginx.out", "vsftpd.out", "nginx/error.log", "vsftpd.log"}) {
            if (!ok) out << "--- /var/log/" << name << "\n" << file(std::string("var/log/") + name);
        }
        return ok;
    }
};

TEST(RealServices, NginxAndVsftpdServeTheRenderedTree) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root for mount, network and PID namespaces";
    if (::access("/usr/sbin/nginx", X_OK) != 0 || ::access("/usr/sbin/vsftpd", X_OK) != 0)
        GTEST_SKIP() << "nginx or vsftpd not installed";
    char root_template[] = "/tmp/jailctl-services-XXXXXX";
    ASSERT_NE(::mkdtemp(root_template), nullptr);
    int report[2];
    ASSERT_EQ(::pipe2(report, O_CLOEXEC), 0);

    pid_t outer = ::fork();
    ASSERT_GE(outer, 0);
    if (outer == 0) {
        ::close(report[0]);
        if (::unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID) != 0) {
            std::string msg = std::string("SKIP unshare: ") + std::strerror(errno);
            [[maybe_unused]] auto n = ::write(report[1], msg.data(), msg.size());
            ::_exit(0);
        }
        pid_t init = ::fork();  // PID 1 of the new PID namespace: its exit kills the services
        if (init == 0) {
            Child child{root_template, {}};
            bool ok = child.run();
            std::string msg = child.out.str();
            [[maybe_unused]] auto n = ::write(report[1], msg.data(), msg.size());
            ::_exit(ok ? 0 : 1);
        }
        int status = 0;
        ::waitpid(init, &status, 0);
        ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 2);
    }
    ::close(report[1]);
    std::string msg;
    char buf[4096];
    for (ssize_t n; (n = ::read(report[0], buf, sizeof buf)) > 0;) msg.append(buf, static_cast<size_t>(n));
    ::close(report[0]);
    int status = 0;
    ::waitpid(outer, &status, 0);
    ::rmdir(root_template);
    if (msg.rfind("SKIP ", 0) == 0) GTEST_SKIP() << msg;
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << msg;
}

}  // namespace
}  // namespace jailctl
