#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <memory>
#include <set>

#include "services/certificate.h"

namespace jailctl {
namespace {

struct X509Free {
    void operator()(X509* x) const { X509_free(x); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

X509Ptr parse_cert(const std::string& pem) {
    BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    X509Ptr x(PEM_read_bio_X509(bio, nullptr, nullptr, nullptr));
    BIO_free(bio);
    return x;
}

const Certificate& cert() {
    static const Certificate c = [] {
        auto r = make_certificate("shop.example.com", "203.0.113.10");
        EXPECT_TRUE(r) << r.error().message;
        return r ? *r : Certificate{};
    }();
    return c;
}

TEST(Certificate, EcdsaP256KeyMatchingTheCertificate) {
    X509Ptr x = parse_cert(cert().cert_pem);
    ASSERT_TRUE(x);
    BIO* bio = BIO_new_mem_buf(cert().key_pem.data(), static_cast<int>(cert().key_pem.size()));
    EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    ASSERT_NE(key, nullptr);
    EXPECT_EQ(EVP_PKEY_get_base_id(key), EVP_PKEY_EC);
    char group[64] = {};
    size_t len = 0;
    ASSERT_TRUE(EVP_PKEY_get_utf8_string_param(key, "group", group, sizeof group, &len));
    EXPECT_STREQ(group, "prime256v1");
    EXPECT_EQ(X509_check_private_key(x.get(), key), 1);
    EXPECT_EQ(X509_verify(x.get(), key), 1);  // self-signed with this key
    EVP_PKEY_free(key);
    EXPECT_NE(cert().key_pem.find("-----BEGIN PRIVATE KEY-----"), std::string::npos);
}

TEST(Certificate, V3Sha256TenYearsRandomSerial) {
    X509Ptr x = parse_cert(cert().cert_pem);
    ASSERT_TRUE(x);
    EXPECT_EQ(X509_get_version(x.get()), X509_VERSION_3);
    EXPECT_EQ(X509_get_signature_nid(x.get()), NID_ecdsa_with_SHA256);
    int days = 0, secs = 0;
    ASSERT_TRUE(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x.get()), X509_get0_notAfter(x.get())));
    EXPECT_GE(days, 3650);
    EXPECT_LE(days, 3651);
    auto other = make_certificate("shop.example.com", "203.0.113.10");
    ASSERT_TRUE(other);
    X509Ptr y = parse_cert(other->cert_pem);
    EXPECT_NE(ASN1_INTEGER_cmp(X509_get0_serialNumber(x.get()), X509_get0_serialNumber(y.get())), 0);
    EXPECT_NE(other->sha256_fingerprint, cert().sha256_fingerprint);
}

TEST(Certificate, NamesTheDomainWwwAndIp) {
    X509Ptr x = parse_cert(cert().cert_pem);
    ASSERT_TRUE(x);
    char cn[256] = {};
    X509_NAME_get_text_by_NID(X509_get_subject_name(x.get()), NID_commonName, cn, sizeof cn);
    EXPECT_STREQ(cn, "shop.example.com");
    EXPECT_EQ(X509_NAME_cmp(X509_get_subject_name(x.get()), X509_get_issuer_name(x.get())), 0);

    auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x.get(), NID_subject_alt_name, nullptr, nullptr));
    ASSERT_NE(names, nullptr);
    std::set<std::string> dns;
    std::set<std::string> ips;
    for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
        const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, i);
        if (gn->type == GEN_DNS)
            dns.emplace(reinterpret_cast<const char*>(ASN1_STRING_get0_data(gn->d.dNSName)),
                        static_cast<size_t>(ASN1_STRING_length(gn->d.dNSName)));
        if (gn->type == GEN_IPADD) {
            const unsigned char* a = ASN1_STRING_get0_data(gn->d.iPAddress);
            ASSERT_EQ(ASN1_STRING_length(gn->d.iPAddress), 4);
            ips.insert(std::to_string(a[0]) + "." + std::to_string(a[1]) + "." + std::to_string(a[2]) + "." +
                       std::to_string(a[3]));
        }
    }
    GENERAL_NAMES_free(names);
    EXPECT_EQ(dns, (std::set<std::string>{"shop.example.com", "www.shop.example.com"}));
    EXPECT_EQ(ips, (std::set<std::string>{"203.0.113.10"}));
    EXPECT_EQ(X509_check_host(x.get(), "www.shop.example.com", 0, 0, nullptr), 1);
    EXPECT_EQ(X509_check_ip_asc(x.get(), "203.0.113.10", 0), 1);
    EXPECT_NE(X509_check_ip_asc(x.get(), "203.0.113.11", 0), 1);
}

