// serve's authentication: bearer tokens (only their SHA-256 is stored), roles, and the
// limiter that slows down an address that keeps presenting wrong tokens.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "jail/registry.h"
#include "util/result.h"

namespace jailctl::api {

// viewer: read only; operator: day-to-day actions on existing jails; admin: everything.
enum class Role { Viewer = 0, Operator = 1, Admin = 2 };

std::optional<Role> parse_role(const std::string& name);
const char* role_name(Role role);
inline bool role_allows(Role have, Role need) { return static_cast<int>(have) >= static_cast<int>(need); }

// A new secret: 256 random bits, "jct_" + 64 hex digits.
Result<std::string> new_token();
// Lowercase hex SHA-256 of the token's text.
std::string token_hash(const std::string& token);
// Token names: 1-64 of [A-Za-z0-9._-], not starting with '-' or '.'.
Result<void> check_token_name(const std::string& name);

// The token whose hash matches, compared in constant time against every stored hash
// (the time taken does not tell how much of a guess was right).
std::optional<TokenRecord> match_token(const std::vector<TokenRecord>& tokens, const std::string& presented);

// Failed authentications per client address: after `max_failures` within `window`,
// the address is refused (429) until its oldest counted failure leaves the window.
class FailureLimiter {
public:
    using Clock = std::chrono::steady_clock;
    explicit FailureLimiter(int max_failures = 5, std::chrono::seconds window = std::chrono::seconds(60))
        : max_(max_failures), window_(window) {}
    // Seconds the address must still wait (0: it may try).
    int64_t blocked_for(const std::string& address, Clock::time_point now = Clock::now());
    void failed(const std::string& address, Clock::time_point now = Clock::now());

private:
    void prune(std::vector<Clock::time_point>& times, Clock::time_point now) const;
    std::mutex mu_;
    int max_;
    std::chrono::seconds window_;
    std::map<std::string, std::vector<Clock::time_point>> failures_;
};

}  // namespace jailctl::api
