// The agent's publication of this host's jails, against a real etcd member (ETCD_LIVE=1: run by
// tests/cluster/etcd_store.sh in the sandbox's network namespace; skipped in the plain unit run).
#include "api/agent.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "../etcd_members.h"
#include "cluster/membership.h"

namespace jailctl::api {
namespace {

class AgentLive : public ::testing::Test {
protected:
    void SetUp() override {
        if (!std::getenv("ETCD_LIVE")) GTEST_SKIP() << "needs ETCD_LIVE=1 (tests/cluster/etcd_store.sh)";
        member_.emplace(1, 22479);
        ASSERT_TRUE(member_->start_all()) << "the etcd member did not become healthy";
        auto e = Etcd::open({.endpoints = member_->client_urls()});
        ASSERT_TRUE(e) << e.error().message;
        etcd_.emplace(std::move(*e));
        dir_ = std::filesystem::temp_directory_path() / ("jailctl-agent-" + std::to_string(getpid()));
        std::filesystem::create_directories(dir_);
        auto r = Registry::open((dir_ / "jailctl.db").string());
        ASSERT_TRUE(r) << r.error().message;
        registry_.emplace(std::move(*r));
        JailRecord j;
        j.domain = "moved.example.com";
        j.ip = "203.0.113.9";
        j.size_bytes = 64 << 20;
        j.ftp_user = "u";
        j.ftp_tls = "required";
        j.state = "ready";
        ASSERT_TRUE(registry_->insert_jail(j));
    }
    void TearDown() override {
        registry_.reset();
        if (!dir_.empty()) std::filesystem::remove_all(dir_);
        etcd_.reset();
        member_.reset();
    }
    // host: this host's refresh ("a")
    void refresh() {
        auto jails = registry_->list();
        ASSERT_TRUE(jails) << jails.error().message;
        auto r = publish_jails(*etcd_, "a", *jails, published_, reported_);
        ASSERT_TRUE(r) << r.error().message;
    }
    std::string value_of(const std::string& key) {
        auto kv = etcd_->get(key);
        EXPECT_TRUE(kv) << kv.error().message;
        return kv && *kv ? (*kv)->value : "";
    }
    std::optional<testing::EtcdMembers> member_;
    std::optional<Etcd> etcd_;
    std::filesystem::path dir_;
    std::optional<Registry> registry_;
    std::optional<Published> published_;
    std::set<std::string> reported_;
};

// A move: the jail's record is given to host b (as `move` does at its end) while host a still
// has its stopped copy, then destroys it. Host a's refreshes in between neither write its
// record back nor remove b's — the race that once left the jail with no record for a moment.
TEST_F(AgentLive, AMovedJailsRecordIsNotWrittenBackNorRemovedByTheOldHost) {
    const std::string D = "moved.example.com", IP = "203.0.113.9";
    refresh();
    ASSERT_NE(value_of(keys::jail(D)).find("\"host\":\"a\""), std::string::npos) << value_of(keys::jail(D));

    const std::string b_record = R"({"host":"b","ip":"203.0.113.9","size_bytes":67108864,"state":"ready"})";
    const std::string b_ip = R"({"domain":"moved.example.com","host":"b"})";
    ASSERT_TRUE(etcd_->put(keys::jail(D), b_record));
    ASSERT_TRUE(etcd_->put(keys::ip(IP), b_ip));

    ASSERT_TRUE(registry_->set_state(D, "stopped"));  // a's copy changed after the move
    refresh();
    EXPECT_EQ(value_of(keys::jail(D)), b_record) << "host a wrote its stale record over host b's";

    ASSERT_TRUE(registry_->remove(D));  // a's copy destroyed
    refresh();
    EXPECT_EQ(value_of(keys::jail(D)), b_record) << "host a removed host b's record";
    EXPECT_EQ(value_of(keys::ip(IP)), b_ip) << "host a removed host b's address";
    EXPECT_FALSE(*etcd_->get(keys::by_host("a") + D)) << "host a's index still names the jail";
}

// The ordinary life: a change of state is published, a destroyed jail's keys go.
TEST_F(AgentLive, ChangesAndRemovalsOfItsOwnJailsArePublished) {
    const std::string D = "moved.example.com", IP = "203.0.113.9";
    refresh();
    ASSERT_TRUE(registry_->set_state(D, "stopped"));
    refresh();
    EXPECT_NE(value_of(keys::jail(D)).find("\"state\":\"stopped\""), std::string::npos) << value_of(keys::jail(D));
    ASSERT_TRUE(registry_->remove(D));
    refresh();
    EXPECT_FALSE(*etcd_->get(keys::jail(D)));
    EXPECT_FALSE(*etcd_->get(keys::ip(IP)));
    EXPECT_FALSE(*etcd_->get(keys::by_host("a") + D));
}

// Aliases added on this host without --cluster: published in names/, never over another jail's
// name, removed with the alias, and kept when the jail moved to another host.
TEST_F(AgentLive, TheAliasesOfItsJailsArePublishedInNames) {
    const std::string D = "moved.example.com", shop = "shop.example.com", taken = "taken.example.com";
    const std::string other = R"({"claim":"x","domain":"other.example.com"})";
    ASSERT_TRUE(etcd_->put(keys::name(taken), other));
    ASSERT_TRUE(registry_->add_alias(D, shop));
    ASSERT_TRUE(registry_->add_alias(D, taken));
    PublishedNames names;
    auto publish = [&] {
        refresh();
        auto jails = registry_->list();
        ASSERT_TRUE(jails);
        auto r = publish_names(*etcd_, "a", *jails, names, reported_);
        ASSERT_TRUE(r) << r.error().message;
    };
    publish();
    EXPECT_EQ(value_of(keys::name(shop)), R"({"domain":"moved.example.com"})");
    EXPECT_EQ(value_of(keys::name(taken)), other) << "another jail's name was taken over";
    EXPECT_TRUE(reported_.contains("names/" + taken));

    ASSERT_TRUE(registry_->remove_alias(D, shop));
    publish();
    EXPECT_FALSE(*etcd_->get(keys::name(shop))) << "a removed alias stays in names/";

    ASSERT_TRUE(registry_->add_alias(D, shop));
    publish();
    ASSERT_TRUE(*etcd_->get(keys::name(shop)));
    // moved to host b (its record there), then this copy destroyed: the name stays, b's now
    ASSERT_TRUE(etcd_->put(keys::jail(D), R"({"host":"b","ip":"203.0.113.9","size_bytes":67108864,"state":"ready"})"));
    ASSERT_TRUE(registry_->remove(D));
    publish();
    EXPECT_EQ(value_of(keys::name(shop)), R"({"domain":"moved.example.com"})") << "a moved jail's alias was unpublished";
    EXPECT_EQ(value_of(keys::name(taken)), other);
}

}  // namespace
}  // namespace jailctl::api
