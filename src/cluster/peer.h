// Calls from one host to another's serve (docs/FLEET.md): HTTPS with the peer's certificate
// pinned by its SHA-256 fingerprint (recorded when the peer joined) — the handshake fails on
// any other certificate, whoever signed it — and the cluster's token as the bearer.
#pragma once

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "util/result.h"

namespace jailctl {

struct Peer {
    std::string api_url;      // https://HOST:PORT
    std::string fingerprint;  // "AB:CD:..." as certificate_fingerprint() writes it
    std::string token;        // the cluster's bearer token
};

// GET `path` on the peer; the JSON body of a 200 answer. Anything else (unreachable, wrong
// certificate, another status) is an error naming the peer.
Result<nlohmann::json> peer_get(const Peer& peer, const std::string& path,
                                std::chrono::milliseconds timeout = std::chrono::seconds(2));

}  // namespace jailctl
