// manifest.json: round trip and validation of every field (host/manifest.h).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "host/manifest.h"

namespace jailctl {
namespace {

Manifest sample() {
    Manifest m;
    m.kind = "backup";
    m.domain = "example.com";
    m.ip = "203.0.113.10";
    m.size_bytes = 128ull << 20;
    m.ftp_user = "examplecom";
    m.ftp_password_hash = "$y$j9T$salt$hash";
    m.ftp_tls = "required";
    m.certificate_pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    m.jailctl_version = "0.1.0";
    m.jail_created = "2026-11-26T10:00:00.000Z";
    m.archived_at = "2026-11-26T11:00:00.000Z";
    m.content_sha256 = std::string(64, 'a');
    m.entries = 61;
    m.file_bytes = 7062;
    m.snapshot_method = "extent-copy";
    m.freeze_ms = 4.5;
    return m;
}

TEST(Manifest, RoundTrip) {
    auto m = parse_manifest(manifest_to_json(sample()));
    ASSERT_TRUE(m) << m.error().message;
    EXPECT_EQ("example.com", m->domain);
    EXPECT_EQ("203.0.113.10", m->ip);
    EXPECT_EQ(128ull << 20, m->size_bytes);
    EXPECT_EQ("$y$j9T$salt$hash", m->ftp_password_hash);
    EXPECT_EQ(std::string(64, 'a'), m->content_sha256);
    EXPECT_EQ(61u, m->entries);
    EXPECT_EQ(7062u, m->file_bytes);
    EXPECT_EQ("extent-copy", m->snapshot_method);
    EXPECT_DOUBLE_EQ(4.5, m->freeze_ms);
}

// A stream's manifest (export to a pipe) has no digest: marked streamed, the rest kept.
TEST(Manifest, StreamedRoundTrip) {
    Manifest in = sample();
    in.streamed = true;
    in.content_sha256.clear(), in.entries = 0, in.file_bytes = 0;
    const std::string text = manifest_to_json(in);
    EXPECT_EQ("streamed", nlohmann::json::parse(text)["content"]["digest"]);
    auto m = parse_manifest(text);
    ASSERT_TRUE(m) << m.error().message;
    EXPECT_TRUE(m->streamed);
    EXPECT_EQ("", m->content_sha256);
    EXPECT_EQ("$y$j9T$salt$hash", m->ftp_password_hash);
    EXPECT_EQ("extent-copy", m->snapshot_method);
    auto file = parse_manifest(manifest_to_json(sample()));
    ASSERT_TRUE(file);
    EXPECT_FALSE(file->streamed);
}

TEST(Manifest, RejectsBadFields) {
    using nlohmann::json;
    struct Case {
        const char* field;
        std::function<void(json&)> change;
    } cases[] = {
        {"json", nullptr},
        {"format", [](json& j) { j["format"] = "tar"; }},
        {"format_version", [](json& j) { j["format_version"] = 2; }},
        {"format_version", [](json& j) { j["format_version"] = "1"; }},
        {"kind", [](json& j) { j["kind"] = "snapshot"; }},
        {"domain", [](json& j) { j["domain"] = "exa mple.com"; }},
        {"domain", [](json& j) { j["domain"] = "../etc"; }},
        {"domain", [](json& j) { j["domain"] = "EXAMPLE.com"; }},  // not canonical
        {"domain", [](json& j) { j.erase("domain"); }},
        {"ip", [](json& j) { j["ip"] = "010.1.1.1"; }},
        {"ip", [](json& j) { j["ip"] = 5; }},
        {"size_bytes", [](json& j) { j["size_bytes"] = 0; }},
        {"size_bytes", [](json& j) { j["size_bytes"] = 4097; }},
        {"size_bytes", [](json& j) { j["size_bytes"] = -4096; }},
        {"sparse", [](json& j) { j["sparse"] = "no"; }},
        {"ftp_user", [](json& j) { j["ftp_user"] = "root:x"; }},
        {"ftp_user", [](json& j) { j["ftp_user"] = ""; }},
        {"ftp_password_hash", [](json& j) { j["ftp_password_hash"] = "a:b"; }},
        {"ftp_password_hash", [](json& j) { j["ftp_password_hash"] = "a\nroot::0:"; }},
        {"ftp_tls", [](json& j) { j["ftp_tls"] = "never"; }},
        {"certificate_pem", [](json& j) { j["certificate_pem"] = "hello"; }},
        {"archived_at", [](json& j) { j["archived_at"] = "x\ny"; }},
        {"content", [](json& j) { j.erase("content"); }},
        {"content.digest", [](json& j) { j["content"]["digest"] = "md5"; }},
        {"content.sha256", [](json& j) { j["content"]["sha256"] = std::string(64, 'A'); }},
        {"content.sha256", [](json& j) { j["content"]["sha256"] = "abc"; }},
        {"content.entries", [](json& j) { j["content"]["entries"] = -1; }},
        {"content.file_bytes", [](json& j) { j["content"].erase("file_bytes"); }},
    };
    for (const auto& c : cases) {
        std::string text = "{not json";
        if (c.change) {
            json j = json::parse(manifest_to_json(sample()));
            c.change(j);
            text = j.dump();
        }
        auto m = parse_manifest(text);
        ASSERT_FALSE(m) << c.field;
        EXPECT_EQ(ErrorKind::BadInput, m.error().kind) << c.field;
        EXPECT_NE(std::string::npos, m.error().message.find(c.field)) << c.field << ": " << m.error().message;
    }
}

TEST(Manifest, RejectsHugeInput) {
    EXPECT_FALSE(parse_manifest(std::string(kMaxManifestBytes + 1, ' ')));
}

}  // namespace
}  // namespace jailctl