// A name longer than a CN's 64 characters (issue 14, defect 1): no CN, every name in the SAN.
TEST(Certificate, LongNamesLiveInTheSan) {
    const std::string label63(63, 'a');
    for (const std::string& domain : {label63 + ".example", std::string("www.") + label63 + ".example"}) {
        auto c = make_certificate(domain, "203.0.113.10");
        ASSERT_TRUE(c) << domain << ": " << c.error().message;
        X509Ptr x = parse_cert(c->cert_pem);
        ASSERT_TRUE(x);
        EXPECT_EQ(X509_NAME_get_text_by_NID(X509_get_subject_name(x.get()), NID_commonName, nullptr, 0), -1);
        EXPECT_EQ(X509_NAME_cmp(X509_get_subject_name(x.get()), X509_get_issuer_name(x.get())), 0);
        EXPECT_EQ(X509_check_host(x.get(), (label63 + ".example").c_str(), 0, 0, nullptr), 1) << domain;
        EXPECT_EQ(X509_check_host(x.get(), ("www." + label63 + ".example").c_str(), 0, 0, nullptr), 1) << domain;
        EXPECT_NE(X509_check_host(x.get(), ("www.www." + label63 + ".example").c_str(), 0, 0, nullptr), 1) << domain;
    }
    std::string longest;  // 243 characters of short labels
    while (longest.size() < 243 - 8) longest += "abcdefg.";
    longest.resize(243 - 4);
    while (longest.back() == '.') longest.pop_back();
    longest += ".com";
    auto c = make_certificate(longest, "203.0.113.10");
    ASSERT_TRUE(c) << c.error().message;
    X509Ptr x = parse_cert(c->cert_pem);
    EXPECT_EQ(X509_check_host(x.get(), longest.c_str(), 0, 0, nullptr), 1);
}

// What the probe relies on: a store holding only this certificate verifies it, for its IP.
TEST(Certificate, TrustedAsItsOwnAnchor) {
    X509Ptr x = parse_cert(cert().cert_pem);
    ASSERT_TRUE(x);
    X509_STORE* store = X509_STORE_new();
    X509_STORE_add_cert(store, x.get());
    X509_STORE_CTX* ctx = X509_STORE_CTX_new();
    ASSERT_TRUE(X509_STORE_CTX_init(ctx, store, x.get(), nullptr));
    X509_VERIFY_PARAM_set1_ip_asc(X509_STORE_CTX_get0_param(ctx), "203.0.113.10");
    X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
    int ok = X509_verify_cert(ctx);
    EXPECT_EQ(ok, 1) << X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx));
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
}

TEST(Certificate, FingerprintAsOpensslPrintsIt) {
    X509Ptr x = parse_cert(cert().cert_pem);
    ASSERT_TRUE(x);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    ASSERT_TRUE(X509_digest(x.get(), EVP_sha256(), md, &len));
    ASSERT_EQ(len, 32u);
    std::string expected;  // `openssl x509 -fingerprint -sha256`: upper-case hex pairs joined by ':'
    for (unsigned int i = 0; i < len; ++i) {
        char pair[4];
        std::snprintf(pair, sizeof pair, i ? ":%02X" : "%02X", md[i]);
        expected += pair;
    }
    EXPECT_EQ(cert().sha256_fingerprint, expected);
    EXPECT_EQ(cert().sha256_fingerprint.size(), 32u * 3 - 1);
    auto again = certificate_fingerprint(cert().cert_pem);
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ(*again, expected);
    EXPECT_FALSE(certificate_fingerprint("not a certificate"));
}

