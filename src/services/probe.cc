#include "services/probe.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "services/certificate.h"
#include "util/fd.h"
#include "util/random.h"
#include "util/text.h"

namespace jailctl {
namespace {

constexpr long kConnectTimeoutMs = 2000;
// libcurl counts an FTP server's greeting, AUTH TLS and the login as "connecting", and
// vsftpd + pam_unix delay a failed login by ~2 s: 2 s would report a wrong password as a
// timeout.
constexpr long kFtpConnectTimeoutMs = 8000;
constexpr long kHttpTimeoutMs = 5000;
// A failed FTP login costs vsftpd + pam_unix a deliberate delay of a few seconds.
constexpr long kFtpTimeoutMs = 12000;
constexpr std::size_t kMaxBodyBytes = 1 << 20;

// libcurl and the ~30 libraries it brings (TLS, Kerberos, LDAP, IDN...) cost ~9 ms at every
// start of jailctl (measured: an empty program linked with -lcurl starts in 11 ms, with liblxc
// in 2.4 ms), and only the verbs that probe a jail need it: it is loaded on first use.
struct CurlLib {
    decltype(&::curl_global_init) global_init;
    decltype(&::curl_easy_init) easy_init;
    decltype(&::curl_easy_setopt) easy_setopt;
    decltype(&::curl_easy_perform) easy_perform;
    decltype(&::curl_easy_getinfo) easy_getinfo;
    decltype(&::curl_easy_cleanup) easy_cleanup;
    decltype(&::curl_easy_strerror) easy_strerror;
    decltype(&::curl_slist_append) slist_append;
    decltype(&::curl_slist_free_all) slist_free_all;
    decltype(&::curl_multi_init) multi_init;
    decltype(&::curl_multi_add_handle) multi_add_handle;
    decltype(&::curl_multi_remove_handle) multi_remove_handle;
    decltype(&::curl_multi_perform) multi_perform;
    decltype(&::curl_multi_poll) multi_poll;
    decltype(&::curl_multi_info_read) multi_info_read;
    decltype(&::curl_multi_cleanup) multi_cleanup;
};
const CurlLib* g_curl = nullptr;  // set once loaded and initialised

template <class F>
bool resolve(void* handle, const char* name, F& f, std::string& missing) {
    f = reinterpret_cast<F>(::dlsym(handle, name));
    if (!f) missing = name;
    return f != nullptr;
}

Result<const CurlLib*> load_curl() {
    static std::once_flag once;
    static CurlLib lib;
    static std::string error;
    std::call_once(once, [] {
        void* h = ::dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
        if (!h) {
            const char* why = ::dlerror();
            error = why ? why : "dlopen failed";
            return;
        }
        std::string missing;
        if (!(resolve(h, "curl_global_init", lib.global_init, missing) &&
              resolve(h, "curl_easy_init", lib.easy_init, missing) &&
              resolve(h, "curl_easy_setopt", lib.easy_setopt, missing) &&
              resolve(h, "curl_easy_perform", lib.easy_perform, missing) &&
              resolve(h, "curl_easy_getinfo", lib.easy_getinfo, missing) &&
              resolve(h, "curl_easy_cleanup", lib.easy_cleanup, missing) &&
              resolve(h, "curl_easy_strerror", lib.easy_strerror, missing) &&
              resolve(h, "curl_slist_append", lib.slist_append, missing) &&
              resolve(h, "curl_slist_free_all", lib.slist_free_all, missing) &&
              resolve(h, "curl_multi_init", lib.multi_init, missing) &&
              resolve(h, "curl_multi_add_handle", lib.multi_add_handle, missing) &&
              resolve(h, "curl_multi_remove_handle", lib.multi_remove_handle, missing) &&
              resolve(h, "curl_multi_perform", lib.multi_perform, missing) &&
              resolve(h, "curl_multi_poll", lib.multi_poll, missing) &&
              resolve(h, "curl_multi_info_read", lib.multi_info_read, missing) &&
              resolve(h, "curl_multi_cleanup", lib.multi_cleanup, missing))) {
            error = "no symbol " + missing;
            return;
        }
        if (CURLcode rc = lib.global_init(CURL_GLOBAL_DEFAULT); rc != CURLE_OK) {
            error = std::string("initialisation: ") + lib.easy_strerror(rc);
            return;
        }
        g_curl = &lib;
    });
    if (!g_curl) return fail("libcurl (libcurl.so.4, Debian package libcurl4): " + error);
    return g_curl;
}

struct EasyDeleter {
    void operator()(CURL* c) const { g_curl->easy_cleanup(c); }
};
using Easy = std::unique_ptr<CURL, EasyDeleter>;
struct SlistDeleter {
    void operator()(curl_slist* l) const { g_curl->slist_free_all(l); }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

struct MultiDeleter {
    void operator()(CURLM* m) const { g_curl->multi_cleanup(m); }
};
using Multi = std::unique_ptr<CURLM, MultiDeleter>;

// One logged-in FTPS session: the easy handle, and the multi handle whose connection cache keeps
// the control connection open between its transfers.
struct FtpsSession {
    Multi multi;
    Easy easy;
};

// easy_perform's work through the session's multi handle, woken at least every 2 ms. libcurl
// 7.88 waits for an FTPS data connection's TLS handshake on the data socket alone, while vsftpd
// answers the STOR on the control connection before it starts that handshake: easy_perform
// slept ~180 ms on curl's own timer in most uploads (strace: poll([data fd, wakeup fd], 178) =
// 0 (Timeout), the control socket readable all along). A few wakeups cost nothing beside that.
CURLcode perform(FtpsSession& s) {
    CURL* c = s.easy.get();
    if (g_curl->multi_add_handle(s.multi.get(), c) != CURLM_OK) return CURLE_FAILED_INIT;
    int running = 1;
    CURLcode result = CURLE_OK;
    while (running) {
        if (g_curl->multi_perform(s.multi.get(), &running) != CURLM_OK) {
            result = CURLE_FAILED_INIT;
            break;
        }
        if (running) g_curl->multi_poll(s.multi.get(), nullptr, 0, 2, nullptr);
    }
    int left = 0;
    while (CURLMsg* msg = g_curl->multi_info_read(s.multi.get(), &left))
        if (msg->msg == CURLMSG_DONE && msg->easy_handle == c) result = msg->data.result;
    g_curl->multi_remove_handle(s.multi.get(), c);
    return result;
}

Result<Easy> new_easy() {
    if (auto lib = load_curl(); !lib) return std::unexpected(lib.error());
    Easy easy(g_curl->easy_init());
    if (!easy) return fail("libcurl: cannot create a handle");
    return easy;
}

// Options every probe shares: no proxy from the environment, no signals, timeouts.
void set_common(CURL* c, char* errbuf, long connect_ms, long total_ms) {
    g_curl->easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    g_curl->easy_setopt(c, CURLOPT_PROXY, "");
    g_curl->easy_setopt(c, CURLOPT_NOPROXY, "*");
    g_curl->easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
    g_curl->easy_setopt(c, CURLOPT_TIMEOUT_MS, total_ms);
    g_curl->easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    errbuf[0] = '\0';
}

size_t append_body(char* data, size_t size, size_t n, void* user) {
    auto* body = static_cast<std::string*>(user);
    if (body->size() + size * n > kMaxBodyBytes) return 0;  // CURLE_WRITE_ERROR
    body->append(data, size * n);
    return size * n;
}

size_t discard_body(char*, size_t size, size_t n, void*) { return size * n; }

struct Upload {
    std::string_view data;
    std::size_t offset = 0;
};
size_t read_upload(char* buf, size_t size, size_t n, void* user) {
    auto* up = static_cast<Upload*>(user);
    size_t len = std::min(size * n, up->data.size() - up->offset);
    std::copy_n(up->data.data() + up->offset, len, buf);
    up->offset += len;
    return len;
}

// Replaces every occurrence of `secret` (if any) so it cannot reach a message.
std::string scrub(std::string text, const std::string& secret) {
    if (secret.empty()) return text;
    for (auto pos = text.find(secret); pos != std::string::npos; pos = text.find(secret, pos))
        text.replace(pos, secret.size(), "***");
    return text;
}

std::string curl_failure(CURLcode code, const char* errbuf, const std::string& secret = {}) {
    std::string detail = errbuf && errbuf[0] ? errbuf : g_curl->easy_strerror(code);
    while (!detail.empty() && (detail.back() == '\n' || detail.back() == '\r')) detail.pop_back();
    return scrub(describe_curl_code(code) + " [curl " + std::to_string(code) + ": " + detail + "]", secret);
}

std::string random_hex(std::size_t bytes) {
    std::vector<uint8_t> raw(bytes);
    random_bytes(raw);
    return hex(raw);
}

struct HttpReply {
    long status = 0;
    std::string body;
    std::string location;  // of a redirect
};

std::string http_url(const ProbeTarget& t, std::string_view path) {
    if (!t.site_cert_pem.empty())
        return "https://" + t.domain + (t.https_port == 443 ? "" : ":" + std::to_string(t.https_port)) +
               std::string(path);
    return "http://" + t.ip + (t.http_port == 80 ? "" : ":" + std::to_string(t.http_port)) + std::string(path);
}

// HTTPS to the jail: DOMAIN resolved to its IP, only the installed chain trusted (libcurl's
// OpenSSL backend accepts a partial chain, so the installed leaf itself anchors it).
void set_site_tls(CURL* c, const ProbeTarget& t, curl_slist*& resolve) {
    resolve = g_curl->slist_append(nullptr, (t.domain + ":" + std::to_string(t.https_port) + ":" + t.ip).c_str());
    g_curl->easy_setopt(c, CURLOPT_RESOLVE, resolve);
    curl_blob blob{const_cast<char*>(t.site_cert_pem.data()), t.site_cert_pem.size(), CURL_BLOB_COPY};
    g_curl->easy_setopt(c, CURLOPT_CAINFO_BLOB, &blob);
    g_curl->easy_setopt(c, CURLOPT_CAPATH, nullptr);
    g_curl->easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    g_curl->easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    g_curl->easy_setopt(c, CURLOPT_CERTINFO, 1L);
}

// The certificate served is the installed one (not merely one the installed chain's CA signed:
// an nginx that did not reload yet serves the previous certificate of the same CA).
Result<void> check_served_certificate(CURL* c, const ProbeTarget& t, const std::string& what) {
    curl_certinfo* info = nullptr;
    if (g_curl->easy_getinfo(c, CURLINFO_CERTINFO, &info) != CURLE_OK || !info || info->num_of_certs < 1)
        return fail(what + ": libcurl did not report the certificate served");
    std::string served;
    for (curl_slist* l = info->certinfo[0]; l; l = l->next)
        if (std::string_view(l->data).starts_with("Cert:")) served = l->data + 5;
    auto served_fp = certificate_fingerprint(served);
    auto installed_fp = certificate_fingerprint(t.site_cert_pem);
    if (!served_fp || !installed_fp) return fail(what + ": cannot read the certificate served or installed");
    if (*served_fp != *installed_fp)
        return fail(what + ": the server presents certificate sha256 " + *served_fp + ", not the installed " +
                    *installed_fp + " (nginx did not load it)");
    return {};
}

// GET `path` from the jail's address with the jail's Host header.
Result<HttpReply> http_get(const ProbeTarget& t, std::string_view path) {
    const std::string url = http_url(t, path);
    const std::string what = "GET " + url + " (Host: " + t.domain + ")";
    auto easy = new_easy();
    if (!easy) return std::unexpected(easy.error());
    CURL* c = easy->get();
    char errbuf[CURL_ERROR_SIZE];
    set_common(c, errbuf, kConnectTimeoutMs, kHttpTimeoutMs);
    Slist headers(g_curl->slist_append(nullptr, ("Host: " + t.domain).c_str()));
    curl_slist* resolve_list = nullptr;
    if (!t.site_cert_pem.empty()) set_site_tls(c, t, resolve_list);
    Slist resolve(resolve_list);
    HttpReply reply;
    g_curl->easy_setopt(c, CURLOPT_URL, url.c_str());
    g_curl->easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
    g_curl->easy_setopt(c, CURLOPT_WRITEFUNCTION, append_body);
    g_curl->easy_setopt(c, CURLOPT_WRITEDATA, &reply.body);
    CURLcode rc = g_curl->easy_perform(c);
    if (rc == CURLE_WRITE_ERROR) return fail(what + ": the response is larger than 1 MiB");
    if (rc != CURLE_OK) return fail(what + ": " + curl_failure(rc, errbuf));
    g_curl->easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply.status);
    if (!t.site_cert_pem.empty())
        if (auto r = check_served_certificate(c, t, what); !r) return std::unexpected(r.error());
    if (char* location = nullptr; g_curl->easy_getinfo(c, CURLINFO_REDIRECT_URL, &location) == CURLE_OK && location)
        reply.location = location;
    return reply;
}

// The FTPS session every FTP step starts with; `url` names the file or directory.
Result<FtpsSession> ftps_session(const std::string& url, const std::string& user,
                          const std::string& password, const std::string& cert_pem, char* errbuf) {
    auto easy = new_easy();
    if (!easy) return std::unexpected(easy.error());
    CURL* c = easy->get();
    set_common(c, errbuf, kFtpConnectTimeoutMs, kFtpTimeoutMs);
    g_curl->easy_setopt(c, CURLOPT_URL, url.c_str());
    g_curl->easy_setopt(c, CURLOPT_USERNAME, user.c_str());
    g_curl->easy_setopt(c, CURLOPT_PASSWORD, password.c_str());
    g_curl->easy_setopt(c, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
    g_curl->easy_setopt(c, CURLOPT_FTPSSLAUTH, static_cast<long>(CURLFTPAUTH_TLS));
    // Trust exactly the jail's certificate; its SAN holds the IP, so host checking applies.
    curl_blob blob{const_cast<char*>(cert_pem.data()), cert_pem.size(), CURL_BLOB_COPY};
    g_curl->easy_setopt(c, CURLOPT_CAINFO_BLOB, &blob);
    g_curl->easy_setopt(c, CURLOPT_CAPATH, nullptr);
    g_curl->easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    g_curl->easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    // PASV, and connect where it says: EPSV replies carry no address, and libcurl would
    // otherwise ignore the PASV address and hide a wrong one.
    g_curl->easy_setopt(c, CURLOPT_FTP_USE_EPSV, 0L);
    g_curl->easy_setopt(c, CURLOPT_FTP_SKIP_PASV_IP, 0L);
    Multi multi(g_curl->multi_init());
    if (!multi) return fail("libcurl: cannot create a multi handle");
    return FtpsSession{std::move(multi), std::move(*easy)};
}

std::string ftp_base(const ProbeTarget& t) { return "ftp://" + t.ip + ":" + std::to_string(t.ftp_port) + "/"; }

// Upload and delete share one logged-in FTPS session (libcurl keeps the control
// connection of an easy handle open between transfers): one TLS handshake and one
// PAM login per probe, as a customer's client would do it.
Result<void> ftp_upload(FtpsSession& session, const ProbeTarget& t, const std::string& rel_path, std::string_view content,
                        const std::string& user, const std::string& password, char* errbuf) {
    const std::string url = ftp_base(t) + rel_path;
    const std::string what = "FTPS login as " + user + " and upload of " + rel_path + " to " + t.ip;
    CURL* c = session.easy.get();
    g_curl->easy_setopt(c, CURLOPT_URL, url.c_str());
    Upload up{content};
    g_curl->easy_setopt(c, CURLOPT_UPLOAD, 1L);
    g_curl->easy_setopt(c, CURLOPT_READFUNCTION, read_upload);
    g_curl->easy_setopt(c, CURLOPT_READDATA, &up);
    g_curl->easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(content.size()));
    if (CURLcode rc = perform(session); rc != CURLE_OK) return fail(what + ": " + curl_failure(rc, errbuf, password));
    return {};
}

Result<void> ftp_delete(FtpsSession& session, const ProbeTarget& t, const std::string& rel_path, const std::string& password,
                        char* errbuf) {
    const std::string what = "FTPS delete of " + rel_path + " on " + t.ip;
    CURL* c = session.easy.get();
    const std::string base = ftp_base(t);
    g_curl->easy_setopt(c, CURLOPT_URL, base.c_str());
    g_curl->easy_setopt(c, CURLOPT_UPLOAD, 0L);
    Slist quote(g_curl->slist_append(nullptr, ("DELE /" + rel_path)  /* absolute: after the upload the session is in www/ */.c_str()));
    g_curl->easy_setopt(c, CURLOPT_QUOTE, quote.get());
    g_curl->easy_setopt(c, CURLOPT_NOBODY, 1L);  // no listing: only log in and run the DELE
    g_curl->easy_setopt(c, CURLOPT_WRITEFUNCTION, discard_body);
    if (CURLcode rc = perform(session); rc != CURLE_OK) return fail(what + ": " + curl_failure(rc, errbuf, password));
    return {};
}

// What the web server must answer for the uploaded probe: its bytes, or for a PHP probe the
// answer its script computed.
struct Expected {
    std::string body;
    bool php = false;
};

Result<void> read_back(const ProbeTarget& t, const std::string& name, const Expected& expected) {
    auto reply = http_get(t, "/" + name);
    // php-fpm starts beside nginx, which start waits for: right after a start its socket may
    // not listen yet, and nginx answers 502 (CI saw it). Give php-fpm up to 3 s to come up.
    for (int i = 0; expected.php && reply && reply->status == 502 && i < 50; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(60));
        reply = http_get(t, "/" + name);
    }
    if (!reply) return std::unexpected(reply.error().context("read back the uploaded probe"));
    const std::string what = "read back the uploaded probe: GET " + http_url(t, "/" + name) + " (Host: " + t.domain + ")";
    if (expected.php && (reply->status == 502 || reply->status == 504))
        return fail(what + ": HTTP " + std::to_string(reply->status) +
                    " (nginx cannot reach php-fpm: see the jail's logs/php-fpm.log and logs/error.log)");
    if (reply->status != 200)
        return fail(what + ": HTTP " + std::to_string(reply->status) +
                    (expected.php ? " (PHP is not enabled for this site, or the upload is unreadable to it)"
                                  : " (the FTP upload went somewhere the web server does not serve, or is unreadable to it)"));
    if (expected.php && reply->body != expected.body)
        return fail(what + ": PHP did not run the script: expected its answer " + expected.body.substr(0, expected.body.size() - 1) +
                    ", got " + std::to_string(reply->body.size()) + " bytes" +
                    (reply->body.starts_with("<?php") ? " of the script's source" : ""));
    if (reply->body != expected.body)
        return fail(what + ": the content differs from what was uploaded (" + std::to_string(reply->body.size()) +
                    " bytes instead of " + std::to_string(expected.body.size()) + ")");
    return {};
}

}  // namespace

