#include "jail/registry.h"

#include "jail/domain.h"
#include "jail/ftp_user.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <utility>

namespace jailctl {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS jails(
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  domain     TEXT NOT NULL UNIQUE,
  ip         TEXT NOT NULL UNIQUE,
  size_bytes INTEGER NOT NULL,
  sparse     INTEGER NOT NULL,
  ftp_user   TEXT NOT NULL,
  ftp_tls    TEXT NOT NULL,
  id_base    INTEGER NOT NULL,
  state      TEXT NOT NULL,
  autostart  INTEGER NOT NULL DEFAULT 1,
  created    TEXT NOT NULL,
  reason     TEXT NOT NULL DEFAULT '',
  memory_bytes INTEGER NOT NULL DEFAULT 268435456,
  millicpus    INTEGER NOT NULL DEFAULT 1000,
  pids         INTEGER NOT NULL DEFAULT 512,
  profile      TEXT NOT NULL DEFAULT 'static',
  https_only   INTEGER NOT NULL DEFAULT 0,
  tls          TEXT NOT NULL DEFAULT 'self-signed'
);
-- Every host name a jail serves (Domain host_names(): the domain and its www. form; and its
-- aliases, the other rows): a name is served by one jail only. Rows go with their jail (ON DELETE CASCADE).
CREATE TABLE IF NOT EXISTS host_names(
  name    TEXT PRIMARY KEY,
  jail_id INTEGER NOT NULL REFERENCES jails(id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS tasks(
  id       INTEGER PRIMARY KEY AUTOINCREMENT,
  domain   TEXT NOT NULL,
  verb     TEXT NOT NULL,
  pid      INTEGER NOT NULL,
  started  TEXT NOT NULL,
  finished TEXT,
  result   TEXT,
  error    TEXT,
  log      TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS task_steps(
  task_id INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
  seq     INTEGER NOT NULL,
  name    TEXT NOT NULL,
  status  TEXT NOT NULL,
  ms      REAL NOT NULL,
  PRIMARY KEY(task_id, name)
);
CREATE TABLE IF NOT EXISTS api_tokens(
  name      TEXT PRIMARY KEY,
  role      TEXT NOT NULL,
  hash      TEXT NOT NULL UNIQUE,
  created   TEXT NOT NULL,
  last_used TEXT
);
)sql";

// Columns added to `jails` after its first release. CREATE TABLE IF NOT EXISTS leaves an
// older registry's table as it was, so open() adds each missing one with its default: an
// upgrade never needs a manual step, and a downgrade reads the columns it knows. A new
// column goes both into kSchema (new registries) and here (old ones), with a DEFAULT.
struct AddedColumn { const char* name; const char* definition; };
constexpr AddedColumn kAddedJailColumns[] = {
    {"autostart", "INTEGER NOT NULL DEFAULT 1"},
    {"reason", "TEXT NOT NULL DEFAULT ''"},
    {"memory_bytes", "INTEGER NOT NULL DEFAULT 268435456"},
    {"millicpus", "INTEGER NOT NULL DEFAULT 1000"},
    {"pids", "INTEGER NOT NULL DEFAULT 512"},
    {"profile", "TEXT NOT NULL DEFAULT 'static'"},
    {"https_only", "INTEGER NOT NULL DEFAULT 0"},
    {"tls", "TEXT NOT NULL DEFAULT 'self-signed'"},
};

constexpr const char* kJailColumns =
    "id, domain, ip, size_bytes, sparse, ftp_user, ftp_tls, id_base, state, autostart, created, reason, "
    "memory_bytes, millicpus, pids, profile, https_only, tls";

// A prepared statement that finalizes itself.
class Stmt {
public:
    Stmt(sqlite3* db, const char* sql) : db_(db) { rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr); }
    ~Stmt() { sqlite3_finalize(stmt_); }
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;

    bool ok() const { return rc_ == SQLITE_OK; }
    Stmt& bind(int i, const std::string& v) {
        sqlite3_bind_text(stmt_, i, v.c_str(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
        return *this;
    }
    Stmt& bind(int i, int64_t v) {
        sqlite3_bind_int64(stmt_, i, v);
        return *this;
    }
    Stmt& bind(int i, double v) {
        sqlite3_bind_double(stmt_, i, v);
        return *this;
    }
    int step() { return sqlite3_step(stmt_); }
    std::string text(int col) const {
        auto p = sqlite3_column_text(stmt_, col);
        return p ? reinterpret_cast<const char*>(p) : "";
    }
    int64_t integer(int col) const { return sqlite3_column_int64(stmt_, col); }
    std::string error() const { return sqlite3_errmsg(db_); }

private:
    sqlite3* db_;
    sqlite3_stmt* stmt_ = nullptr;
    int rc_;
};

std::string now_rfc3339() {
    auto now = std::chrono::system_clock::now();
    std::time_t secs = std::chrono::system_clock::to_time_t(now);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

JailRecord read_jail(const Stmt& s) {
    JailRecord j;
    j.id = s.integer(0);
    j.domain = s.text(1);
    j.ip = s.text(2);
    j.size_bytes = static_cast<uint64_t>(s.integer(3));
    j.sparse = s.integer(4) != 0;
    j.ftp_user = s.text(5);
    j.ftp_tls = s.text(6);
    j.id_base = static_cast<uint32_t>(s.integer(7));
    j.state = s.text(8);
    j.autostart = s.integer(9) != 0;
    j.created = s.text(10);
    j.reason = s.text(11);
    j.memory_bytes = static_cast<uint64_t>(s.integer(12));
    j.millicpus = static_cast<uint32_t>(s.integer(13));
    j.pids = static_cast<uint32_t>(s.integer(14));
    j.profile = s.text(15);
    j.https_only = s.integer(16) != 0;
    j.tls = s.text(17);
    return j;
}

std::unexpected<Error> db_error(const std::string& what, const Stmt& s) {
    return fail("registry: " + what + ": " + s.error());
}

}  // namespace

Result<Registry> Registry::open(const std::string& path) {
    sqlite3* db = nullptr;
    int rc = sqlite3_open_v2(path.c_str(), &db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
    Registry reg(db);
    if (rc != SQLITE_OK) return fail("open registry " + path + ": " + sqlite3_errstr(rc));
    sqlite3_busy_timeout(db, 10000);
    // WAL: readers (status) never wait for a writer; NORMAL sync is durable across
    // process crashes, which is what the journal must survive. Switching a new database
    // to WAL can fail with "locked" without waiting when many jailctl processes open it
    // at once (parallel creates on a fresh host): retry for up to 10 s.
    Result<void> setup;
    for (int attempt = 0; attempt < 200; ++attempt) {
        setup = reg.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;");
        if (setup) setup = reg.exec(kSchema);
        if (setup || (setup.error().message.find("locked") == std::string::npos &&
                      setup.error().message.find("busy") == std::string::npos))
            break;
        ::usleep(50 * 1000);
    }
    if (!setup) return std::unexpected(setup.error());
    setup = reg.add_missing_columns();
    if (!setup) return std::unexpected(setup.error());
    // Jails registered before host names were recorded claim theirs now (once; cheap after).
    setup = reg.exec("BEGIN IMMEDIATE");
    if (setup) {
        std::vector<std::pair<int64_t, std::string>> unclaimed;
        {
            Stmt old(db, "SELECT id, domain FROM jails WHERE id NOT IN (SELECT jail_id FROM host_names)");
            while (old.step() == SQLITE_ROW) unclaimed.emplace_back(old.integer(0), old.text(1));
        }
        for (const auto& [id, domain] : unclaimed)
            if (setup) setup = reg.claim_host_names(id, domain);
        if (setup) setup = reg.exec("COMMIT");
        else (void)reg.exec("ROLLBACK");
    }
    if (!setup) return std::unexpected(setup.error());
    return reg;
}

Result<void> Registry::add_missing_columns() {
    std::vector<std::string> present;
    {
        Stmt info(db_, "SELECT name FROM pragma_table_info('jails')");
        while (info.step() == SQLITE_ROW) present.push_back(info.text(0));
    }
    for (const auto& column : kAddedJailColumns) {
        if (std::ranges::find(present, column.name) != present.end()) continue;
        auto sql = std::string("ALTER TABLE jails ADD COLUMN ") + column.name + " " + column.definition;
        auto added = exec(sql.c_str());
        // Another jailctl opening the same old registry may have added it first.
        if (!added && added.error().message.find("duplicate column") == std::string::npos) return added;
    }
    return {};
}

Registry::Registry(Registry&& o) noexcept : db_(std::exchange(o.db_, nullptr)) {}
Registry& Registry::operator=(Registry&& o) noexcept {
    if (this != &o) {
        if (db_) sqlite3_close(db_);
        db_ = std::exchange(o.db_, nullptr);
    }
    return *this;
}
Registry::~Registry() {
    if (db_) sqlite3_close(db_);
}

Result<void> Registry::exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
        std::string msg = err ? err : "unknown error";
        sqlite3_free(err);
        return fail("registry: " + msg);
    }
    return {};
}

Result<std::optional<std::pair<std::string, std::string>>> Registry::host_name_holder(const std::string& domain) {
    for (const auto& name : host_names(domain)) {
        Stmt s(db_, "SELECT j.domain FROM host_names h JOIN jails j ON j.id = h.jail_id WHERE h.name = ?1");
        s.bind(1, name);
        int rc = s.step();
        if (rc == SQLITE_ROW) return std::pair{name, s.text(0)};
        if (rc != SQLITE_DONE) return db_error("look up host name " + name, s);
    }
    return std::nullopt;
}

Result<void> Registry::claim_host_names(int64_t jail_id, const std::string& domain) {
    for (const auto& name : host_names(domain)) {
        Stmt s(db_, "INSERT OR IGNORE INTO host_names(name, jail_id) VALUES(?1, ?2)");
        s.bind(1, name).bind(2, jail_id);
        if (s.step() != SQLITE_DONE) return db_error("record host name " + name, s);
    }
    return {};
}

std::string host_name_conflict(const std::string& domain, const std::string& name, const std::string& holder) {
    if (name == domain) return "domain: " + domain + " is already served by jail " + holder;
    return "domain: " + domain + " would also serve " + name + ", which jail " + holder + " already serves";
}

Result<std::string> Registry::unique_ftp_user(const std::string& wanted) {
    for (int n = 1;; ++n) {
        std::string candidate = ftp_user_variant(wanted, n);
        Stmt s(db_, "SELECT 1 FROM jails WHERE ftp_user = ?1");
        s.bind(1, candidate);
        int rc = s.step();
        if (rc == SQLITE_DONE) return candidate;
        if (rc != SQLITE_ROW) return db_error("look up FTP user " + candidate, s);
    }
}

Result<JailRecord> Registry::insert_jail(JailRecord jail) {
    if (auto r = exec("BEGIN IMMEDIATE"); !r) return std::unexpected(r.error());
    auto rollback = [&](std::unexpected<Error> e) {
        (void)exec("ROLLBACK");
        return e;
    };
    Stmt dup(db_, "SELECT domain, ip FROM jails WHERE domain = ?1 OR ip = ?2");
    dup.bind(1, jail.domain).bind(2, jail.ip);
    if (dup.step() == SQLITE_ROW) {
        if (dup.text(0) == jail.domain)
            return rollback(fail(ErrorKind::Conflict, "domain: " + jail.domain + " is already registered"));
        return rollback(fail(ErrorKind::Conflict, "ip: " + jail.ip + " is already used by jail " + dup.text(0)));
    }
    // Decided inside this transaction, so two concurrent creates cannot both take a name.
    auto holder = host_name_holder(jail.domain);
    if (!holder) return rollback(std::unexpected(holder.error()));
    if (*holder)
        return rollback(fail(ErrorKind::Conflict, host_name_conflict(jail.domain, (*holder)->first, (*holder)->second)));
    auto ftp_user = unique_ftp_user(jail.ftp_user);
    if (!ftp_user) return rollback(std::unexpected(ftp_user.error()));
    jail.ftp_user = *ftp_user;
    jail.created = now_rfc3339();
    jail.state = "creating";
    Stmt ins(db_,
             "INSERT INTO jails(domain, ip, size_bytes, sparse, ftp_user, ftp_tls, id_base, state, autostart, "
             "created, memory_bytes, millicpus, pids, profile, https_only, tls) "
             "VALUES(?1, ?2, ?3, ?4, ?5, ?6, 0, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)");
    ins.bind(1, jail.domain).bind(2, jail.ip).bind(3, static_cast<int64_t>(jail.size_bytes));
    ins.bind(4, int64_t{jail.sparse}).bind(5, jail.ftp_user).bind(6, jail.ftp_tls).bind(7, jail.state);
    ins.bind(8, int64_t{jail.autostart}).bind(9, jail.created);
    ins.bind(10, static_cast<int64_t>(jail.memory_bytes)).bind(11, int64_t{jail.millicpus}).bind(12, int64_t{jail.pids});
    ins.bind(13, jail.profile).bind(14, int64_t{jail.https_only}).bind(15, jail.tls);
    if (ins.step() != SQLITE_DONE) return rollback(db_error("insert jail " + jail.domain, ins));
    jail.id = sqlite3_last_insert_rowid(db_);
    if (jail.id > kMaxJailIds)
        return rollback(fail(ErrorKind::HostNotReady, "registry: all " + std::to_string(kMaxJailIds) +
                                                          " id ranges have been used on this host"));
    jail.id_base = kIdBase + static_cast<uint32_t>(jail.id - 1) * kIdRangeSize;
    Stmt upd(db_, "UPDATE jails SET id_base = ?1 WHERE id = ?2");
    upd.bind(1, static_cast<int64_t>(jail.id_base)).bind(2, jail.id);
    if (upd.step() != SQLITE_DONE) return rollback(db_error("assign id range", upd));
    if (auto r = claim_host_names(jail.id, jail.domain); !r) return rollback(std::unexpected(r.error()));
    for (const auto& alias : jail.aliases) {  // restore and import bring them
        Stmt a(db_, "INSERT INTO host_names(name, jail_id) VALUES(?1, ?2) ON CONFLICT(name) DO NOTHING");
        a.bind(1, alias).bind(2, jail.id);
        if (a.step() != SQLITE_DONE) return rollback(db_error("record alias " + alias, a));
        if (sqlite3_changes(db_) == 0) {
            auto served_by = name_holder(alias);
            return rollback(fail(ErrorKind::Conflict, "alias: " + alias + " is already served by jail " +
                                                          (served_by && *served_by ? **served_by : std::string("?"))));
        }
    }
    if (auto r = exec("COMMIT"); !r) return rollback(std::unexpected(r.error()));
    return jail;
}

Result<std::optional<JailRecord>> Registry::find_where(const char* column, const std::string& value) {
    Stmt s(db_, (std::string("SELECT ") + kJailColumns + " FROM jails WHERE " + column + " = ?1").c_str());
    s.bind(1, value);
    int rc = s.step();
    if (rc == SQLITE_ROW) {
        JailRecord jail = read_jail(s);
        if (auto r = read_aliases(jail); !r) return std::unexpected(r.error());
        return jail;
    }
    if (rc == SQLITE_DONE) return std::nullopt;
    return db_error("look up " + value, s);
}

Result<std::optional<JailRecord>> Registry::find(const std::string& domain) { return find_where("domain", domain); }

Result<std::optional<JailRecord>> Registry::find_by_ip(const std::string& ip) { return find_where("ip", ip); }

Result<std::vector<JailRecord>> Registry::list() {
    Stmt s(db_, (std::string("SELECT ") + kJailColumns + " FROM jails ORDER BY domain").c_str());
    std::vector<JailRecord> out;
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) out.push_back(read_jail(s));
    if (rc != SQLITE_DONE) return db_error("list jails", s);
    for (auto& jail : out)
        if (auto r = read_aliases(jail); !r) return std::unexpected(r.error());
    return out;
}

Result<void> Registry::set_state(const std::string& domain, const std::string& state, const std::string& reason) {
    Stmt s(db_, "UPDATE jails SET state = ?1, reason = ?2 WHERE domain = ?3");
    s.bind(1, state).bind(2, reason).bind(3, domain);
    if (s.step() != SQLITE_DONE) return db_error("set state of " + domain, s);
    return {};
}

Result<void> Registry::set_size(const std::string& domain, uint64_t size_bytes) {
    Stmt s(db_, "UPDATE jails SET size_bytes = ?1 WHERE domain = ?2");
    s.bind(1, static_cast<int64_t>(size_bytes)).bind(2, domain);
    if (s.step() != SQLITE_DONE) return db_error("set size of " + domain, s);
    return {};
}

Result<void> Registry::set_profile(const std::string& domain, const std::string& profile) {
    Stmt s(db_, "UPDATE jails SET profile = ?1 WHERE domain = ?2");
    s.bind(1, profile).bind(2, domain);
    if (s.step() != SQLITE_DONE) return db_error("set profile of " + domain, s);
    return {};
}

Result<void> Registry::set_autostart(const std::string& domain, bool autostart) {
    Stmt s(db_, "UPDATE jails SET autostart = ?1 WHERE domain = ?2");
    s.bind(1, int64_t{autostart}).bind(2, domain);
    if (s.step() != SQLITE_DONE) return db_error("set autostart of " + domain, s);
    return {};
}

Result<void> Registry::set_limits(const std::string& domain, uint64_t memory_bytes, uint32_t millicpus,
                                  uint32_t pids) {
    Stmt s(db_, "UPDATE jails SET memory_bytes = ?1, millicpus = ?2, pids = ?3 WHERE domain = ?4");
    s.bind(1, static_cast<int64_t>(memory_bytes)).bind(2, int64_t{millicpus}).bind(3, int64_t{pids}).bind(4, domain);
    if (s.step() != SQLITE_DONE) return db_error("set limits of " + domain, s);
    return {};
}

Result<void> Registry::set_web(const std::string& domain, bool https_only, const std::string& tls) {
    Stmt s(db_, "UPDATE jails SET https_only = ?1, tls = ?2 WHERE domain = ?3");
    s.bind(1, int64_t{https_only}).bind(2, tls).bind(3, domain);
    if (s.step() != SQLITE_DONE) return db_error("set the web settings of " + domain, s);
    return {};
}

Result<void> Registry::read_aliases(JailRecord& jail) {
    jail.aliases.clear();
    const auto own = host_names(jail.domain);
    Stmt s(db_, "SELECT name FROM host_names WHERE jail_id = ?1 ORDER BY name");
    s.bind(1, jail.id);
    int rc;
    while ((rc = s.step()) == SQLITE_ROW)
        if (std::string name = s.text(0); std::ranges::find(own, name) == own.end()) jail.aliases.push_back(name);
    if (rc != SQLITE_DONE) return db_error("read the aliases of " + jail.domain, s);
    return {};
}

Result<std::optional<std::string>> Registry::name_holder(const std::string& name) {
    Stmt s(db_, "SELECT j.domain FROM host_names h JOIN jails j ON j.id = h.jail_id WHERE h.name = ?1");
    s.bind(1, name);
    int rc = s.step();
    if (rc == SQLITE_ROW) return s.text(0);
    if (rc == SQLITE_DONE) return std::nullopt;
    return db_error("look up host name " + name, s);
}

Result<void> Registry::add_alias(const std::string& domain, const std::string& name) {
    if (auto r = exec("BEGIN IMMEDIATE"); !r) return r;
    auto rollback = [&](std::unexpected<Error> e) {
        (void)exec("ROLLBACK");
        return e;
    };
    auto holder = name_holder(name);
    if (!holder) return rollback(std::unexpected(holder.error()));
    if (*holder)
        return rollback(fail(ErrorKind::Conflict, "alias: " + name + " is already served by jail " + **holder +
                                                      (**holder == domain ? " (this one)" : "")));
    Stmt s(db_, "INSERT INTO host_names(name, jail_id) SELECT ?1, id FROM jails WHERE domain = ?2");
    s.bind(1, name).bind(2, domain);
    if (s.step() != SQLITE_DONE) return rollback(db_error("record alias " + name, s));
    if (sqlite3_changes(db_) != 1) return rollback(fail("registry: no jail " + domain));
    return exec("COMMIT");
}

Result<bool> Registry::remove_alias(const std::string& domain, const std::string& name) {
    const auto own = host_names(domain);
    if (std::ranges::find(own, name) != own.end()) return false;
    Stmt s(db_, "DELETE FROM host_names WHERE name = ?1 AND jail_id = (SELECT id FROM jails WHERE domain = ?2)");
    s.bind(1, name).bind(2, domain);
    if (s.step() != SQLITE_DONE) return db_error("remove alias " + name, s);
    return sqlite3_changes(db_) == 1;
}

Result<void> Registry::set_aliases(const std::string& domain, const std::vector<std::string>& names) {
    if (auto r = exec("BEGIN IMMEDIATE"); !r) return r;
    auto rollback = [&](std::unexpected<Error> e) {
        (void)exec("ROLLBACK");
        return e;
    };
    auto jail = find(domain);
    if (!jail) return rollback(std::unexpected(jail.error()));
    if (!*jail) return rollback(fail("registry: no jail " + domain));
    for (const auto& old : (*jail)->aliases) {
        Stmt del(db_, "DELETE FROM host_names WHERE name = ?1 AND jail_id = ?2");
        del.bind(1, old).bind(2, (*jail)->id);
        if (del.step() != SQLITE_DONE) return rollback(db_error("remove alias " + old, del));
    }
    for (const auto& name : names) {
        auto holder = name_holder(name);
        if (!holder) return rollback(std::unexpected(holder.error()));
        if (*holder)
            return rollback(fail(ErrorKind::Conflict, "alias: " + name + " is already served by jail " + **holder));
        Stmt ins(db_, "INSERT INTO host_names(name, jail_id) VALUES(?1, ?2)");
        ins.bind(1, name).bind(2, (*jail)->id);
        if (ins.step() != SQLITE_DONE) return rollback(db_error("record alias " + name, ins));
    }
    return exec("COMMIT");
}

Result<void> Registry::remove_id(int64_t id) {
    Stmt s(db_, "DELETE FROM jails WHERE id = ?1");
    s.bind(1, id);
    if (s.step() != SQLITE_DONE) return db_error("remove jail #" + std::to_string(id), s);
    return {};
}

Result<void> Registry::remove(const std::string& domain) {
    Stmt s(db_, "DELETE FROM jails WHERE domain = ?1");
    s.bind(1, domain);
    if (s.step() != SQLITE_DONE) return db_error("remove " + domain, s);
    return {};
}

Result<int64_t> Registry::begin_task(const std::string& domain, const std::string& verb,
                                     const std::string& log_path) {
    Stmt s(db_, "INSERT INTO tasks(domain, verb, pid, started, log) VALUES(?1, ?2, ?3, ?4, ?5)");
    s.bind(1, domain).bind(2, verb).bind(3, int64_t{getpid()}).bind(4, now_rfc3339()).bind(5, log_path);
    if (s.step() != SQLITE_DONE) return db_error("record task " + verb + " " + domain, s);
    return sqlite3_last_insert_rowid(db_);
}

Result<void> Registry::record_step(int64_t task_id, int seq, const std::string& name, const std::string& status,
                                   double ms) {
    Stmt s(db_,
           "INSERT INTO task_steps(task_id, seq, name, status, ms) VALUES(?1, ?2, ?3, ?4, ?5) "
           "ON CONFLICT(task_id, name) DO UPDATE SET status = excluded.status, ms = excluded.ms");
    s.bind(1, task_id).bind(2, int64_t{seq}).bind(3, name).bind(4, status).bind(5, ms);
    if (s.step() != SQLITE_DONE) return db_error("record step " + name, s);
    return {};
}

Result<void> Registry::finish_task(int64_t task_id, const std::string& result, const std::string& error) {
    Stmt s(db_, "UPDATE tasks SET finished = ?1, result = ?2, error = ?3 WHERE id = ?4");
    s.bind(1, now_rfc3339()).bind(2, result).bind(3, error).bind(4, task_id);
    if (s.step() != SQLITE_DONE) return db_error("finish task", s);
    return {};
}

namespace {
Result<std::vector<Registry::OpenTask>> open_tasks(Stmt& s) {
    std::vector<Registry::OpenTask> out;
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) out.push_back({s.integer(0), s.text(1), s.text(2), s.integer(3)});
    if (rc != SQLITE_DONE) return db_error("list unfinished tasks", s);
    return out;
}
}  // namespace

Result<std::vector<Registry::OpenTask>> Registry::unfinished_tasks(const std::string& domain) {
    Stmt s(db_, "SELECT id, domain, verb, pid FROM tasks WHERE finished IS NULL AND domain = ?1 ORDER BY id");
    s.bind(1, domain);
    return open_tasks(s);
}

Result<std::vector<Registry::OpenTask>> Registry::unfinished_tasks() {
    Stmt s(db_, "SELECT id, domain, verb, pid FROM tasks WHERE finished IS NULL ORDER BY id");
    return open_tasks(s);
}

Result<std::vector<Registry::LastTask>> Registry::last_tasks() {
    // SQLite takes the bare columns from the row holding MAX(id).
    Stmt s(db_, "SELECT verb, result, CAST(strftime('%s', finished) AS INTEGER), MAX(id) FROM tasks "
                "WHERE finished IS NOT NULL GROUP BY verb ORDER BY verb");
    std::vector<LastTask> out;
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) out.push_back({s.text(0), s.text(1), s.integer(2)});
    if (rc != SQLITE_DONE) return db_error("list the last tasks", s);
    return out;
}

