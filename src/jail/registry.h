// The registry: one SQLite database (WAL) holding the jails, their id ranges, and
// the task journal. Domain and IP uniqueness is enforced by the database itself,
// so two concurrent creates cannot both register the same name or address.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "util/result.h"

namespace jailctl {

// Every jail's ids 0..65535 map to host ids id_base..id_base+65535, never shared:
// id_base = kIdBase + (registry id - 1) * kIdRangeSize. Registry ids are never reused
// (AUTOINCREMENT), so a destroyed jail's leftover files never get a new owner.
inline constexpr uint32_t kIdBase = 1u << 30;  // 1073741824, far above useradd's subuid ranges
inline constexpr uint32_t kIdRangeSize = 65536;
inline constexpr uint32_t kMaxJailIds = 32768;  // kIdBase + 32768 * 65536 = 3 * 2^30

struct JailRecord {
    int64_t id = 0;
    std::string domain;
    std::string ip;
    uint64_t size_bytes = 0;
    bool sparse = false;
    std::string ftp_user;
    std::string ftp_tls;  // "required" | "optional"
    uint32_t id_base = 0;
    std::string state;    // "creating" | "ready" | "destroying" | "broken"
    bool autostart = true;
    std::string created;  // RFC 3339 UTC
    std::string reason;   // why the jail is not runnable (state "broken")
    uint64_t memory_bytes = 256ull << 20;  // resource limits (host/limits.h)
    uint32_t millicpus = 1000;
    uint32_t pids = 512;
    std::string profile = "static";  // hosting profile: "static" | "php" (services/profile.h)
    // The web site (services/nginx.h): extra names, HTTP policy, where the certificate comes from.
    std::vector<std::string> aliases;  // sorted; held in host_names beside host_names(domain)
    bool https_only = false;
    std::string tls = "self-signed";   // "self-signed" | "custom" | "acme"
};

// An API token (jailctl token add): only the SHA-256 of the secret is stored.
struct TokenRecord {
    std::string name, role, hash;  // hash: lowercase hex
    std::string created, last_used;  // RFC 3339 UTC; last_used "" when never used
};

class Registry {
public:
    // Opens (and creates) the database; busy timeout 10 s for concurrent jailctl runs.
    static Result<Registry> open(const std::string& path);
    Registry(Registry&&) noexcept;
    Registry& operator=(Registry&&) noexcept;
    Registry(const Registry&) = delete;
    ~Registry();

    // Inserts a new jail in state "creating" and assigns id and id_base. A taken domain, IP
    // or host name (host_names(): a name another jail serves) is ErrorKind::Conflict naming
    // the field and the holder. A taken FTP user gets the first free ftp_user_variant()
    // ("examplecom-2"): the returned record has the user the jail must get.
    Result<JailRecord> insert_jail(JailRecord jail);
    // Which jail already serves one of `domain`'s host names: {name, holder's domain}.
    Result<std::optional<std::pair<std::string, std::string>>> host_name_holder(const std::string& domain);
    Result<std::optional<JailRecord>> find(const std::string& domain);
    Result<std::optional<JailRecord>> find_by_ip(const std::string& ip);
    Result<std::vector<JailRecord>> list();  // sorted by domain
    Result<void> set_state(const std::string& domain, const std::string& state, const std::string& reason = "");
    Result<void> remove(const std::string& domain);
    Result<void> remove_id(int64_t id);
    Result<void> set_size(const std::string& domain, uint64_t size_bytes);  // after grow
    Result<void> set_limits(const std::string& domain, uint64_t memory_bytes, uint32_t millicpus, uint32_t pids);
    Result<void> set_profile(const std::string& domain, const std::string& profile);  // set --profile
    Result<void> set_autostart(const std::string& domain, bool autostart);           // set --[no-]autostart
    // The web columns (https_only, tls) of a jail.
    Result<void> set_web(const std::string& domain, bool https_only, const std::string& tls);
    // One more name the jail serves: ErrorKind::Conflict naming the jail that already serves it
    // (this one included). Decided in one transaction, like insert_jail's names.
    Result<void> add_alias(const std::string& domain, const std::string& name);
    // False when `name` is not one of the jail's aliases (its own host_names never are).
    Result<bool> remove_alias(const std::string& domain, const std::string& name);
    // The jail's aliases become exactly `names` (restore --replace, and its undo), in one
    // transaction: ErrorKind::Conflict naming the jail that serves one of them already.
    Result<void> set_aliases(const std::string& domain, const std::vector<std::string>& names);
    // Which jail serves exactly `name` (a domain, www. form or alias); nullopt: none.
    Result<std::optional<std::string>> name_holder(const std::string& name);

    // Task journal.
    Result<int64_t> begin_task(const std::string& domain, const std::string& verb, const std::string& log_path);
    Result<void> record_step(int64_t task_id, int seq, const std::string& name, const std::string& status, double ms);
    Result<void> finish_task(int64_t task_id, const std::string& result, const std::string& error);
    // Tasks that started but never finished (the process died): what repair looks at.
    struct OpenTask { int64_t id; std::string domain, verb; int64_t pid; };
    Result<std::vector<OpenTask>> unfinished_tasks(const std::string& domain);
    Result<std::vector<OpenTask>> unfinished_tasks();  // of every jail (status: one query)
    // The last finished task of each verb, on any jail (metrics): result "OK" | "KO" |
    // "INTERRUPTED", finished in seconds since the epoch; sorted by verb.
    struct LastTask { std::string verb, result; int64_t finished = 0; };
    Result<std::vector<LastTask>> last_tasks();

    // API tokens (serve). A taken name is ErrorKind::Conflict.
    Result<void> add_token(const std::string& name, const std::string& role, const std::string& hash);
    Result<std::vector<TokenRecord>> list_tokens();  // sorted by name
    Result<bool> remove_token(const std::string& name);  // false: no such token
    Result<void> token_used(const std::string& name);

private:
    explicit Registry(sqlite3* db) : db_(db) {}
    Result<void> add_missing_columns();  // an older registry's jails table gains new columns
    Result<void> claim_host_names(int64_t jail_id, const std::string& domain);
    Result<void> read_aliases(JailRecord& jail);
    // The jail whose `column` (domain, ip: both unique) is `value`, with its aliases.
    Result<std::optional<JailRecord>> find_where(const char* column, const std::string& value);
    Result<std::string> unique_ftp_user(const std::string& wanted);
    Result<void> exec(const char* sql);
    sqlite3* db_ = nullptr;
};

// The conflict message for a host name `holder` already serves.
std::string host_name_conflict(const std::string& domain, const std::string& name, const std::string& holder);

}  // namespace jailctl
