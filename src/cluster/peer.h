// Calls from one host to another's serve (docs/FLEET.md): HTTPS with the peer's certificate
// pinned by its SHA-256 fingerprint (recorded when the peer joined) — the handshake fails on
// any other certificate, whoever signed it — and the cluster's token as the bearer.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "util/result.h"

namespace jailctl {

struct Peer {
    std::string api_url;      // https://HOST:PORT
    std::string fingerprint;  // "AB:CD:..." as certificate_fingerprint() writes it
    std::string token;        // the cluster's bearer token
};

struct PeerAnswer {
    int status = 0;
    nlohmann::json body;  // null when the body is not JSON
};

// One connection to the peer, kept open across requests (HTTP keep-alive; reopened when the
// peer closed it): a console's keys and output polls. One thread at a time; stop() from another.
class PeerConnection {
public:
    static Result<PeerConnection> open(const Peer& peer, std::chrono::milliseconds timeout);
    PeerConnection(PeerConnection&&) noexcept;
    PeerConnection& operator=(PeerConnection&&) noexcept;
    ~PeerConnection();
    // `body` sent as `content_type` (POST); the answer's body as bytes (`raw`) or JSON.
    Result<PeerAnswer> send(const std::string& method, const std::string& path, const std::string& body = {},
                            const std::string& content_type = "application/json", std::string* raw = nullptr);
    void stop();  // ends the request in flight (it fails): another thread's way out

private:
    struct Impl;
    explicit PeerConnection(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

// One request to the peer (method GET, POST or DELETE; `body` sent as JSON unless null).
// Unreachable or a wrong certificate is an error naming the peer; any HTTP status is an answer.
Result<PeerAnswer> peer_request(const Peer& peer, const std::string& method, const std::string& path,
                                const nlohmann::json& body = nullptr,
                                std::chrono::milliseconds timeout = std::chrono::seconds(2));

// GET `path` on the peer, its body handed to `receive` as it arrives (false from it stops the
// transfer: an error). Any status but 200 is an error with the start of the body. `task`, when
// given, receives the answer's X-Jailctl-Task header: the task that writes the stream, whose
// end says whether the stream is whole (serve ends a failed export's stream like a good one).
Result<void> peer_stream(const Peer& peer, const std::string& path,
                         const std::function<bool(const char*, size_t)>& receive,
                         std::chrono::milliseconds timeout = std::chrono::seconds(30), std::string* task = nullptr);

// POSTs the bytes `next` gives (application/octet-stream), one request per piece of at most
// the API's body limit, over one connection, until `next` gives an empty piece; each must be
// answered 200. For an upload (POST /api/v1/uploads/{id}).
Result<void> peer_upload(const Peer& peer, const std::string& path, const std::function<Result<std::string>()>& next,
                         std::chrono::milliseconds timeout = std::chrono::seconds(30));

// GET `path` on the peer; the JSON body of a 200 answer, anything else an error.
Result<nlohmann::json> peer_get(const Peer& peer, const std::string& path,
                                std::chrono::milliseconds timeout = std::chrono::seconds(2));

}  // namespace jailctl