// A TCP connection to ip:port over a plain socket; connect, and later send and receive, each
// give up after 1 s. `what` names the check in the error.
Result<Fd> connect_tcp(const std::string& ip, uint16_t port, const std::string& what) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    if (::inet_pton(AF_INET, ip.c_str(), &addr.sin_addr) != 1) return fail_input("ip", ip + " is not an IPv4 address");
    Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd.valid()) return fail_errno(what + ": socket", errno);
    timeval second{1, 0};
    ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &second, sizeof second);  // also bounds connect
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &second, sizeof second);
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
        return fail_errno(what + ": connect", errno);
    return fd;
}

Result<void> tcp_accepts(const std::string& ip, uint16_t port) {
    auto fd = connect_tcp(ip, port, "TCP " + ip + ":" + std::to_string(port));
    if (!fd) return std::unexpected(fd.error());
    return {};
}

Result<void> http_answers(const ProbeTarget& t, std::string_view expected) {
    const std::string what = "HTTP " + t.ip + ":" + std::to_string(t.http_port);
    auto connected = connect_tcp(t.ip, t.http_port, what);
    if (!connected) return std::unexpected(connected.error());
    const Fd fd = std::move(*connected);
    std::string request = "GET / HTTP/1.0\r\nHost: " + t.domain + "\r\nConnection: close\r\n\r\n";
    if (::send(fd.get(), request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size()))
        return fail_errno(what + ": send", errno);
    char buf[64];
    std::size_t got = 0;
    while (got < 12) {  // "HTTP/1.1 200"
        ssize_t n = ::recv(fd.get(), buf + got, sizeof buf - got, 0);
        if (n < 0) return fail_errno(what + ": receive", errno);
        if (n == 0) break;
        got += static_cast<std::size_t>(n);
    }
    std::string_view status(buf, got);
    if (!status.starts_with("HTTP/1.")) return fail(what + ": not an HTTP answer");
    if (status.size() < 12 || status.substr(9, 3) != expected)
        return fail(what + ": status " + std::string(status.substr(9, std::min<std::size_t>(3, status.size() - 9))));
    return {};
}

