#include "jail/registry.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace jailctl {
namespace {

class RegistryTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() / ("jailctl-reg-" + std::to_string(getpid()));
        std::filesystem::create_directories(dir_);
        auto r = Registry::open((dir_ / "jailctl.db").string());
        ASSERT_TRUE(r) << r.error().message;
        reg_.emplace(std::move(*r));
    }
    void TearDown() override {
        reg_.reset();
        std::filesystem::remove_all(dir_);
    }
    JailRecord jail(const std::string& domain, const std::string& ip) {
        JailRecord j;
        j.domain = domain;
        j.ip = ip;
        j.size_bytes = 128 << 20;
        j.ftp_user = "u";
        j.ftp_tls = "required";
        return j;
    }
    std::filesystem::path dir_;
    std::optional<Registry> reg_;
};

// A registry written before the limits columns existed opens, gains them with their
// defaults, and keeps its jail.
TEST(RegistryUpgrade, AnOlderJailsTableGainsTheNewColumns) {
    auto dir = std::filesystem::temp_directory_path() / ("jailctl-reg-old-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    auto path = (dir / "jailctl.db").string();
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db,
                           "CREATE TABLE jails(id INTEGER PRIMARY KEY AUTOINCREMENT, domain TEXT NOT NULL UNIQUE,"
                           " ip TEXT NOT NULL UNIQUE, size_bytes INTEGER NOT NULL, sparse INTEGER NOT NULL,"
                           " ftp_user TEXT NOT NULL, ftp_tls TEXT NOT NULL, id_base INTEGER NOT NULL,"
                           " state TEXT NOT NULL, created TEXT NOT NULL);"
                           "INSERT INTO jails(domain, ip, size_bytes, sparse, ftp_user, ftp_tls, id_base, state, created)"
                           " VALUES('old.example', '203.0.113.9', 134217728, 0, 'oldexample', 'required', 1073741824,"
                           " 'ready', '2026-01-01T00:00:00Z');",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
    {
        auto reg = Registry::open(path);
        ASSERT_TRUE(reg) << reg.error().message;
        auto old = reg->find("old.example");
        ASSERT_TRUE(old && *old);
        EXPECT_EQ((*old)->memory_bytes, 256ull << 20);
        EXPECT_EQ((*old)->millicpus, 1000u);
        EXPECT_EQ((*old)->pids, 512u);
        EXPECT_TRUE((*old)->autostart);
        ASSERT_TRUE(reg->set_limits("old.example", 64ull << 20, 500, 100));
    }
    {
        auto again = Registry::open(path);  // a second open finds every column present
        ASSERT_TRUE(again) << again.error().message;
        EXPECT_EQ((*again->find("old.example"))->memory_bytes, 64ull << 20);
    }
    std::filesystem::remove_all(dir);
}

TEST_F(RegistryTest, InsertAssignsDistinctIdRanges) {
    auto a = reg_->insert_jail(jail("a.example", "203.0.113.10"));
    auto b = reg_->insert_jail(jail("b.example", "203.0.113.11"));
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->id_base, kIdBase + static_cast<uint32_t>(a->id - 1) * kIdRangeSize);
    EXPECT_GE(b->id_base, a->id_base + kIdRangeSize);
    EXPECT_EQ(a->state, "creating");
}

TEST_F(RegistryTest, DuplicateDomainOrIpIsAConflictNamingTheField) {
    ASSERT_TRUE(reg_->insert_jail(jail("a.example", "203.0.113.10")));
    auto dup_domain = reg_->insert_jail(jail("a.example", "203.0.113.11"));
    ASSERT_FALSE(dup_domain);
    EXPECT_EQ(dup_domain.error().kind, ErrorKind::Conflict);
    EXPECT_EQ(dup_domain.error().message.rfind("domain:", 0), 0u);
    auto dup_ip = reg_->insert_jail(jail("b.example", "203.0.113.10"));
    ASSERT_FALSE(dup_ip);
    EXPECT_EQ(dup_ip.error().kind, ErrorKind::Conflict);
    EXPECT_EQ(dup_ip.error().message.rfind("ip:", 0), 0u);
    EXPECT_EQ(reg_->list()->size(), 1u);
}