TEST(Certificate, RefusesAnInvalidIp) {
    auto r = make_certificate("shop.example.com", "203.0.113");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::BadInput);
}

// The SAN carries the aliases after DOMAIN and www.DOMAIN; certificate_facts reads them back.
TEST(Certificate, AliasesInTheSanAndFacts) {
    auto c = make_certificate("shop.example.com", "203.0.113.10", {"shop.example.org", "xn--bcher-kva.example"});
    ASSERT_TRUE(c) << c.error().message;
    auto facts = certificate_facts(c->cert_pem);
    ASSERT_TRUE(facts) << facts.error().message;
    EXPECT_EQ(facts->dns_names, (std::vector<std::string>{"shop.example.com", "www.shop.example.com",
                                                         "shop.example.org", "xn--bcher-kva.example"}));
    EXPECT_TRUE(facts->self_signed);
    EXPECT_EQ(facts->fingerprint, c->sha256_fingerprint);
    EXPECT_GT(facts->not_after_time, ::time(nullptr) + 3649L * 86400);
    EXPECT_EQ(facts->not_after.size(), 20u);  // 2036-12-01T12:00:00Z
}

// Issue 12: a customer's own certificate is checked before anything is installed, every
// refusal naming the option (tls-cert / tls-key).
TEST(SiteCertificate, ChecksKeyValidityNamesAndFormat) {
    const std::vector<std::string> names{"shop.example.com", "www.shop.example.com"};
    const std::time_t now = ::time(nullptr);
    auto chain = cert().cert_pem + cert().cert_pem;  // a leaf and (here: the same) chain certificate
    auto ok = check_site_certificate(chain, cert().key_pem, names, now);
    ASSERT_TRUE(ok) << ok.error().message;
    EXPECT_EQ(ok->fingerprint, cert().sha256_fingerprint);

    auto refused = [&](const std::string& c, const std::string& k, const std::vector<std::string>& n, std::time_t t,
                       const std::string& field, const std::string& why) {
        auto r = check_site_certificate(c, k, n, t);
        ASSERT_FALSE(r) << why;
        EXPECT_EQ(r.error().kind, ErrorKind::BadInput) << r.error().message;
        EXPECT_EQ(r.error().message.rfind(field + ": ", 0), 0u) << r.error().message;
        EXPECT_NE(r.error().message.find(why), std::string::npos) << r.error().message;
    };
    auto other = make_certificate("shop.example.com", "203.0.113.10");
    ASSERT_TRUE(other);
    refused(cert().cert_pem, other->key_pem, names, now, "tls-key", "does not match");
    refused(cert().cert_pem, cert().key_pem, {"shop.example.com", "shop.example.org"}, now, "tls-cert",
            "does not cover shop.example.org");
    refused(cert().cert_pem, cert().key_pem, names, now + 3651L * 86400, "tls-cert", "expired on");
    refused(cert().cert_pem, cert().key_pem, names, now - 86400, "tls-cert", "not valid yet");
    refused("hello", cert().key_pem, names, now, "tls-cert", "no PEM certificate");
    refused(cert().cert_pem, "hello", names, now, "tls-key", "no PEM private key");
    refused(cert().cert_pem + cert().key_pem, cert().key_pem, names, now, "tls-cert", "holds a private key");
    refused(cert().cert_pem, "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
            names, now, "tls-key", "encrypted");
    std::string damaged = cert().cert_pem;
    damaged[damaged.size() / 2] = '*';
    refused(damaged, cert().key_pem, names, now, "tls-cert", "");
}

}  // namespace
}  // namespace jailctl
