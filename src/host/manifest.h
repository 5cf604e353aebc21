// manifest.json: the first entry of every jailctl archive (backup and export share one format).
// It describes the jail the archive came from and carries the sha256 of the archive's content,
// so that a restore can check the whole archive before it creates anything. See archive.h for
// the archive layout and the definition of the content digest.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "util/result.h"

namespace jailctl {

inline constexpr const char* kArchiveFormat = "jailctl-archive";
inline constexpr int kArchiveFormatVersion = 1;
// The manifest is small (a certificate and a few names); a bigger one is not ours.
inline constexpr size_t kMaxManifestBytes = 64 * 1024;

struct Manifest {
    int format_version = kArchiveFormatVersion;
    std::string kind;  // "backup" | "export"
    std::string domain, ip;
    uint64_t size_bytes = 0;
    bool sparse = false;
    std::string ftp_user;
    std::string ftp_password_hash;  // crypt(3) string from the jail's etc/shadow ("" if none)
    std::string ftp_tls;            // "required" | "optional"
    std::string certificate_pem;    // the FTPS certificate (its key stays inside the archived tree)
    std::string profile = "static";  // "static" | "php"; optional: older archives restore as static
    // The web site (optional: archives from before HTTPS lack them and get these defaults).
    // The site certificate and key travel inside the archived tree (etc/ssl/jailctl/site.*).
    std::vector<std::string> aliases;
    bool https_only = false;
    std::string tls = "self-signed";  // "self-signed" | "custom" | "acme"
    std::string jailctl_version;
    std::string jail_created;       // RFC 3339 UTC, from the registry
    std::string archived_at;        // RFC 3339 UTC
    // Content (see archive.h): digest over every rootfs/ entry, number of entries, sum of the
    // regular files' sizes.
    // An archive streamed host to host (export to a pipe) carries no digest up front: the
    // content is read once, as it is sent, and the pinned TLS channel guards it. Such an
    // archive is read only as a stream (import), never from a file (content.digest "streamed").
    bool streamed = false;
    std::string content_sha256;
    uint64_t entries = 0;
    uint64_t file_bytes = 0;
    // How the point-in-time copy was taken (informational).
    std::string snapshot_method;
    double freeze_ms = 0;
};

std::string manifest_to_json(const Manifest& m);
// Parses and validates every field (types, domain and IPv4 syntax, hex digest, sizes).
// Any problem is ErrorKind::BadInput "manifest: <field>: <why>".
Result<Manifest> parse_manifest(const std::string& json);

}  // namespace jailctl
