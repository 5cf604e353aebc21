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

TEST(PasswordHash, LowestCostForGeneratedPasswords) {
    auto hash = hash_password("x9QmZ2vLrT4kWp8nYs3bHc6d");
    ASSERT_TRUE(hash) << hash.error().message;
    EXPECT_EQ(hash->rfind("$y$j75$", 0), 0u) << *hash;  // cost 1: docs/DECISIONS.md
}

TEST(PasswordHash, HashesOfTheDefaultCostStillVerify) {
    // made by libxcrypt at its default cost (jailctl before 2026-12-03): restored jails keep them
    const std::string old = "$y$j9T$Rk5UEm4bZ2rU0bMvGqjNa1$6TC6ru20ftHq4jplYQOl095ludGkItTPyE5NmB6YzI.";
    EXPECT_TRUE(verify_password("hunter2 at default cost", old));
    EXPECT_FALSE(verify_password("hunter2 at default cosT", old));
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
