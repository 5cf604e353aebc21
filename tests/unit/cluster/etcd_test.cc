#include "cluster/etcd.h"

#include "../etcd_members.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <filesystem>
#include <thread>

namespace jailctl {
namespace {

TEST(Base64, RoundTripsEveryLengthAndByte) {
    std::string bytes;
    for (int i = 0; i < 300; ++i) {
        auto text = base64_encode(bytes);
        EXPECT_EQ(text.size() % 4, 0u);
        auto back = base64_decode(text);
        ASSERT_TRUE(back) << i;
        EXPECT_EQ(*back, bytes) << i;
        bytes.push_back(static_cast<char>(i * 7));
    }
    EXPECT_EQ(base64_encode("jailctl/x"), "amFpbGN0bC94");
    EXPECT_FALSE(base64_decode("abc"));
    EXPECT_FALSE(base64_decode("ab!="));
}

TEST(PrefixEnd, IsTheFirstKeyAfterThePrefix) {
    EXPECT_EQ(prefix_end("/jailctl/"), "/jailctl0");
    EXPECT_EQ(prefix_end(std::string("a\xff\xff", 3)), "b");
    EXPECT_EQ(prefix_end(std::string("\xff", 1)), std::string(1, '\0'));
    EXPECT_EQ(prefix_end(""), std::string(1, '\0'));
}

TEST(EtcdOpen, RefusesEndpointsItCannotUseNamingThem) {
    EXPECT_FALSE(Etcd::open({}));
    for (const char* bad : {"127.0.0.1:2379", "ftp://a:1", "http://a", "http://a:0", "http://a:65536", "http://a:x",
                            "http://:2379", "http://u@a:1", "http://a/b:1"}) {
        auto e = Etcd::open({.endpoints = {"http://127.0.0.1:2379", bad}});
        ASSERT_FALSE(e) << bad;
        EXPECT_EQ(e.error().kind, ErrorKind::BadInput) << bad;
        EXPECT_NE(e.error().message.find(bad), std::string::npos) << e.error().message;
    }
    EXPECT_TRUE(Etcd::open({.endpoints = {"http://127.0.0.1:2379", "https://etcd-2.example:2379"}}));
}

TEST(EtcdOpen, NoMemberAnsweringIsHostNotReadyAfterTheDeadline) {
    // Port 1 on loopback: connection refused at once, so the deadline bounds the retries.
    auto etcd = Etcd::open({.endpoints = {"http://127.0.0.1:1", "http://127.0.0.1:2"},
                            .deadline = std::chrono::milliseconds(300)});
    ASSERT_TRUE(etcd);
    auto start = std::chrono::steady_clock::now();
    auto got = etcd->get("k");
    auto took = std::chrono::steady_clock::now() - start;
    ASSERT_FALSE(got);
    EXPECT_EQ(got.error().kind, ErrorKind::HostNotReady);
    EXPECT_NE(got.error().message.find("127.0.0.1:"), std::string::npos) << got.error().message;
    EXPECT_LT(took, std::chrono::seconds(2));
}

// A member's gateway faked on a loopback port: the first `transient` answers are what etcd 3.4
// says during a leader election, then it answers the range with one key.
class FakeMember {
public:
    FakeMember(std::string error, int code, int transient) : error_(std::move(error)), code_(code), transient_(transient) {
        server_.Post("/v3/kv/range", [this](const httplib::Request&, httplib::Response& res) {
            if (calls_++ < transient_) {
                res.status = 500;
                res.set_content(nlohmann::json{{"error", error_}, {"code", code_}, {"message", error_}}.dump(),
                                "application/json");
                return;
            }
            nlohmann::json kv = {{"key", base64_encode("k")}, {"value", base64_encode("v")}, {"mod_revision", "7"}};
            res.set_content(nlohmann::json{{"kvs", {kv}}, {"count", "1"}}.dump(), "application/json");
        });
        port_ = server_.bind_to_any_port("127.0.0.1");
        thread_ = std::thread([this] { server_.listen_after_bind(); });
        while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ~FakeMember() {
        server_.stop();
        thread_.join();
    }
    std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
    int calls() const { return calls_; }

private:
    std::string error_;
    int code_, transient_, port_ = 0;
    std::atomic<int> calls_{0};
    httplib::Server server_;
    std::thread thread_;
};

// Before: a write proposed while the member knew no leader failed the verb at once.
TEST(EtcdElection, AnswersOfAnElectionAreRetriedUntilALeaderAnswers) {
    for (auto [error, code] : {std::pair{"raft proposal dropped", 2}, std::pair{"etcdserver: not leader", 9},
                               std::pair{"etcdserver: no leader", 14}, std::pair{"etcdserver: leader changed", 14}}) {
        FakeMember member(error, code, 3);
        auto etcd = Etcd::open({.endpoints = {member.endpoint()}, .deadline = std::chrono::milliseconds(5000)});
        ASSERT_TRUE(etcd);
        auto got = etcd->get("k");
        ASSERT_TRUE(got) << error << ": " << got.error().message;
        ASSERT_TRUE(*got);
        EXPECT_EQ((*got)->value, "v");
        EXPECT_EQ(member.calls(), 4) << error;
    }
}

TEST(EtcdElection, OtherErrorsAreFinalAtOnce) {
    FakeMember member("etcdserver: mvcc: required revision has been compacted", 11, 100);
    auto etcd = Etcd::open({.endpoints = {member.endpoint()}, .deadline = std::chrono::milliseconds(5000)});
    ASSERT_TRUE(etcd);
    auto got = etcd->get("k");
    ASSERT_FALSE(got);
    EXPECT_NE(got.error().message.find("compacted"), std::string::npos) << got.error().message;
    EXPECT_EQ(member.calls(), 1);
}

// ------------------------------------------------------------------------------------------
// Against a real three-member etcd (Debian etcd-server), started here on loopback ports.
// Run by tests/cluster/etcd_store.sh inside the sandbox's network namespace (ETCD_LIVE=1);
// skipped in the plain unit run.
class EtcdLive : public ::testing::Test {
protected:
    static constexpr int kMembers = 3;
    void SetUp() override {
        if (!std::getenv("ETCD_LIVE")) GTEST_SKIP() << "needs ETCD_LIVE=1 (tests/cluster/etcd_store.sh)";
        members_.emplace(kMembers, 22379);
        ASSERT_TRUE(members_->start_all()) << "the etcd members did not all start and become healthy";
        auto e = Etcd::open({.endpoints = members_->client_urls()});
        ASSERT_TRUE(e) << e.error().message;
        etcd_.emplace(std::move(*e));
    }
    void TearDown() override { members_.reset(); }
    std::string client_url(int i) const { return members_->client_url(i); }
    // A client that tries member `first` first: after `first` dies, every call of the next
    // burst starts on the dead member and must fail over.
    void prefer(int first) {
        std::vector<std::string> endpoints = {client_url(first)};
        for (int i = 0; i < kMembers; ++i)
            if (i != first) endpoints.push_back(client_url(i));
        etcd_.emplace(*Etcd::open({.endpoints = endpoints}));
    }
    // A burst of every kind of call; each must succeed (through retries) and read back.
    void exercise(const std::string& round) {
        for (int n = 0; n < 20; ++n) {
            std::string key = "/jailctl/test/" + round + "/" + std::to_string(n);
            auto put = etcd_->put(key, "v" + std::to_string(n));
            ASSERT_TRUE(put) << put.error().message;
            auto got = etcd_->get(key);
            ASSERT_TRUE(got) << got.error().message;
            ASSERT_TRUE(*got);
            EXPECT_EQ((*got)->value, "v" + std::to_string(n));
        }
        auto claimed = etcd_->create({{"/jailctl/test/" + round + "/claim", "mine"}});
        ASSERT_TRUE(claimed) << claimed.error().message;
        EXPECT_TRUE(*claimed);
        auto listed = etcd_->list("/jailctl/test/" + round + "/");
        ASSERT_TRUE(listed) << listed.error().message;
        EXPECT_EQ(listed->size(), 21u);
    }
    std::optional<testing::EtcdMembers> members_;
    std::optional<Etcd> etcd_;
};

TEST_F(EtcdLive, KeysLeasesAndCompareAndSwap) {
    ASSERT_TRUE(etcd_->put("/jailctl/a", "1"));
    auto a = etcd_->get("/jailctl/a");
    ASSERT_TRUE(a && *a);
    EXPECT_TRUE(*etcd_->replace("/jailctl/a", "1", "2"));
    EXPECT_FALSE(*etcd_->replace("/jailctl/a", "1", "3")) << "a stale value must not win";
    EXPECT_EQ((*etcd_->get("/jailctl/a"))->value, "2");
    EXPECT_FALSE(*etcd_->remove_if("/jailctl/a", "1"));
    EXPECT_TRUE(*etcd_->remove_if("/jailctl/a", "2"));
    EXPECT_FALSE(*etcd_->get("/jailctl/a"));

    // Either both keys of a claim are created, or neither.
    EXPECT_TRUE(*etcd_->create({{"/jailctl/domains/x.example", "h1"}, {"/jailctl/ips/203.0.113.5", "h1"}}));
    EXPECT_FALSE(*etcd_->create({{"/jailctl/domains/y.example", "h2"}, {"/jailctl/ips/203.0.113.5", "h2"}}));
    EXPECT_FALSE(*etcd_->get("/jailctl/domains/y.example"));

    auto lease = etcd_->grant_lease(std::chrono::seconds(2));
    ASSERT_TRUE(lease) << lease.error().message;
    ASSERT_TRUE(etcd_->put("/jailctl/hosts/h1", "alive", *lease));
    for (int i = 0; i < 3; ++i) {  // kept alive past its TTL
        std::this_thread::sleep_for(std::chrono::milliseconds(800));
        auto ttl = etcd_->keep_alive(*lease);
        ASSERT_TRUE(ttl) << ttl.error().message;
        EXPECT_GT(*ttl, 0);
    }
    EXPECT_TRUE(*etcd_->get("/jailctl/hosts/h1"));
    std::this_thread::sleep_for(std::chrono::milliseconds(3500));  // not kept alive: gone
    EXPECT_FALSE(*etcd_->get("/jailctl/hosts/h1"));
    EXPECT_EQ(*etcd_->keep_alive(*lease), 0);
}

// A create's guard: keys that must stay absent, and a prefix nothing was written under since
// the caller's listing of it (a deletion there does not count).
TEST_F(EtcdLive, CreateGuardsAbsentKeysAndAnUnchangedPrefix) {
    ASSERT_TRUE(etcd_->put("/jailctl/names/shop.example", "x.example"));
    EXPECT_FALSE(*etcd_->create({{"/jailctl/jails/shop.example", "h1"}}, 0, {.absent = {"/jailctl/names/shop.example"}}));
    EXPECT_FALSE(*etcd_->get("/jailctl/jails/shop.example")) << "a guarded create that lost wrote nothing";
    EXPECT_TRUE(*etcd_->create({{"/jailctl/jails/other.example", "h1"}}, 0, {.absent = {"/jailctl/names/other.example"}}));

    ASSERT_TRUE(etcd_->put("/jailctl/pools/a", "1"));
    ASSERT_TRUE(etcd_->put("/jailctl/pools/b", "1"));
    int64_t seen = 0;
    auto listed = etcd_->list("/jailctl/pools/", &seen);
    ASSERT_TRUE(listed) << listed.error().message;
    EXPECT_EQ(listed->size(), 2u);
    EXPECT_GT(seen, 0);
    ASSERT_TRUE(etcd_->remove("/jailctl/pools/b"));  // a deletion since: still fine
    EXPECT_TRUE(*etcd_->create({{"/jailctl/pools/c", "1"}}, 0, {.prefix = "/jailctl/pools/", .seen = seen}));
    // c was written after `seen`: a create decided on the old listing loses
    EXPECT_FALSE(*etcd_->create({{"/jailctl/pools/d", "1"}}, 0, {.prefix = "/jailctl/pools/", .seen = seen}));
    EXPECT_FALSE(*etcd_->get("/jailctl/pools/d"));
    ASSERT_TRUE(etcd_->list("/jailctl/pools/", &seen));
    EXPECT_TRUE(*etcd_->create({{"/jailctl/pools/d", "1"}}, 0, {.prefix = "/jailctl/pools/", .seen = seen}));
    EXPECT_TRUE(*etcd_->create({{"/jailctl/empty/e", "1"}}, 0, {.prefix = "/jailctl/empty/", .seen = seen}))
        << "an empty prefix holds nothing newer";
}

// Ten rounds of two hosts claiming the same name at the same moment: exactly one wins each.
TEST_F(EtcdLive, ConcurrentClaimsHaveExactlyOneWinner) {
    for (int round = 0; round < 10; ++round) {
        std::string key = "/jailctl/domains/race" + std::to_string(round) + ".example";
        std::atomic<int> winners = 0, errors = 0;
        auto claim = [&](int host) {
            auto e = Etcd::open({.endpoints = {client_url(host % kMembers)}});
            auto won = e->create({{key, "host" + std::to_string(host)}});
            if (!won) ++errors;
            else if (*won) ++winners;
        };
        std::thread a(claim, 0), b(claim, 1);
        a.join();
        b.join();
        EXPECT_EQ(errors, 0) << round;
        EXPECT_EQ(winners, 1) << round;
    }
}

// A follower dies: nothing fails. It comes back; then the leader dies: nothing fails either
// (the calls wait through the election on the remaining members).
TEST_F(EtcdLive, SurvivesLosingAMemberAndThenTheLeader) {
    exercise("before");
    int lead = members_->leader();
    ASSERT_GE(lead, 0);
    int follower = (lead + 1) % kMembers;
    prefer(follower);
    members_->stop(follower);
    exercise("follower-down");
    ASSERT_TRUE(members_->start(follower, "existing"));
    ASSERT_TRUE(members_->healthy(follower));
    lead = members_->leader();
    ASSERT_GE(lead, 0);
    prefer(lead);
    members_->stop(lead);
    exercise("leader-down");
}

}  // namespace
}  // namespace jailctl