Result<void> Registry::add_token(const std::string& name, const std::string& role, const std::string& hash) {
    Stmt s(db_, "INSERT INTO api_tokens(name, role, hash, created) VALUES(?1, ?2, ?3, ?4)");
    s.bind(1, name).bind(2, role).bind(3, hash).bind(4, now_rfc3339());
    int rc = s.step();
    if (rc == SQLITE_CONSTRAINT) return fail(ErrorKind::Conflict, "name: a token named " + name + " already exists");
    if (rc != SQLITE_DONE) return db_error("add token " + name, s);
    return {};
}

Result<std::vector<TokenRecord>> Registry::list_tokens() {
    Stmt s(db_, "SELECT name, role, hash, created, COALESCE(last_used, '') FROM api_tokens ORDER BY name");
    std::vector<TokenRecord> out;
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) out.push_back({s.text(0), s.text(1), s.text(2), s.text(3), s.text(4)});
    if (rc != SQLITE_DONE) return db_error("list tokens", s);
    return out;
}

Result<bool> Registry::remove_token(const std::string& name) {
    Stmt s(db_, "DELETE FROM api_tokens WHERE name = ?1");
    s.bind(1, name);
    if (s.step() != SQLITE_DONE) return db_error("remove token " + name, s);
    return sqlite3_changes(db_) > 0;
}

Result<void> Registry::token_used(const std::string& name) {
    Stmt s(db_, "UPDATE api_tokens SET last_used = ?1 WHERE name = ?2");
    s.bind(1, now_rfc3339()).bind(2, name);
    if (s.step() != SQLITE_DONE) return db_error("record use of token " + name, s);
    return {};
}

}  // namespace jailctl
