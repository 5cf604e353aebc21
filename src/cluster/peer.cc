#include "cluster/peer.h"

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <httplib.h>

#include <memory>

#include "util/text.h"

namespace jailctl {
namespace {

// OpenSSL's verification, replaced: the leaf certificate's SHA-256 must be the pinned one.
int verify_pinned(X509_STORE_CTX* store, void* arg) {
    const auto* expected = static_cast<const std::string*>(arg);
    X509* cert = X509_STORE_CTX_get0_cert(store);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (!cert || X509_digest(cert, EVP_sha256(), digest, &length) != 1) return 0;
    return hex(std::span<const unsigned char>(digest, length), {.upper = true, .separator = ':'}) == *expected ? 1 : 0;
}

}  // namespace

namespace {

// A client for the peer: its certificate pinned, the cluster's token as the bearer.
Result<std::unique_ptr<httplib::SSLClient>> pinned_client(const Peer& peer, const std::string& where,
                                                          std::chrono::milliseconds timeout) {
    if (!peer.api_url.starts_with("https://")) return fail("peer " + where + ": not an https:// URL");
    std::string host_port = peer.api_url.substr(8);
    auto colon = host_port.rfind(':');
    if (colon == std::string::npos) return fail("peer " + where + ": no port");
    int port = std::atoi(host_port.c_str() + colon + 1);
    auto client = std::make_unique<httplib::SSLClient>(host_port.substr(0, colon), port);
    // httplib's own check (a CA, the host name) is off; the pin below is stricter.
    client->enable_server_certificate_verification(false);
    SSL_CTX* ctx = client->ssl_context();
    if (!ctx) return fail("peer " + where + ": no TLS context");
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    SSL_CTX_set_cert_verify_callback(ctx, verify_pinned, const_cast<std::string*>(&peer.fingerprint));
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(timeout);
    client->set_connection_timeout(us);
    client->set_read_timeout(us);
    client->set_bearer_token_auth(peer.token);
    return client;
}

std::unexpected<Error> unreachable(const Peer& peer, const std::string& where, httplib::Error e) {
    std::string why = httplib::to_string(e);
    if (e == httplib::Error::Connection) why = "cannot connect (is serve running there?)";
    if (e == httplib::Error::SSLConnection)
        why += " (is the certificate still the one pinned at join? its fingerprint must be " + peer.fingerprint + ")";
    return fail("peer " + where + ": " + why);
}

}  // namespace

struct PeerConnection::Impl {
    std::unique_ptr<httplib::SSLClient> client;
    Peer peer;  // the fingerprint the pin callback reads lives here
};

PeerConnection::PeerConnection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PeerConnection::PeerConnection(PeerConnection&&) noexcept = default;
PeerConnection& PeerConnection::operator=(PeerConnection&&) noexcept = default;
PeerConnection::~PeerConnection() = default;

Result<PeerConnection> PeerConnection::open(const Peer& peer, std::chrono::milliseconds timeout) {
    auto impl = std::make_unique<Impl>();
    impl->peer = peer;
    auto client = pinned_client(impl->peer, peer.api_url, timeout);
    if (!client) return std::unexpected(client.error());
    impl->client = std::move(*client);
    impl->client->set_keep_alive(true);
    return PeerConnection(std::move(impl));
}

Result<PeerAnswer> PeerConnection::send(const std::string& method, const std::string& path, const std::string& body,
                                        const std::string& content_type, std::string* raw) {
    httplib::SSLClient& c = *impl_->client;
    httplib::Result res = method == "POST"     ? c.Post(path, body, content_type)
                          : method == "DELETE" ? c.Delete(path)
                                               : c.Get(path);
    if (!res) return unreachable(impl_->peer, impl_->peer.api_url + path, res.error());
    if (raw) *raw = res->body;
    auto answer = nlohmann::json::parse(res->body, nullptr, false);
    return PeerAnswer{res->status, answer.is_discarded() ? nlohmann::json(nullptr) : std::move(answer)};
}

void PeerConnection::stop() { impl_->client->stop(); }

Result<PeerAnswer> peer_request(const Peer& peer, const std::string& method, const std::string& path,
                                const nlohmann::json& body, std::chrono::milliseconds timeout) {
    auto c = PeerConnection::open(peer, timeout);
    if (!c) return std::unexpected(c.error());
    return c->send(method, path, body.is_null() ? "" : body.dump());
}

Result<void> peer_stream(const Peer& peer, const std::string& path,
                         const std::function<bool(const char*, size_t)>& receive, std::chrono::milliseconds timeout,
                         std::string* task) {
    const std::string where = peer.api_url + path;
    auto client = pinned_client(peer, where, timeout);
    if (!client) return std::unexpected(client.error());
    int status = 0;
    std::string refusal;  // the body of an answer that is not 200 (its JSON error)
    httplib::Result res = (*client)->Get(
        path,
        [&](const httplib::Response& r) {
            status = r.status;
            if (task) *task = r.get_header_value("X-Jailctl-Task");
            return true;
        },
        [&](const char* data, size_t n) {
            if (status == 200) return receive(data, n);
            if (refusal.size() < 4096) refusal.append(data, n);
            return true;
        });
    if (status != 0 && status != 200)
        return fail("peer " + where + ": HTTP " + std::to_string(status) + " " + quote_input(refusal.substr(0, 300)));
    if (!res) return unreachable(peer, where, res.error());
    return {};
}

Result<void> peer_upload(const Peer& peer, const std::string& path, const std::function<Result<std::string>()>& next,
                         std::chrono::milliseconds timeout) {
    auto c = PeerConnection::open(peer, timeout);
    if (!c) return std::unexpected(c.error());
    for (;;) {
        auto piece = next();
        if (!piece) return std::unexpected(piece.error());
        if (piece->empty()) return {};
        std::string body;
        auto res = c->send("POST", path, *piece, "application/octet-stream", &body);
        if (!res) return std::unexpected(res.error());
        if (res->status != 200)
            return fail("peer " + peer.api_url + path + ": HTTP " + std::to_string(res->status) + " " +
                        quote_input(body.substr(0, 300)));
    }
}

Result<nlohmann::json> peer_get(const Peer& peer, const std::string& path, std::chrono::milliseconds timeout) {
    auto answer = peer_request(peer, "GET", path, nullptr, timeout);
    if (!answer) return std::unexpected(answer.error());
    if (answer->status != 200 || answer->body.is_null())
        return fail("peer " + peer.api_url + path + ": HTTP " + std::to_string(answer->status) +
                    (answer->body.is_null() ? ", not JSON" : " " + quote_input(answer->body.dump())));
    return std::move(answer->body);
}

}  // namespace jailctl
