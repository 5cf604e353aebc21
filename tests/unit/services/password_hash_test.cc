#include <gtest/gtest.h>

#include "services/password_hash.h"

namespace jailctl {
namespace {

TEST(PasswordHash, YescryptThatVerifies) {
    auto hash = hash_password("correct horse battery staple");
    ASSERT_TRUE(hash) << hash.error().message;
    EXPECT_EQ(hash->rfind("$y$", 0), 0u) << *hash;
    EXPECT_TRUE(verify_password("correct horse battery staple", *hash));
    EXPECT_FALSE(verify_password("correct horse battery stapl", *hash));
    EXPECT_FALSE(verify_password("", *hash));
}

TEST(PasswordHash, SaltedSoTwoHashesDiffer) {
    auto a = hash_password("same password");
    auto b = hash_password("same password");
    ASSERT_TRUE(a && b);
    EXPECT_NE(*a, *b);
    EXPECT_TRUE(verify_password("same password", *a));
    EXPECT_TRUE(verify_password("same password", *b));
}

TEST(PasswordHash, RefusesEmptyAndNul) {
    auto empty = hash_password("");
    ASSERT_FALSE(empty);
    EXPECT_EQ(empty.error().kind, ErrorKind::BadInput);
    using namespace std::string_view_literals;
    EXPECT_FALSE(hash_password("ab\0cd"sv));
}

TEST(PasswordHash, LockedOrGarbageHashesNeverVerify) {
    EXPECT_FALSE(verify_password("x", "!"));
    EXPECT_FALSE(verify_password("x", "*"));
    EXPECT_FALSE(verify_password("x", ""));
    EXPECT_FALSE(verify_password("x", "$y$garbage"));
}

}  // namespace
}  // namespace jailctl
