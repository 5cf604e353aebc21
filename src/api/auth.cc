#include "api/auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cctype>

#include "util/text.h"

namespace jailctl::api {

std::optional<Role> parse_role(const std::string& name) {
    if (name == "viewer") return Role::Viewer;
    if (name == "operator") return Role::Operator;
    if (name == "admin") return Role::Admin;
    return std::nullopt;
}

const char* role_name(Role role) {
    return role == Role::Admin ? "admin" : role == Role::Operator ? "operator" : "viewer";
}

Result<std::string> new_token() {
    unsigned char bytes[32];
    if (RAND_bytes(bytes, sizeof bytes) != 1) return fail(ErrorKind::HostNotReady, "token: the random generator failed");
    return "jct_" + hex(bytes);
}

std::string token_hash(const std::string& token) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(token.data(), token.size(), digest, &len, EVP_sha256(), nullptr);
    return hex({digest, len});
}

Result<void> check_token_name(const std::string& name) {
    if (name.empty() || name.size() > 64) return fail_input("name", "must be 1 to 64 characters");
    if (name[0] == '-' || name[0] == '.') return fail_input("name", "must not start with '-' or '.'");
    for (char c : name)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-')
            return fail_input("name", "'" + name + "' has a character other than letters, digits, '.', '_', '-'");
    return {};
}

std::optional<TokenRecord> match_token(const std::vector<TokenRecord>& tokens, const std::string& presented) {
    const std::string hash = token_hash(presented);
    std::optional<TokenRecord> found;
    for (const auto& t : tokens) {
        // every stored hash is compared in full, whether or not one matched already
        bool same = t.hash.size() == hash.size() && CRYPTO_memcmp(t.hash.data(), hash.data(), hash.size()) == 0;
        if (same) found = t;
    }
    return found;
}

void FailureLimiter::prune(std::vector<Clock::time_point>& times, Clock::time_point now) const {
    std::erase_if(times, [&](auto t) { return now - t >= window_; });
}

int64_t FailureLimiter::blocked_for(const std::string& address, Clock::time_point now) {
    std::lock_guard lock(mu_);
    auto it = failures_.find(address);
    if (it == failures_.end()) return 0;
    prune(it->second, now);
    if (it->second.empty()) {
        failures_.erase(it);
        return 0;
    }
    if (static_cast<int>(it->second.size()) < max_) return 0;
    auto wait = std::chrono::ceil<std::chrono::seconds>(it->second.front() + window_ - now).count();
    return std::max<int64_t>(wait, 1);
}

void FailureLimiter::failed(const std::string& address, Clock::time_point now) {
    std::lock_guard lock(mu_);
    // a flood of addresses cannot grow the table without bound: forget the oldest entries
    if (failures_.size() > 10000) failures_.clear();
    auto& times = failures_[address];
    prune(times, now);
    times.push_back(now);
}

}  // namespace jailctl::api
