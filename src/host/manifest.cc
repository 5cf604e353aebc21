#include "host/manifest.h"

#include <nlohmann/json.hpp>

#include "jail/domain.h"
#include "jail/ipv4.h"

namespace jailctl {
namespace {

using nlohmann::json;

std::unexpected<Error> invalid_manifest(const std::string& field, const std::string& why) {
    return fail_input("manifest: " + field, why);
}

bool is_hex64(const std::string& s) {
    if (s.size() != 64) return false;
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

// Text that ends up in jail files or messages: printable, no line breaks, bounded.
bool is_plain_text(const std::string& s, size_t max) {
    if (s.size() > max) return false;
    for (unsigned char c : s)
        if (c < 0x20 || c == 0x7f) return false;
    return true;
}

template <class T>
Result<T> get(const json& j, const char* field) {
    auto it = j.find(field);
    if (it == j.end()) return invalid_manifest(field, "missing");
    if constexpr (std::is_same_v<T, std::string>) {
        if (!it->is_string()) return invalid_manifest(field, "not a string");
    } else if constexpr (std::is_same_v<T, bool>) {
        if (!it->is_boolean()) return invalid_manifest(field, "not a boolean");
    } else if constexpr (std::is_same_v<T, double>) {
        if (!it->is_number()) return invalid_manifest(field, "not a number");
    } else {
        if (!it->is_number_unsigned()) return invalid_manifest(field, "not a non-negative integer");
    }
    return it->get<T>();
}

}  // namespace

std::string manifest_to_json(const Manifest& m) {
    json j = {
        {"format", kArchiveFormat},
        {"format_version", m.format_version},
        {"kind", m.kind},
        {"domain", m.domain},
        {"ip", m.ip},
        {"size_bytes", m.size_bytes},
        {"sparse", m.sparse},
        {"ftp_user", m.ftp_user},
        {"ftp_password_hash", m.ftp_password_hash},
        {"ftp_tls", m.ftp_tls},
        {"certificate_pem", m.certificate_pem},
        {"profile", m.profile},
        {"aliases", m.aliases},
        {"https_only", m.https_only},
        {"tls", m.tls},
        {"jailctl_version", m.jailctl_version},
        {"jail_created", m.jail_created},
        {"archived_at", m.archived_at},
        {"content", m.streamed ? nlohmann::json{{"digest", "streamed"}}
                               : nlohmann::json{{"digest", "sha256-entries-v1"}, {"sha256", m.content_sha256},
                                                {"entries", m.entries}, {"file_bytes", m.file_bytes}}},
        {"snapshot", {{"method", m.snapshot_method}, {"freeze_ms", m.freeze_ms}}},
    };
    return j.dump(2) + "\n";
}

Result<Manifest> parse_manifest(const std::string& text) {
    if (text.size() > kMaxManifestBytes) return invalid_manifest("size", "more than 64 KiB");
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return invalid_manifest("json", "not a JSON object");
    Manifest m;
#define JC_GET(T, var, field)                               \
    do {                                                    \
        auto v_ = get<T>(j, field);                         \
        if (!v_) return std::unexpected(v_.error());        \
        var = *v_;                                          \
    } while (0)
    std::string format;
    JC_GET(std::string, format, "format");
    if (format != kArchiveFormat) return invalid_manifest("format", "'" + format + "' is not a jailctl archive");
    uint64_t version = 0;
    JC_GET(uint64_t, version, "format_version");
    if (version != static_cast<uint64_t>(kArchiveFormatVersion))
        return invalid_manifest("format_version", std::to_string(version) + " is not supported (this jailctl reads " +
                                         std::to_string(kArchiveFormatVersion) + ")");
    JC_GET(std::string, m.kind, "kind");
    if (m.kind != "backup" && m.kind != "export") return invalid_manifest("kind", "'" + m.kind + "' is not backup or export");
    JC_GET(std::string, m.domain, "domain");
    auto domain = Domain::parse(m.domain);
    if (!domain || domain->str() != m.domain) return invalid_manifest("domain", "'" + m.domain + "' is not a valid domain");
    JC_GET(std::string, m.ip, "ip");
    auto ip = Ipv4::parse_syntax(m.ip);
    if (!ip || ip->str() != m.ip) return invalid_manifest("ip", "'" + m.ip + "' is not a canonical IPv4 address");
    JC_GET(uint64_t, m.size_bytes, "size_bytes");
    if (m.size_bytes == 0 || m.size_bytes % 4096 != 0 || m.size_bytes > (1ull << 44))
        return invalid_manifest("size_bytes", std::to_string(m.size_bytes) + " is not a disk size (4 KiB multiple, <= 16 TiB)");
    JC_GET(bool, m.sparse, "sparse");
    JC_GET(std::string, m.ftp_user, "ftp_user");
    if (m.ftp_user.empty() || m.ftp_user.size() > 32 ||
        m.ftp_user.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-.") != std::string::npos)
        return invalid_manifest("ftp_user", "'" + m.ftp_user + "' is not a valid account name");
    JC_GET(std::string, m.ftp_password_hash, "ftp_password_hash");
    if (!is_plain_text(m.ftp_password_hash, 512) || m.ftp_password_hash.find(':') != std::string::npos)
        return invalid_manifest("ftp_password_hash", "not a crypt(3) string");
    JC_GET(std::string, m.ftp_tls, "ftp_tls");
    if (m.ftp_tls != "required" && m.ftp_tls != "optional")
        return invalid_manifest("ftp_tls", "'" + m.ftp_tls + "' is not required or optional");
    JC_GET(std::string, m.certificate_pem, "certificate_pem");
    if (!m.certificate_pem.empty() && m.certificate_pem.rfind("-----BEGIN CERTIFICATE-----", 0) != 0)
        return invalid_manifest("certificate_pem", "not a PEM certificate");
    if (j.contains("profile")) {  // added with the php profile: archives made before have none
        JC_GET(std::string, m.profile, "profile");
        if (m.profile != "static" && m.profile != "php")
            return invalid_manifest("profile", "'" + m.profile + "' is not static or php");
    }
    if (auto a = j.find("aliases"); a != j.end()) {
        if (!a->is_array() || a->size() > 100) return invalid_manifest("aliases", "not an array of at most 100 names");
        for (const auto& name : *a) {
            auto d = name.is_string() ? Domain::parse(name.get<std::string>()) : Result<Domain>(std::unexpected(Error{}));
            if (!d || d->str() != name.get<std::string>())
                return invalid_manifest("aliases", "an entry is not a canonical domain name");
            m.aliases.push_back(d->str());
        }
    }
    if (j.contains("https_only")) JC_GET(bool, m.https_only, "https_only");
    if (j.contains("tls")) {
        JC_GET(std::string, m.tls, "tls");
        if (m.tls != "self-signed" && m.tls != "custom" && m.tls != "acme")
            return invalid_manifest("tls", "'" + m.tls + "' is not self-signed, custom or acme");
    }
    JC_GET(std::string, m.jailctl_version, "jailctl_version");
    JC_GET(std::string, m.jail_created, "jail_created");
    JC_GET(std::string, m.archived_at, "archived_at");
    for (const auto* s : {&m.jailctl_version, &m.jail_created, &m.archived_at})
        if (!is_plain_text(*s, 64)) return invalid_manifest("jailctl_version/jail_created/archived_at", "not plain text");
    auto content = j.find("content");
    if (content == j.end() || !content->is_object()) return invalid_manifest("content", "missing or not an object");
    std::string digest;
    {
        auto d = get<std::string>(*content, "digest");
        if (!d) return invalid_manifest("content.digest", "missing or not a string");
        digest = *d;
    }
    m.streamed = digest == "streamed";
    if (digest != "sha256-entries-v1" && !m.streamed)
        return invalid_manifest("content.digest", "'" + digest + "' is not supported");
    if (!m.streamed) {  // a stream's content is checked entry by entry only
        auto sha = get<std::string>(*content, "sha256");
        if (!sha || !is_hex64(*sha)) return invalid_manifest("content.sha256", "not 64 lowercase hex digits");
        m.content_sha256 = *sha;
        auto entries = get<uint64_t>(*content, "entries");
        if (!entries) return invalid_manifest("content.entries", "missing or not a non-negative integer");
        m.entries = *entries;
        auto bytes = get<uint64_t>(*content, "file_bytes");
        if (!bytes) return invalid_manifest("content.file_bytes", "missing or not a non-negative integer");
        m.file_bytes = *bytes;
    }
    if (auto snap = j.find("snapshot"); snap != j.end() && snap->is_object()) {
        if (auto meth = get<std::string>(*snap, "method"); meth && is_plain_text(*meth, 32)) m.snapshot_method = *meth;
        if (auto ms = get<double>(*snap, "freeze_ms"); ms) m.freeze_ms = *ms;
    }
#undef JC_GET
    return m;
}

}  // namespace jailctl