std::string describe_curl_code(int code) {
    switch (code) {
        case CURLE_COULDNT_CONNECT: return "cannot connect (nothing listens there, or the address is unreachable)";
        case CURLE_OPERATION_TIMEDOUT: return "timeout (no answer in time: address not routed, or a firewall drops it)";
        case CURLE_LOGIN_DENIED: return "login denied (wrong user or password, or the account is refused by PAM)";
        case CURLE_USE_SSL_FAILED: return "TLS not available (the server refused AUTH TLS)";
        case CURLE_SSL_CONNECT_ERROR: return "TLS handshake failed (certificate, key or ciphers of the server)";
        case CURLE_PEER_FAILED_VERIFICATION:
            return "certificate mismatch (the server presents a certificate other than the jail's, or not for this IP)";
        case CURLE_REMOTE_ACCESS_DENIED: return "permission denied by the server (directory or file not accessible)";
        case CURLE_UPLOAD_FAILED: return "upload denied (no write permission in www/, or the disk is full)";
        case CURLE_QUOTE_ERROR: return "the server refused the command";
        case CURLE_FTP_WEIRD_PASV_REPLY:
        case CURLE_FTP_CANT_GET_HOST:
        case CURLE_FTP_ACCEPT_FAILED:
            return "passive data connection failed (passive address or ports 40000-40099 unreachable)";
        case CURLE_WEIRD_SERVER_REPLY: return "unexpected reply (the service on that port failed or is not the expected one)";
        case CURLE_GOT_NOTHING: return "the server closed the connection without replying";
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR: return "the connection broke off";
        case CURLE_WRITE_ERROR: return "the response was too large";
        default: return g_curl ? g_curl->easy_strerror(static_cast<CURLcode>(code)) : "libcurl error " + std::to_string(code);
    }
}

