#include "services/certificate.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

#include "jail/domain.h"
#include "util/text.h"

namespace jailctl {
namespace {

template <auto Free>
struct Deleter {
    template <class T>
    void operator()(T* p) const { Free(p); }
};
using Bio = std::unique_ptr<BIO, Deleter<BIO_free_all>>;
using Pkey = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using Bignum = std::unique_ptr<BIGNUM, Deleter<BN_free>>;
using GeneralNames = std::unique_ptr<GENERAL_NAMES, Deleter<GENERAL_NAMES_free>>;
using Extension = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION_free>>;

// "<what>: <OpenSSL's first queued error>" and the queue cleared.
std::unexpected<Error> fail_ssl(const std::string& what) {
    unsigned long code = ERR_get_error();
    std::string reason = "unknown OpenSSL error";
    if (code != 0) {
        char buf[256];
        ERR_error_string_n(code, buf, sizeof buf);
        reason = buf;
    }
    ERR_clear_error();
    return fail(what + ": " + reason);
}

std::string bio_contents(BIO* bio) {
    char* data = nullptr;
    long len = BIO_get_mem_data(bio, &data);
    return len > 0 ? std::string(data, static_cast<std::size_t>(len)) : std::string();
}

std::string fingerprint_of(X509* cert) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!X509_digest(cert, EVP_sha256(), md, &len)) return {};
    return hex({md, len}, {.upper = true, .separator = ':'});
}

Result<void> set_random_serial(X509* cert) {
    Bignum bn(BN_new());
    // 127 random bits: positive, at most 16 bytes of DER, unpredictable (CA/B BR want >= 64).
    if (!bn || !BN_rand(bn.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) ||
        !BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert)))
        return fail_ssl("certificate: random serial");
    return {};
}

// Subject and issuer (self-signed): CN=<domain> when it fits the 64 characters X.509 allows a
// common name (RFC 5280 ub-common-name), else O=jailctl without a CN. Clients match the host
// against the SAN, which always holds every name (RFC 6125), so the CN is informational.
Result<void> set_names(X509* cert, const std::string& domain) {
    constexpr size_t kMaxCommonName = 64;
    X509_NAME* name = X509_get_subject_name(cert);
    const bool cn = domain.size() <= kMaxCommonName;
    const std::string value = cn ? domain : "jailctl";
    if (!X509_NAME_add_entry_by_txt(name, cn ? "CN" : "O", MBSTRING_UTF8,
                                    reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1, 0) ||
        !X509_set_issuer_name(cert, name))
        return fail_ssl("certificate: subject " + std::string(cn ? "CN=" : "O=") + value);
    return {};
}

Result<void> add_dns_name(GENERAL_NAMES* names, const std::string& dns) {
    GENERAL_NAME* gn = GENERAL_NAME_new();
    ASN1_IA5STRING* ia5 = ASN1_IA5STRING_new();
    if (!gn || !ia5 || !ASN1_STRING_set(ia5, dns.data(), static_cast<int>(dns.size()))) {
        GENERAL_NAME_free(gn);
        ASN1_IA5STRING_free(ia5);
        return fail_ssl("certificate: SAN DNS:" + dns);
    }
    GENERAL_NAME_set0_value(gn, GEN_DNS, ia5);
    if (!sk_GENERAL_NAME_push(names, gn)) {
        GENERAL_NAME_free(gn);
        return fail_ssl("certificate: SAN DNS:" + dns);
    }
    return {};
}

// The SAN is built as structures, not from a "DNS:...,IP:..." string, so no input can
// smuggle in another name.
Result<void> add_subject_alt_names(X509* cert, const std::string& domain, const std::string& ip,
                                   const std::vector<std::string>& aliases) {
    GeneralNames names(sk_GENERAL_NAME_new_null());
    if (!names) return fail_ssl("certificate: SAN");
    for (const auto& host : host_names(domain))
        if (auto r = add_dns_name(names.get(), host); !r) return r;
    for (const auto& host : aliases)
        if (auto r = add_dns_name(names.get(), host); !r) return r;
    ASN1_OCTET_STRING* addr = a2i_IPADDRESS(ip.c_str());
    if (!addr) return fail_input("ip", "'" + ip + "' is not an IP address for the certificate");
    GENERAL_NAME* gn = GENERAL_NAME_new();
    if (!gn) {
        ASN1_OCTET_STRING_free(addr);
        return fail_ssl("certificate: SAN IP:" + ip);
    }
    GENERAL_NAME_set0_value(gn, GEN_IPADD, addr);
    if (!sk_GENERAL_NAME_push(names.get(), gn)) {
        GENERAL_NAME_free(gn);
        return fail_ssl("certificate: SAN IP:" + ip);
    }
    if (!X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT))
        return fail_ssl("certificate: SAN extension");
    return {};
}

