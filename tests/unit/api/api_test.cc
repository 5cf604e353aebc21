// serve's pure parts: the body -> argv table, tokens and roles, the failure limiter.
#include <gtest/gtest.h>

#include "api/actions.h"
#include "api/auth.h"

namespace jailctl::api {
namespace {

using Args = std::vector<std::string>;

Result<Args> args_of(const std::string& action, const std::string& body, const std::string& domain = "a.example") {
    const ActionSpec* spec = find_action(action);
    EXPECT_NE(spec, nullptr) << action;
    return action_args(*spec, domain, body);
}

std::string error_of(const std::string& action, const std::string& body) {
    auto r = args_of(action, body);
    EXPECT_FALSE(r) << action << " " << body;
    return r ? "" : r.error().message;
}

TEST(ActionArgs, CreateMapsEveryFieldToOneArgvEntry) {
    auto r = args_of("create", R"({"domain":"example.com","ip":"203.0.113.5","size":"1G","memory":536870912,)"
                               R"("cpus":0.5,"pids":64,"sparse":true,"ftp_tls":"optional"})");
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(*r, (Args{"create", "--ip=203.0.113.5", "--size=1G", "--memory=536870912", "--cpus=0.5", "--pids=64",
                        "--sparse", "--ftp-tls=optional", "--", "example.com"}));
}

TEST(ActionArgs, ValuesStartingWithADashStayValues) {
    auto r = args_of("create", R"({"domain":"--force","ip":"-1","size":"--all"})");
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, (Args{"create", "--ip=-1", "--size=--all", "--", "--force"}));
    auto g = args_of("grow", R"({"size":"2G"})", "-x.example");
    ASSERT_TRUE(g);
    EXPECT_EQ(*g, (Args{"grow", "--size=2G", "--", "-x.example"}));
}

TEST(ActionArgs, FalseFlagsAndEmptyBodies) {
    EXPECT_EQ(*args_of("destroy", R"({"force":false})"), (Args{"destroy", "--", "a.example"}));
    EXPECT_EQ(*args_of("destroy", R"({"force":true})"), (Args{"destroy", "--force", "--", "a.example"}));
    EXPECT_EQ(*args_of("start", ""), (Args{"start", "--", "a.example"}));
    EXPECT_EQ(*args_of("start", " {} "), (Args{"start", "--", "a.example"}));
    EXPECT_EQ(*args_of("clone", R"({"domain":"b.example","ip":"203.0.113.9"})"),
              (Args{"clone", "--ip=203.0.113.9", "--", "a.example", "b.example"}));
}

// Issue 10: renew is a jail's action; renew-all (POST /renew) runs the host's renew --all.
TEST(ActionArgs, RenewAndRenewAll) {
    EXPECT_EQ(*args_of("renew", "{}"), (Args{"renew", "--", "a.example"}));
    EXPECT_EQ(*args_of("renew", R"({"days":10})"), (Args{"renew", "--days=10", "--", "a.example"}));
    EXPECT_EQ(*args_of("renew-all", R"({"days":10})", ""), (Args{"renew", "--all", "--days=10", "--"}));
    EXPECT_EQ(error_of("renew", R"({"days":true})"), "days: must be a whole number from 0 (or its string)");
    EXPECT_EQ(error_of("set", R"({"pids":-1})"), "pids: must be a whole number from 0 (or its string)");
    EXPECT_EQ(find_action("renew")->role, Role::Operator);
    EXPECT_FALSE(find_action("renew-all")->path_domain);
}

// Issue 10: exec's command is the positionals after the domain, each item one argv entry (a
// leading dash stays a value); stdin is serve's (the child's stdin), never an argument.
TEST(ActionArgs, ExecCommandIsOneArgvEntryPerItem) {
    EXPECT_EQ(*args_of("exec", R"({"command":["/bin/sh","-c","echo a; exit 3"]})"),
              (Args{"exec", "--", "a.example", "/bin/sh", "-c", "echo a; exit 3"}));
    EXPECT_EQ(*args_of("exec", R"({"command":["--help"],"user":"ftp1","stdin":"x\n","timeout":5})"),
              (Args{"exec", "--user=ftp1", "--timeout=5", "--", "a.example", "--help"}));
    EXPECT_EQ(error_of("exec", "{}"), "command: is required");
    EXPECT_EQ(error_of("exec", R"({"command":[]})"), "command: must be a non-empty array of strings");
    EXPECT_EQ(error_of("exec", R"({"command":"ls"})"), "command: must be a non-empty array of strings");
    EXPECT_EQ(error_of("exec", R"({"command":["ls",1]})"), "command: must be a non-empty array of strings");
    EXPECT_EQ(error_of("exec", R"({"command":["a\u0000b"]})"), "command: must not contain a NUL character");
    EXPECT_NE(error_of("exec", R"({"command":["ls"],"cwd":"/"})").find("cwd: unknown field for exec"), std::string::npos);
}

// Issue 10: import-site through the cluster is create's fields and the upload, which serve opens
// (the task's /dev/fd/4), never an argument.
TEST(ActionArgs, ImportSiteIsCreatesFieldsAndAnUpload) {
    const std::string id = "0123456789abcdef0123456789abcdef";
    EXPECT_EQ(*args_of("import-site", R"({"domain":"s.example","ip":"203.0.113.5","size":"64M","upload":")" + id + R"("})", ""),
              (Args{"import-site", "--ip=203.0.113.5", "--size=64M", "--", "s.example"}));
    EXPECT_EQ(error_of("import-site", R"({"domain":"s.example","ip":"203.0.113.5","size":"64M"})"), "upload: is required");
    EXPECT_EQ(find_action("import-site")->role, Role::Admin);
}

// Issue 12: aliases are actions of their own (a verb and its subcommand); https_only is a
// three-state field of set (absent: unchanged, true, false).
TEST(ActionArgs, AliasesAndHttpsOnly) {
    EXPECT_EQ(*args_of("alias-add", R"({"name":"shop.example.org"})"),
              (Args{"alias", "add", "--", "a.example", "shop.example.org"}));
    EXPECT_EQ(*args_of("alias-remove", R"({"name":"-x"})"), (Args{"alias", "remove", "--", "a.example", "-x"}));
    EXPECT_EQ(error_of("alias-add", "{}"), "name: is required");
    EXPECT_EQ(*args_of("set", R"({"https_only":true})"), (Args{"set", "--https-only", "--", "a.example"}));
    EXPECT_EQ(*args_of("set", R"({"https_only":false})"), (Args{"set", "--no-https-only", "--", "a.example"}));
    EXPECT_EQ(*args_of("set", R"({"tls_auto":true})"), (Args{"set", "--tls-auto", "--", "a.example"}));
    EXPECT_EQ(*args_of("set", R"({"pids":64})"), (Args{"set", "--pids=64", "--", "a.example"}));
}

struct Bad {
    const char* action;
    const char* body;
    const char* field;  // the message starts with "<field>: "
};

TEST(ActionArgs, BadBodiesNameTheField) {
    const Bad table[] = {
        {"create", "{", "body"},
        {"create", "[]", "body"},
        {"create", "\"x\"", "body"},
        {"create", "null", "body"},
        {"create", "12", "body"},
        {"create", R"({"ip":"203.0.113.5","size":"1G"})", "domain"},
        {"create", R"({"domain":"a.b","size":"1G"})", "ip"},
        {"create", R"({"domain":"a.b","ip":"203.0.113.5"})", "size"},
        {"create", R"({"domain":1,"ip":"203.0.113.5","size":"1G"})", "domain"},
        {"create", R"({"domain":"a.b","ip":5,"size":"1G"})", "ip"},
        {"create", R"({"domain":"a.b","ip":"203.0.113.5","size":true})", "size"},
        {"create", R"({"domain":"a.b","ip":"203.0.113.5","size":-1})", "size"},
        {"create", R"({"domain":"a.b","ip":"203.0.113.5","size":1.5})", "size"},
        {"create", R"({"domain":"a.b","ip":"203.0.113.5","size":"1G","sparse":"yes"})", "sparse"},
        {"create", R"({"domain":"a.b","ip":"203.0.113.5","size":"1G","pids":-3})", "pids"},
        {"create", R"({"domain":"a.b","ip":"203.0.113.5","size":"1G","cpus":-1})", "cpus"},
        {"create", R"({"domain":"a.b","ip":"203.0.113.5","size":"1G","cpus":[1]})", "cpus"},
        {"create", R"({"domain":"a.b","ip":"203.0.113.5","size":"1G","memory":{}})", "memory"},
        {"create", R"({"domain":"a.b","ip":"203.0.113.5","size":"1G","ftp_tls":null})", "ftp_tls"},
        {"create", R"({"domain":"a.b","ip":"203.0.113.5","size":"1G","keep_on_failure":true})", "keep_on_failure"},
        {"create", R"({"domain":"a\u0000b","ip":"203.0.113.5","size":"1G"})", "domain"},
        {"create", R"({"domain":"a.b","ip":"203.0.113.5","size":"1G","root":"/"})", "root"},
        {"start", R"({"all":true})", "all"},
        {"stop", R"({"timeout":"x","jobs":2})", "jobs"},
        {"stop", R"({"timeout":true})", "timeout"},
        {"grow", "{}", "size"},
        {"grow", R"({"size":"2G","offline":1})", "offline"},
        {"backup", R"({"output":"/etc/passwd"})", "output"},
        {"clone", R"({"ip":"203.0.113.9"})", "domain"},
        {"set", R"({"memory":"1G","user":"x"})", "user"},
        {"destroy", R"({"force":"true"})", "force"},
    };
    for (const auto& b : table) {
        std::string msg = error_of(b.action, b.body);
        EXPECT_TRUE(msg.starts_with(std::string(b.field) + ": ")) << b.action << " " << b.body << " -> " << msg;
    }
}

TEST(ErrorField, OnlyKnownFields) {
    const ActionSpec* create = find_action("create");
    EXPECT_EQ(error_field(*create, "ip: 203.0.113.5 is already used by jail x"), "ip");
    EXPECT_EQ(error_field(*create, "ftp-tls: must be required or optional"), "ftp_tls");
    EXPECT_EQ(error_field(*create, "domain: x is already registered"), "domain");
    EXPECT_EQ(error_field(*create, "registry: database is locked"), std::nullopt);
    EXPECT_EQ(error_field(*create, "no colon here"), std::nullopt);
}

TEST(ActionTable, RolesFollowTheIssue) {
    for (const char* a : {"create", "destroy", "clone"}) EXPECT_EQ(find_action(a)->role, Role::Admin) << a;
    for (const char* a : {"start", "stop", "restart", "test", "passwd", "fsck", "grow", "backup", "set"})
        EXPECT_EQ(find_action(a)->role, Role::Operator) << a;
    EXPECT_EQ(find_action("exec")->role, Role::Admin);  // root in the jail
    for (const char* a : {"restore", "import", "console"}) EXPECT_EQ(find_action(a)->role, Role::Admin) << a;
}

TEST(ActionTable, AnUploadedArchiveKeepsTheIdentityTheBodyGives) {
    auto args = action_args(*find_action("restore"), "", nlohmann::json{{"upload", "ab"}, {"domain", "b.example"}, {"replace", true}});
    ASSERT_TRUE(args) << args.error().message;
    EXPECT_EQ(*args, (std::vector<std::string>{"restore", "--domain=b.example", "--replace", "--"}));  // serve adds /dev/fd/4
    auto missing = action_args(*find_action("import"), "", nlohmann::json{{"ip", "203.0.113.9"}});
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().message, "upload: is required");
}