Result<void> probe_http(const ProbeTarget& target, std::string_view expect) {
    auto reply = http_get(target, "/");
    if (!reply) return std::unexpected(reply.error());
    const std::string what = "GET " + http_url(target, "/") + " (Host: " + target.domain + ")";
    if (expect.empty()) {
        if (reply->status >= 500)
            return fail(what + ": HTTP " + std::to_string(reply->status) + " (a server error: see the jail's logs/error.log)");
        return {};
    }
    if (reply->status != 200) return fail(what + ": HTTP " + std::to_string(reply->status) + " instead of 200");
    if (reply->body.find(expect) == std::string::npos)
        return fail(what + ": the page does not contain \"" + std::string(expect) + "\"");
    return {};
}

Result<void> probe_https_redirect(const ProbeTarget& target) {
    ProbeTarget plain = target;
    plain.site_cert_pem.clear();
    auto reply = http_get(plain, "/");
    if (!reply) return std::unexpected(reply.error());
    const std::string what = "GET " + http_url(plain, "/") + " (Host: " + target.domain + ")";
    const std::string want = "https://" + target.domain + "/";
    if (reply->status != 301 || reply->location != want)
        return fail(what + ": HTTP " + std::to_string(reply->status) +
                    (reply->location.empty() ? "" : " to " + reply->location) + " instead of 301 to " + want +
                    " (the site is https-only)");
    return {};
}