Result<void> add_extension(X509* cert, int nid, const char* value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
    Extension ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
    if (!ext || !X509_add_ext(cert, ext.get(), -1))
        return fail_ssl(std::string("certificate: extension ") + OBJ_nid2sn(nid) + "=" + value);
    return {};
}

Result<void> add_extensions(X509* cert, const std::string& domain, const std::string& ip,
                            const std::vector<std::string>& aliases) {
    // No keyUsage: OpenSSL only treats a self-signed certificate as its own issuer (a trust
    // anchor for the probe) when a keyUsage, if present, includes keyCertSign.
    if (auto r = add_extension(cert, NID_basic_constraints, "critical,CA:FALSE"); !r) return r;
    if (auto r = add_extension(cert, NID_ext_key_usage, "serverAuth"); !r) return r;
    if (auto r = add_extension(cert, NID_subject_key_identifier, "hash"); !r) return r;
    return add_subject_alt_names(cert, domain, ip, aliases);
}

Result<std::string> pem_of_cert(X509* cert) {
    Bio bio(BIO_new(BIO_s_mem()));
    if (!bio || !PEM_write_bio_X509(bio.get(), cert)) return fail_ssl("certificate: write PEM");
    return bio_contents(bio.get());
}

Result<std::string> pem_of_key(EVP_PKEY* key) {
    Bio bio(BIO_new(BIO_s_mem()));
    if (!bio || !PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr))
        return fail_ssl("certificate: write private key PEM");
    return bio_contents(bio.get());
}

std::string name_text(const X509_NAME* name) {
    Bio bio(BIO_new(BIO_s_mem()));
    if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) return {};
    return bio_contents(bio.get());
}

std::string rfc3339(const ASN1_TIME* t, std::time_t* out) {
    std::tm tm{};
    if (!ASN1_TIME_to_tm(t, &tm)) return {};
    if (out) *out = timegm(&tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

std::vector<std::string> dns_names_of(X509* cert) {
    std::vector<std::string> out;
    GeneralNames names(static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
    if (!names) return out;
    for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
        const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names.get(), i);
        if (gn->type != GEN_DNS) continue;
        const ASN1_IA5STRING* dns = gn->d.dNSName;
        out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)),
                         static_cast<std::size_t>(ASN1_STRING_length(dns)));
    }
    return out;
}

Result<CertificateFacts> facts_of(X509* cert) {
    CertificateFacts f;
    f.fingerprint = fingerprint_of(cert);
    f.not_before = rfc3339(X509_get0_notBefore(cert), nullptr);
    f.not_after = rfc3339(X509_get0_notAfter(cert), &f.not_after_time);
    if (f.fingerprint.empty() || f.not_before.empty() || f.not_after.empty())
        return fail_ssl("certificate: fingerprint and validity");
    f.subject = name_text(X509_get_subject_name(cert));
    f.issuer = name_text(X509_get_issuer_name(cert));
    EVP_PKEY* pub = X509_get0_pubkey(cert);
    f.self_signed = X509_check_issued(cert, cert) == X509_V_OK && pub && X509_verify(cert, pub) == 1;
    ERR_clear_error();
    f.dns_names = dns_names_of(cert);
    return f;
}

// Every certificate of a PEM text, in order; none is BadInput for `field`.
Result<std::vector<X509Ptr>> read_certificates(const std::string& pem, const std::string& field) {
    Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (!bio) return fail_ssl("read certificate");
    std::vector<X509Ptr> certs;
    while (X509* c = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) certs.emplace_back(c);
    unsigned long last = ERR_peek_last_error();
    ERR_clear_error();
    // The loop ends at the end of the text (PEM_R_NO_START_LINE); anything else is a damaged block.
    if (last != 0 && !(ERR_GET_LIB(last) == ERR_LIB_PEM && ERR_GET_REASON(last) == PEM_R_NO_START_LINE))
        return fail_input(field, "a PEM block is damaged (" + std::string(ERR_reason_error_string(last) ? ERR_reason_error_string(last) : "unreadable") + ")");
    if (certs.empty()) return fail_input(field, "holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
    return certs;
}

}  // namespace

Result<CertificateFacts> certificate_facts(const std::string& cert_pem) {
    ERR_clear_error();
    auto certs = read_certificates(cert_pem, "certificate");
    if (!certs) return std::unexpected(certs.error());
    return facts_of(certs->front().get());
}