// Issue 14, defect 7: a host name is served by one jail, whichever of the two was first.
TEST_F(RegistryTest, HostNamesAreClaimedOnce) {
    ASSERT_TRUE(reg_->insert_jail(jail("example.com", "203.0.113.10")));
    for (const char* other : {"www.example.com", "www.www.example.com"}) {
        auto r = reg_->insert_jail(jail(other, "203.0.113.11"));
        ASSERT_FALSE(r) << other;
        EXPECT_EQ(r.error().kind, ErrorKind::Conflict);
        EXPECT_NE(r.error().message.find("jail example.com"), std::string::npos) << r.error().message;
    }
    ASSERT_TRUE(reg_->insert_jail(jail("www.shop.example", "203.0.113.12")));
    auto bare = reg_->insert_jail(jail("shop.example", "203.0.113.13"));
    ASSERT_FALSE(bare);
    EXPECT_EQ(bare.error().message, "domain: shop.example is already served by jail www.shop.example");
    auto holder = reg_->host_name_holder("www.shop.example");
    ASSERT_TRUE(holder && *holder);
    EXPECT_EQ((*holder)->second, "www.shop.example");
    // The names go with the jail.
    ASSERT_TRUE(reg_->remove("www.shop.example"));
    EXPECT_TRUE(reg_->insert_jail(jail("shop.example", "203.0.113.13")));
}

// Issue 14, defect 8: FTP users unique on the host, in the order the jails come.
// restore --replace: a jail's aliases become exactly the archive's, in one transaction; one
// that another jail serves is a conflict naming it and changes nothing.
TEST_F(RegistryTest, SetAliasesReplacesTheListOrChangesNothing) {
    ASSERT_TRUE(reg_->insert_jail(jail("a.example", "203.0.113.10")));
    ASSERT_TRUE(reg_->insert_jail(jail("b.example", "203.0.113.11")));
    ASSERT_TRUE(reg_->add_alias("a.example", "old.example.org"));
    ASSERT_TRUE(reg_->add_alias("b.example", "taken.example.org"));
    ASSERT_TRUE(reg_->set_aliases("a.example", {"one.example.org", "two.example.org"}));
    EXPECT_EQ((*reg_->find("a.example"))->aliases, (std::vector<std::string>{"one.example.org", "two.example.org"}));
    EXPECT_FALSE(*reg_->name_holder("old.example.org"));
    EXPECT_EQ(**reg_->name_holder("www.a.example"), "a.example");  // its own names stay
    auto taken = reg_->set_aliases("a.example", {"three.example.org", "taken.example.org"});
    ASSERT_FALSE(taken);
    EXPECT_EQ(taken.error().kind, ErrorKind::Conflict);
    EXPECT_NE(taken.error().message.find("served by jail b.example"), std::string::npos) << taken.error().message;
    EXPECT_EQ((*reg_->find("a.example"))->aliases, (std::vector<std::string>{"one.example.org", "two.example.org"}));
    ASSERT_TRUE(reg_->set_aliases("a.example", {}));
    EXPECT_TRUE((*reg_->find("a.example"))->aliases.empty());
}

TEST_F(RegistryTest, FtpUsersAreMadeUnique) {
    auto a = jail("example.com", "203.0.113.10"), b = jail("examplec.om", "203.0.113.11");
    a.ftp_user = b.ftp_user = "examplecom";
    auto ra = reg_->insert_jail(a), rb = reg_->insert_jail(b);
    ASSERT_TRUE(ra && rb);
    EXPECT_EQ(ra->ftp_user, "examplecom");
    EXPECT_EQ(rb->ftp_user, "examplecom-2");
    EXPECT_EQ((*reg_->find("examplec.om"))->ftp_user, "examplecom-2");
    auto c = jail("example.co.m", "203.0.113.12");
    c.ftp_user = "examplecom";
    EXPECT_EQ(reg_->insert_jail(c)->ftp_user, "examplecom-3");
}

