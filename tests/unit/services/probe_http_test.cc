#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "services/probe.h"
#include "util/fd.h"

namespace jailctl {
namespace {

// A one-request HTTP server on 127.0.0.1 (ephemeral port) answering with a fixed reply
// and remembering the request it got.
class OneShotHttpServer {
public:
    OneShotHttpServer(int status, std::string body) : status_(status), body_(std::move(body)) {
        listener_ = Fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof addr;
        EXPECT_EQ(::bind(listener_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
        EXPECT_EQ(::listen(listener_.get(), 1), 0);
        EXPECT_EQ(::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&addr), &len), 0);
        port_ = ntohs(addr.sin_port);
        thread_ = std::thread([this] { serve(); });
    }
    ~OneShotHttpServer() {
        ::shutdown(listener_.get(), SHUT_RDWR);  // unblocks accept() if no request came
        thread_.join();
    }
    uint16_t port() const { return port_; }
    const std::string& request() const { return request_; }

private:
    void serve() {
        Fd conn(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (!conn.valid()) return;
        char buf[4096];
        while (request_.find("\r\n\r\n") == std::string::npos) {
            ssize_t n = ::read(conn.get(), buf, sizeof buf);
            if (n <= 0) return;
            request_.append(buf, static_cast<size_t>(n));
        }
        std::string reply = "HTTP/1.1 " + std::to_string(status_) + " X\r\nContent-Length: " +
                            std::to_string(body_.size()) + "\r\nConnection: close\r\n\r\n" + body_;
        [[maybe_unused]] ssize_t ignored = ::write(conn.get(), reply.data(), reply.size());
    }

    int status_;
    std::string body_;
    Fd listener_;
    uint16_t port_ = 0;
    std::string request_;
    std::thread thread_;
};

ProbeTarget local(uint16_t port) { return ProbeTarget{"127.0.0.1", "shop.example.com", port, 21}; }

TEST(ProbeHttp, OkOn200WithTheExpectedText) {
    OneShotHttpServer server(200, "<h1>shop.example.com</h1>");
    auto r = probe_http(local(server.port()), "shop.example.com");
    EXPECT_TRUE(r) << r.error().message;
    EXPECT_NE(server.request().find("GET / HTTP/1.1\r\n"), std::string::npos) << server.request();
    EXPECT_NE(server.request().find("\r\nHost: shop.example.com\r\n"), std::string::npos) << server.request();
}

TEST(ProbeHttp, EmptyExpectationAcceptsAny200) {
    OneShotHttpServer server(200, "");
    EXPECT_TRUE(probe_http(local(server.port()), ""));
}

// The customer's own site (""): a redirect, a login wall or no index is an answer; a server
// error is not.
TEST(ProbeHttp, EmptyExpectationAcceptsAnyAnswerButAServerError) {
    for (int status : {301, 302, 401, 403, 404}) {
        OneShotHttpServer server(status, "");
        auto r = probe_http(local(server.port()), "");
        EXPECT_TRUE(r) << status << ": " << r.error().message;
    }
    for (int status : {500, 502, 503}) {
        OneShotHttpServer server(status, "");
        auto r = probe_http(local(server.port()), "");
        ASSERT_FALSE(r) << status;
        EXPECT_NE(r.error().message.find("HTTP " + std::to_string(status) + " (a server error"), std::string::npos)
            << r.error().message;
    }
}

TEST(ProbeHttp, NotFoundIsAnError) {
    OneShotHttpServer server(404, "nope");
    auto r = probe_http(local(server.port()), "shop.example.com");
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("HTTP 404"), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("Host: shop.example.com"), std::string::npos) << r.error().message;
}

TEST(ProbeHttp, MissingTextIsAnError) {
    OneShotHttpServer server(200, "Welcome to nginx!");
    auto r = probe_http(local(server.port()), "shop.example.com");
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("does not contain \"shop.example.com\""), std::string::npos)
        << r.error().message;
}

TEST(ProbeHttp, RefusedConnectionSaysCannotConnect) {
    uint16_t port = 0;
    {
        OneShotHttpServer server(200, "");  // takes an ephemeral port, then frees it
        port = server.port();
    }
    auto r = probe_http(local(port), "");
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("cannot connect"), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("http://127.0.0.1:" + std::to_string(port) + "/"), std::string::npos)
        << r.error().message;
}

TEST(HttpAnswers, OkOn200WithTheHostHeader) {
    OneShotHttpServer server(200, "<h1>shop.example.com</h1>");
    auto r = http_answers(local(server.port()));
    EXPECT_TRUE(r) << r.error().message;
    EXPECT_NE(server.request().find("\r\nHost: shop.example.com\r\n"), std::string::npos) << server.request();
}

TEST(HttpAnswers, OtherStatusOrRefusedIsAnError) {
    OneShotHttpServer server(503, "busy");
    auto r = http_answers(local(server.port()));
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("status 503"), std::string::npos) << r.error().message;
    uint16_t port = 0;
    {
        OneShotHttpServer gone(200, "");
        port = gone.port();
    }
    auto refused = http_answers(local(port));
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().message.find("connect"), std::string::npos) << refused.error().message;
}

TEST(TcpAccepts, ListeningPortOrRefused) {
    uint16_t port = 0;
    {
        OneShotHttpServer server(200, "");  // listening: the connection is accepted
        port = server.port();
        auto r = tcp_accepts("127.0.0.1", port);
        EXPECT_TRUE(r) << r.error().message;
    }
    auto refused = tcp_accepts("127.0.0.1", port);  // freed: nothing listens there
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().message.find("127.0.0.1:" + std::to_string(port) + ": connect: Connection refused"),
              std::string::npos)
        << refused.error().message;
    auto bad = tcp_accepts("not-an-ip", 21);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().kind, ErrorKind::BadInput);
}

TEST(ProbeCodes, OperatorReadableCauses) {
    EXPECT_NE(describe_curl_code(67).find("login denied"), std::string::npos);
    EXPECT_NE(describe_curl_code(64).find("TLS"), std::string::npos);
    EXPECT_NE(describe_curl_code(35).find("TLS"), std::string::npos);
    EXPECT_NE(describe_curl_code(7).find("cannot connect"), std::string::npos);
    EXPECT_NE(describe_curl_code(28).find("timeout"), std::string::npos);
    EXPECT_NE(describe_curl_code(9).find("permission"), std::string::npos);
    EXPECT_NE(describe_curl_code(25).find("upload denied"), std::string::npos);
    EXPECT_NE(describe_curl_code(60).find("certificate mismatch"), std::string::npos);
}

TEST(ProbeFtp, RefusedConnectionNamesTheStepButNotThePassword) {
    uint16_t port = 0;
    {
        OneShotHttpServer server(200, "");
        port = server.port();
    }
    ProbeTarget t{"127.0.0.1", "shop.example.com", 80, port};
    auto r = probe_ftp(t, "shopexamplecom", "S3cretPassw0rdXYZ", "-----BEGIN CERTIFICATE-----\n");
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("upload"), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("cannot connect"), std::string::npos) << r.error().message;
    EXPECT_EQ(r.error().message.find("S3cretPassw0rdXYZ"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace jailctl