TEST(Tokens, RandomHashedAndMatchedByHash) {
    auto a = new_token(), b = new_token();
    ASSERT_TRUE(a && b);
    EXPECT_NE(*a, *b);
    EXPECT_EQ(a->size(), 4u + 64u);
    EXPECT_TRUE(a->starts_with("jct_"));
    // sha256("abc")
    EXPECT_EQ(token_hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    std::vector<TokenRecord> stored = {{"one", "viewer", token_hash(*a), "", ""}, {"two", "admin", token_hash(*b), "", ""}};
    EXPECT_EQ(match_token(stored, *b)->name, "two");
    EXPECT_EQ(match_token(stored, *a)->name, "one");
    EXPECT_FALSE(match_token(stored, a->substr(0, a->size() - 1)));
    EXPECT_FALSE(match_token(stored, token_hash(*a)));  // the stored hash is not a credential
    EXPECT_FALSE(match_token({}, *a));
}

TEST(Tokens, RolesAndNames) {
    EXPECT_TRUE(role_allows(Role::Admin, Role::Operator));
    EXPECT_TRUE(role_allows(Role::Operator, Role::Viewer));
    EXPECT_FALSE(role_allows(Role::Viewer, Role::Operator));
    EXPECT_FALSE(role_allows(Role::Operator, Role::Admin));
    EXPECT_EQ(parse_role("operator"), Role::Operator);
    EXPECT_FALSE(parse_role("root"));
    EXPECT_FALSE(parse_role("Admin"));
    EXPECT_TRUE(check_token_name("billing-system_1.prod"));
    for (const char* bad : {"", "-x", ".x", "a b", "a/b", "a;b"}) EXPECT_FALSE(check_token_name(bad)) << bad;
    EXPECT_FALSE(check_token_name(std::string(65, 'a')));
}

TEST(FailureLimiter, BlocksAfterFiveFailuresInAMinuteThenForgets) {
    FailureLimiter limiter(5, std::chrono::seconds(60));
    auto t0 = FailureLimiter::Clock::time_point{} + std::chrono::hours(1);
    for (int i = 0; i < 5; ++i) {
        EXPECT_EQ(limiter.blocked_for("198.51.100.7", t0), 0) << i;
        limiter.failed("198.51.100.7", t0 + std::chrono::seconds(i));
    }
    EXPECT_GT(limiter.blocked_for("198.51.100.7", t0 + std::chrono::seconds(5)), 0);
    EXPECT_LE(limiter.blocked_for("198.51.100.7", t0 + std::chrono::seconds(5)), 55);
    EXPECT_EQ(limiter.blocked_for("198.51.100.8", t0 + std::chrono::seconds(5)), 0);  // per address
    EXPECT_EQ(limiter.blocked_for("198.51.100.7", t0 + std::chrono::seconds(60)), 0);  // the first one expired
    EXPECT_EQ(limiter.blocked_for("198.51.100.7", t0 + std::chrono::seconds(200)), 0);
}

}  // namespace
}  // namespace jailctl::api