Result<CertificateFacts> check_site_certificate(const std::string& cert_pem, const std::string& key_pem,
                                                const std::vector<std::string>& names, std::time_t now) {
    ERR_clear_error();
    if (cert_pem.find("PRIVATE KEY-----") != std::string::npos)
        return fail_input("tls-cert", "holds a private key: give the certificates only, the key with --tls-key");
    auto certs = read_certificates(cert_pem, "tls-cert");
    if (!certs) return std::unexpected(certs.error());
    X509* leaf = certs->front().get();
    if (key_pem.find("ENCRYPTED") != std::string::npos)
        return fail_input("tls-key", "is encrypted: nginx starts unattended, give the key without a passphrase "
                                     "(openssl pkey -in KEY -out PLAIN)");
    Bio kbio(BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())));
    Pkey key(kbio ? PEM_read_bio_PrivateKey(kbio.get(), nullptr, nullptr, nullptr) : nullptr);
    ERR_clear_error();
    if (!key) return fail_input("tls-key", "holds no PEM private key (-----BEGIN PRIVATE KEY-----)");
    if (X509_check_private_key(leaf, key.get()) != 1) {
        ERR_clear_error();
        return fail_input("tls-key", "does not match the certificate (the first one in --tls-cert)");
    }
    auto facts = facts_of(leaf);
    if (!facts) return std::unexpected(facts.error());
    if (X509_cmp_time(X509_get0_notBefore(leaf), &now) > 0)
        return fail_input("tls-cert", "is not valid yet: valid from " + facts->not_before);
    if (X509_cmp_time(X509_get0_notAfter(leaf), &now) < 0)
        return fail_input("tls-cert", "expired on " + facts->not_after);
    for (const auto& name : names)
        if (X509_check_host(leaf, name.data(), name.size(), 0, nullptr) != 1) {
            ERR_clear_error();
            std::string has;
            for (const auto& d : facts->dns_names) has += (has.empty() ? "" : ", ") + d;
            return fail_input("tls-cert", "does not cover " + name + " (it names: " + (has.empty() ? "no DNS name" : has) +
                                              "); the site answers " + name + ", so its certificate must name it");
        }
    return facts;
}

Result<Certificate> make_certificate(const std::string& domain, const std::string& ip,
                                     const std::vector<std::string>& aliases) {
    if (domain.empty()) return fail_input("domain", "is empty");
    ERR_clear_error();
    Pkey key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
    if (!key) return fail_ssl("certificate for " + domain + ": generate ECDSA P-256 key");
    X509Ptr cert(X509_new());
    if (!cert || !X509_set_version(cert.get(), X509_VERSION_3)) return fail_ssl("certificate for " + domain);
    if (auto r = set_random_serial(cert.get()); !r) return std::unexpected(r.error());
    // Valid from an hour ago, so a jail host whose clock is slightly behind accepts it too.
    if (!X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) ||
        !X509_time_adj_ex(X509_getm_notAfter(cert.get()), kCertificateValidityDays, 0, nullptr))
        return fail_ssl("certificate for " + domain + ": validity");
    if (!X509_set_pubkey(cert.get(), key.get())) return fail_ssl("certificate for " + domain + ": public key");
    if (auto r = set_names(cert.get(), domain); !r) return std::unexpected(r.error());
    if (auto r = add_extensions(cert.get(), domain, ip, aliases); !r) return std::unexpected(r.error());
    if (!X509_sign(cert.get(), key.get(), EVP_sha256())) return fail_ssl("certificate for " + domain + ": sign");

    auto cert_pem = pem_of_cert(cert.get());
    if (!cert_pem) return std::unexpected(cert_pem.error());
    auto key_pem = pem_of_key(key.get());
    if (!key_pem) return std::unexpected(key_pem.error());
    std::string fp = fingerprint_of(cert.get());
    if (fp.empty()) return fail_ssl("certificate for " + domain + ": SHA-256 fingerprint");
    return Certificate{std::move(*cert_pem), std::move(*key_pem), std::move(fp)};
}

Result<std::string> certificate_fingerprint(const std::string& cert_pem) {
    ERR_clear_error();
    Bio bio(BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size())));
    if (!bio) return fail_ssl("read certificate");
    X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) return fail_ssl("read certificate (PEM)");
    std::string fp = fingerprint_of(cert.get());
    if (fp.empty()) return fail_ssl("certificate: SHA-256 fingerprint");
    return fp;
}

}  // namespace jailctl
