// jailctl --cluster VERB: which words become an action, a read, or a refusal (api/cluster_words.h).
#include "api/cluster_words.h"

#include <gtest/gtest.h>

namespace jailctl {
namespace {

using Words = std::vector<std::string>;

TEST(ClusterWords, GlobalOptionsAreDroppedWhereverTheyStand) {
    EXPECT_EQ(verb_words({"--cluster", "--root", "/r", "status", "--json", "a.example"}),
              (Words{"status", "a.example"}));
    EXPECT_EQ(verb_words({"status", "--root=/r", "--cluster"}), (Words{"status"}));
    EXPECT_EQ(verb_words({"--cluster", "stop", "--", "--json"}), (Words{"stop", "--", "--json"}));
}

TEST(ClusterWords, ReadsAreTheirOwnKinds) {
    auto status = classify_cluster_words({"status"});
    EXPECT_EQ(status.kind, ClusterVerb::Status);
    EXPECT_TRUE(status.arguments.empty());
    auto one = classify_cluster_words({"status", "a.example"});
    EXPECT_EQ(one.kind, ClusterVerb::Status);
    EXPECT_EQ(one.arguments, (Words{"a.example"}));
    auto aliases = classify_cluster_words({"alias", "list", "a.example"});
    EXPECT_EQ(aliases.kind, ClusterVerb::AliasList);
    EXPECT_EQ(aliases.verb, "alias list");
    EXPECT_EQ(aliases.arguments, (Words{"a.example"}));
    EXPECT_EQ(classify_cluster_words({"credentials", "a.example"}).kind, ClusterVerb::Credentials);
    EXPECT_EQ(classify_cluster_words({"backups"}).kind, ClusterVerb::Backups);
    EXPECT_EQ(classify_cluster_words({"backups", "a.example"}).arguments, (Words{"a.example"}));
    EXPECT_EQ(classify_cluster_words({"backup", "a.example"}).kind, ClusterVerb::Action);
    auto exported = classify_cluster_words({"export", "a.example", "/tmp/a.tar.zst"});
    EXPECT_EQ(exported.kind, ClusterVerb::Export);
    EXPECT_EQ(exported.arguments, (Words{"a.example", "/tmp/a.tar.zst"}));
}

TEST(ClusterWords, TwoWordActionsWinOverTheirFirstWord) {
    auto add = classify_cluster_words({"alias", "add", "a.example", "b.example"});
    EXPECT_EQ(add.kind, ClusterVerb::Action);
    EXPECT_EQ(add.verb, "alias add");
    EXPECT_EQ(add.arguments, (Words{"a.example", "b.example"}));
    auto stop = classify_cluster_words({"stop", "a.example", "--timeout", "5"});
    EXPECT_EQ(stop.kind, ClusterVerb::Action);
    EXPECT_EQ(stop.arguments, (Words{"a.example", "--timeout", "5"}));
}

TEST(ClusterWords, RenewAllIsEachHostsOwn) {
    auto all = classify_cluster_words({"renew", "--days", "10", "--all"});
    EXPECT_EQ(all.kind, ClusterVerb::RenewAll);
    EXPECT_EQ(all.verb, "renew --all");
    EXPECT_EQ(all.arguments, (Words{"--days", "10"}));
    auto one = classify_cluster_words({"renew", "a.example"});
    EXPECT_EQ(one.kind, ClusterVerb::Action);
    EXPECT_EQ(one.verb, "renew");
}

TEST(ClusterWords, HostLocalVerbsSayWhy) {
    for (const char* verb :
         {"repair", "metrics", "host", "serve", "token"}) {
        auto w = classify_cluster_words({verb});
        EXPECT_EQ(w.kind, ClusterVerb::HostLocal) << verb;
        EXPECT_FALSE(w.why.empty()) << verb;
    }
    EXPECT_EQ(classify_cluster_words({"move", "a.example"}).kind, ClusterVerb::HostLocal);
    auto exec = classify_cluster_words({"exec", "a.example", "--", "ls"});  // its output comes back
    EXPECT_EQ(exec.kind, ClusterVerb::Exec);
    EXPECT_EQ(exec.arguments, (Words{"a.example", "--", "ls"}));
    auto console = classify_cluster_words({"console", "-U", "www", "a.example"});  // its terminal relayed
    EXPECT_EQ(console.kind, ClusterVerb::Console);
    EXPECT_EQ(console.arguments, (Words{"-U", "www", "a.example"}));
    auto site = classify_cluster_words({"import-site", "a.example", "--from", "/srv/site"});  // a create, its site sent
    EXPECT_EQ(site.kind, ClusterVerb::Action);
    EXPECT_EQ(site.verb, "import-site");
    EXPECT_EQ(classify_cluster_words({"frobnicate"}).kind, ClusterVerb::Unknown);
    EXPECT_EQ(classify_cluster_words({}).kind, ClusterVerb::Unknown);
}

TEST(ClusterWords, TheRefusalSaysWhereToRunIt) {
    auto repair = host_local_refusal(classify_cluster_words({"repair"}), {"a", "b"});
    EXPECT_NE(repair.find("'repair' does not run through the cluster: it finishes or undoes the interrupted tasks"),
              std::string::npos)
        << repair;
    auto import = classify_cluster_words({"import", "site.tar.zst", "--ip", "203.0.113.9"});  // the archive sent
    EXPECT_EQ(import.kind, ClusterVerb::Action);
    EXPECT_EQ(classify_cluster_words({"restore", "b.tar.zst", "--replace"}).kind, ClusterVerb::Action);
    auto metrics = host_local_refusal(classify_cluster_words({"metrics"}), {"a", "b"});
    EXPECT_NE(metrics.find("on the host it is for (hosts: a, b)"), std::string::npos) << metrics;
    EXPECT_NE(host_local_refusal(classify_cluster_words({"repair"}), {}).find("(hosts: none joined)"), std::string::npos);
    auto move = host_local_refusal(classify_cluster_words({"move", "a.example"}), {});
    EXPECT_NE(move.find("without --cluster"), std::string::npos) << move;
}

TEST(ClusterWords, AReadNamesOneJailAndTakesNoOption) {
    auto d = read_domain(classify_cluster_words({"status", "A.Example."}), true);
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(*d, "a.example");
    auto none = read_domain(classify_cluster_words({"status"}), true);
    ASSERT_TRUE(none);
    EXPECT_EQ(*none, "");
    auto missing = read_domain(classify_cluster_words({"alias", "list"}), false);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().message, "domain: is required (alias list DOMAIN)");
    auto option = read_domain(classify_cluster_words({"status", "--names"}), true);
    ASSERT_FALSE(option);
    EXPECT_EQ(option.error().message, "names: is not available for status through the cluster");
    auto two = read_domain(classify_cluster_words({"status", "a.example", "b.example"}), true);
    ASSERT_FALSE(two);
    EXPECT_EQ(two.error().kind, ErrorKind::BadInput);
    auto bad = read_domain(classify_cluster_words({"credentials", "bad..example"}), false);
    ASSERT_FALSE(bad);
    EXPECT_TRUE(bad.error().message.starts_with("domain: ")) << bad.error().message;
}

}  // namespace
}  // namespace jailctl