Result<void> probe_ftp(const ProbeTarget& target, const std::string& user, const std::string& password,
                       const std::string& cert_pem, bool php) {
    // Not a dotfile: a static site refuses those (403), see nginx.cc.
    const std::string name = "jailctl-probe-" + random_hex(8) + (php ? ".php" : ".txt");
    const std::string rel_path = "www/" + name;
    std::string content = "jailctl probe " + random_hex(32) + "\n";
    Expected expected{content, php};
    if (php) {
        // The same upload proves PHP runs: a product only an interpreter can print (< 2^48).
        const uint64_t a = std::stoull(random_hex(3), nullptr, 16) | 1, b = std::stoull(random_hex(3), nullptr, 16) | 1;
        content = "<?php echo " + std::to_string(a) + " * " + std::to_string(b) + ", \"\\n\";\n";
        expected.body = std::to_string(a * b) + "\n";
    }
    char errbuf[CURL_ERROR_SIZE];
    auto session = ftps_session(ftp_base(target), user, password, cert_pem, errbuf);
    if (!session) return std::unexpected(session.error().context("FTPS session as " + user));
    if (auto r = ftp_upload(*session, target, rel_path, content, user, password, errbuf); !r) return r;
    auto read = read_back(target, name, expected);
    auto removed = ftp_delete(*session, target, rel_path, password, errbuf);
    if (!read && !removed)
        return fail(read.error().message + "; and the probe file could not be removed: " + removed.error().message);
    if (!read) return read;
    return removed;
}

}  // namespace jailctl
