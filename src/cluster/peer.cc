#include "cluster/peer.h"

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <httplib.h>

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

Result<PeerAnswer> peer_request(const Peer& peer, const std::string& method, const std::string& path,
                                const nlohmann::json& body, std::chrono::milliseconds timeout) {
    const std::string where = peer.api_url + path;
    if (!peer.api_url.starts_with("https://")) return fail("peer " + where + ": not an https:// URL");
    std::string host_port = peer.api_url.substr(8);
    auto colon = host_port.rfind(':');
    if (colon == std::string::npos) return fail("peer " + where + ": no port");
    int port = std::atoi(host_port.c_str() + colon + 1);
    httplib::SSLClient client(host_port.substr(0, colon), port);
    // httplib's own check (a CA, the host name) is off; the pin below is stricter.
    client.enable_server_certificate_verification(false);
    SSL_CTX* ctx = client.ssl_context();
    if (!ctx) return fail("peer " + where + ": no TLS context");
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    SSL_CTX_set_cert_verify_callback(ctx, verify_pinned, const_cast<std::string*>(&peer.fingerprint));
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(timeout);
    client.set_connection_timeout(us);
    client.set_read_timeout(us);
    client.set_bearer_token_auth(peer.token);
    const std::string text = body.is_null() ? "" : body.dump();
    httplib::Result res = method == "POST"     ? client.Post(path, text, "application/json")
                          : method == "DELETE" ? client.Delete(path)
                                               : client.Get(path);
    if (!res) {
        std::string why = httplib::to_string(res.error());
        if (res.error() == httplib::Error::Connection) why = "cannot connect (is serve running there?)";
        if (res.error() == httplib::Error::SSLConnection)
            why += " (is the certificate still the one pinned at join? its fingerprint must be " + peer.fingerprint + ")";
        return fail("peer " + where + ": " + why);
    }
    auto answer = nlohmann::json::parse(res->body, nullptr, false);
    return PeerAnswer{res->status, answer.is_discarded() ? nlohmann::json(nullptr) : std::move(answer)};
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