TEST_F(RegistryTest, IdsAreNeverReusedAfterRemove) {
    auto a = reg_->insert_jail(jail("a.example", "203.0.113.10"));
    ASSERT_TRUE(reg_->remove("a.example"));
    auto b = reg_->insert_jail(jail("a.example", "203.0.113.10"));
    ASSERT_TRUE(a && b);
    EXPECT_NE(a->id_base, b->id_base);
}

TEST_F(RegistryTest, StateListAndJournal) {
    ASSERT_TRUE(reg_->insert_jail(jail("b.example", "203.0.113.11")));
    ASSERT_TRUE(reg_->insert_jail(jail("a.example", "203.0.113.10")));
    ASSERT_TRUE(reg_->set_state("a.example", "ready"));
    auto list = reg_->list();
    ASSERT_TRUE(list);
    ASSERT_EQ(list->size(), 2u);
    EXPECT_EQ((*list)[0].domain, "a.example");
    EXPECT_EQ((*list)[0].state, "ready");
    auto task = reg_->begin_task("a.example", "start", "/tmp/x.log");
    ASSERT_TRUE(task);
    ASSERT_TRUE(reg_->record_step(*task, 0, "mount", "running", 0));
    EXPECT_EQ(reg_->unfinished_tasks("a.example")->size(), 1u);
    auto other = reg_->begin_task("b.example", "grow", "/tmp/y.log");
    ASSERT_TRUE(other);
    auto all = reg_->unfinished_tasks();  // status: every jail's in one query
    ASSERT_TRUE(all);
    ASSERT_EQ(all->size(), 2u);
    EXPECT_EQ((*all)[0].domain + " " + (*all)[0].verb + " " + (*all)[1].domain + " " + (*all)[1].verb,
              "a.example start b.example grow");
    EXPECT_EQ(reg_->unfinished_tasks("b.example")->size(), 1u);
    ASSERT_TRUE(reg_->finish_task(*other, "OK", ""));
    ASSERT_TRUE(reg_->finish_task(*task, "OK", ""));
    EXPECT_TRUE(reg_->unfinished_tasks("a.example")->empty());
    EXPECT_TRUE(reg_->unfinished_tasks()->empty());
    EXPECT_FALSE(*reg_->find("nope.example"));
    EXPECT_EQ((*reg_->find_by_ip("203.0.113.11"))->domain, "b.example");
}

TEST_F(RegistryTest, LastTaskOfEachVerb) {
    auto t1 = reg_->begin_task("a.example", "backup", "/tmp/1.log");
    auto t2 = reg_->begin_task("b.example", "backup", "/tmp/2.log");
    auto t3 = reg_->begin_task("a.example", "create", "/tmp/3.log");
    auto t4 = reg_->begin_task("a.example", "grow", "/tmp/4.log");  // never finishes
    ASSERT_TRUE(t1 && t2 && t3 && t4);
    ASSERT_TRUE(reg_->finish_task(*t1, "OK", ""));
    ASSERT_TRUE(reg_->finish_task(*t2, "KO", "disk full"));
    ASSERT_TRUE(reg_->finish_task(*t3, "OK", ""));
    auto last = reg_->last_tasks();
    ASSERT_TRUE(last) << last.error().message;
    ASSERT_EQ(last->size(), 2u);
    EXPECT_EQ((*last)[0].verb, "backup");
    EXPECT_EQ((*last)[0].result, "KO");  // the later of the two backups
    EXPECT_GT((*last)[0].finished, 1700000000);
    EXPECT_EQ((*last)[1].verb, "create");
    EXPECT_EQ((*last)[1].result, "OK");
}

}  // namespace
}  // namespace jailctl
